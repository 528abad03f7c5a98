"""hrc behaves in a shell: a closed pipe ends it quietly; the embedded services answer locally."""
from __future__ import annotations

import subprocess
import sys

from shared import config
from tests.support.infra import PROJECT

LOUD = ("from hrc.cli import until_the_reader_leaves; import sys; "
        "sys.exit(until_the_reader_leaves(lambda: [print('member ' * 20) "
        "for _ in range(200000)] and 0))")


def test_a_reader_that_closes_the_pipe_gets_no_traceback():
    result = subprocess.run(f"{sys.executable} -c \"{LOUD}\" | head -n 2", shell=True,
                            cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines() == ["member " * 20] * 2
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_embedded_services_listen_on_this_machine_only_unless_told():
    assert config.load({}).nameko_config("intake")["WEB_SERVER_ADDRESS"].startswith("127.0.0.1:")
    told = config.load({"BIND_HOST": "0.0.0.0"}).nameko_config("intake")
    assert told["WEB_SERVER_ADDRESS"].startswith("0.0.0.0:")
