"""Run tests/support/lease_holder.py in a process, and kill it."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.support.infra import PROJECT


class Holder:
    """A process holding rows of ``what`` in the database at ``url`` until SIGKILLed."""

    def __init__(self, url: str, what: str, lease: float):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.lease_holder", "--url", url, "--what", what,
             "--lease", str(lease)],
            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_holding(self, timeout: float = 60) -> str:
        """Block until the holder is inside its work; returns what it holds."""
        deadline = time.monotonic() + timeout
        output = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("holding "):
                return line.split(" ", 1)[1].strip()
        self.kill()
        raise AssertionError("the holder never held a row:\n" + "".join(output))

    def kill(self) -> float:
        """SIGKILL, as the OOM killer or `kill -9` would; returns the monotonic time of death."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process.stdout.close()
        return time.monotonic()
