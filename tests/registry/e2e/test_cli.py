"""The staff CLI against the whole system as ``make run`` starts it: ``hrc run`` (four services,
in-memory broker, SQLite) in a process; ``hrc applications|waves|members`` over HTTP."""
from __future__ import annotations

import json
import re

import pytest
import requests
from sqlalchemy import create_engine, text

from hrc.cli import main as hrc
from tests.support import infra
from tests.support.infra import wait_for

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())


@pytest.fixture
def system(tmp_path):
    started = []

    def start(**env_overrides):
        env = infra.base_env(tmp_path / "var")
        env.update(env_overrides)
        process = infra.ServiceProcess([], env, tmp_path / "hrc.log")
        process.start()
        process.wait_healthy([int(env[f"{s}_PORT"]) for s in ("INTAKE", "REGISTRY")])
        process.env = env
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def cli(capsys, monkeypatch, token, url, *args) -> tuple[int, str, str]:
    monkeypatch.setenv("HRC_STAFF_TOKEN", token)
    capsys.readouterr()
    code = hrc([*args[:2], *args[2:], "--url", url])
    out, err = capsys.readouterr()
    return code, out, err


def count(db: str, sql: str) -> int:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_the_cli_drives_a_whole_review(system, capsys, monkeypatch, tmp_path):
    process = system(STAFF_API_TOKENS="secretariat:cli-test-token")
    url = f"http://127.0.0.1:{process.env['REGISTRY_PORT']}"
    response = requests.post(f"http://127.0.0.1:{process.env['INTAKE_PORT']}/applications",
                             json=EXAMPLE, timeout=10)
    assert response.status_code == 202, response.text
    reference = response.json()["reference"]

    def run(*args):
        return cli(capsys, monkeypatch, "cli-test-token", url, *args)

    def listed():
        code, out, _ = run("applications", "list", "--status", "waitlisted")
        return code == 0 and reference in out and out

    out = infra.wait_for(listed, 30, 0.3, "the application in `hrc applications list`")
    application_id = next(line.split()[0] for line in out.splitlines() if reference in line)

    assert run("waves", "create", "4", "--name-en", "Fourth wave", "--name-fr",
               "Quatrième vague", "--name-es", "Cuarta ola", "--theme-en", "Care",
               "--theme-fr", "Soins", "--theme-es", "Cuidados",
               "--opens-at", "2026-01-01")[0] == 0
    code, out, _ = run("waves", "open", "4")
    assert code == 0 and "1 application(s) from the waiting list now under review" in out
    code, out, _ = run("applications", "accept", application_id, "--json")
    assert code == 0, out
    member_id = json.loads(out)["member"]["id"]

    code, out, _ = run("members", "list", "--wave", "4")
    row = next(line for line in out.splitlines() if "Ville de Grigny" in line)
    assert code == 0 and row.split()[-5:] == ["FR", "Europe", "4", "4", "active"]
    code, out, _ = run("applications", "audit", application_id)
    assert code == 0 and any(line.split()[3:5] == ["secretariat", "accept"]
                             for line in out.splitlines())

    code, _, err = run("applications", "accept", application_id)
    assert code == 1 and "409" in err and "it is accepted" in err

    # The welcome: application.accepted and member.joined left the registry and reached notify.
    var = tmp_path / "var"
    infra.wait_for(lambda: count(var / "registry.db",
                                 "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND "
                                 "type IN ('application.accepted', 'member.joined')") == 2,
                   30, what="the welcome events to be published")
    infra.wait_for(lambda: count(var / "notify.db",
                                 "SELECT count(*) FROM inbox WHERE "
                                 "type = 'application.accepted'") == 1,
                   30, what="notify to receive application.accepted")

    code, out, _ = run("members", "export", str(member_id), "--json")
    assert code == 0 and json.loads(out)["member"]["contact_email"] == EXAMPLE["contact_email"]
    assert run("members", "erase", str(member_id))[0] == 1  # refuses without --yes
    code, out, _ = run("members", "erase", str(member_id), "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "active"
    assert json.loads(out)["contact_email"] is None
    code, out, _ = run("members", "contact", str(member_id), "--name", "Nouvelle Élue",
                       "--email", "elue@grigny.example")
    assert code == 0 and "contact: Nouvelle Élue <elue@grigny.example>" in out
    assert "Traceback" not in process.log()


def test_without_token_configured_one_is_printed_once(system, capsys, monkeypatch, tmp_path):
    process = system()
    url = f"http://127.0.0.1:{process.env['REGISTRY_PORT']}"
    tokens = re.findall(r"HRC_STAFF_TOKEN=(\S+)", process.log())
    assert len(tokens) == 1
    code, _, err = cli(capsys, monkeypatch, "not-the-token", url, "waves", "list")
    assert code == 1 and "401" in err
    code, out, _ = cli(capsys, monkeypatch, tokens[0], url, "waves", "list")
    assert code == 0 and len(out.splitlines()) == 1 + 3  # header, the three historic waves
    assert out.splitlines()[1].split()[:3] == ["1", "closed", "2022-01-01"]
    # The same token opens the reports' staff routes: the registry announced its digest.
    reports = f"http://127.0.0.1:{process.env['REPORTS_PORT']}/reports/progress.json"
    wait_for(lambda: requests.get(reports, headers={"Authorization": f"Bearer {tokens[0]}"},
                                  timeout=5).status_code == 200, 20, what="reports to accept it")
    assert requests.get(reports, headers={"Authorization": "Bearer not-the-token"},
                        timeout=5).status_code == 401
    # And notify's: a person's export is whole with the generated token alone.
    people = f"http://127.0.0.1:{process.env['NOTIFY_PORT']}/api/people"
    wait_for(lambda: requests.get(people, params={"email": "a@example.org"}, timeout=5,
                                  headers={"Authorization": f"Bearer {tokens[0]}"}
                                  ).status_code == 200, 20, what="notify to accept it")
    assert requests.get(people, params={"email": "a@example.org"}, timeout=5,
                        headers={"Authorization": "Bearer not-the-token"}).status_code == 401

    process.stop()
    again = system()
    # The first run's line, and no other: the whole log (log() keeps only its tail, which a busy
    # first run can push the line out of).
    assert re.findall(r"HRC_STAFF_TOKEN=(\S+)", again.log_path.read_text()) == tokens
    url = f"http://127.0.0.1:{again.env['REGISTRY_PORT']}"
    assert cli(capsys, monkeypatch, tokens[0], url, "waves", "list")[0] == 0


def test_existing_members_are_imported_counted_and_not_welcomed(system, capsys, monkeypatch,
                                                                tmp_path):
    process = system(STAFF_API_TOKENS="secretariat:cli-test-token")
    url = f"http://127.0.0.1:{process.env['REGISTRY_PORT']}"
    example = str(infra.PROJECT / "docs" / "example-members.csv")

    def run(*args):
        return cli(capsys, monkeypatch, "cli-test-token", url, *args)

    code, _, err = run("members", "import", example, "--dry-run")
    assert code == 0 and "dry run: 8 would be imported" in err
    code, _, err = run("members", "import", example)
    assert code == 0 and "8 imported, 0 already members" in err, err
    code, _, err = run("members", "import", example)
    assert code == 0 and "0 imported, 8 already members" in err

    bad = tmp_path / "bad.csv"
    bad.write_text("government_name,country,jurisdiction_type,wave,joined_on,website,"
                   "listing_consent\nAtlantis,XX,municipality,1,2022-01-01,,true\n")
    code, out, err = run("members", "import", str(bad))
    assert code == 1 and out.startswith("line 2\tAtlantis\tcountry:") and "nothing imported" in err

    badge = f"http://127.0.0.1:{process.env['REPORTS_PORT']}/public/badge.svg"
    wait_for(lambda: "8 / 1000" in requests.get(badge, timeout=5).text, 30,
             what="the badge to count the imported members")
    # Grigny and Seine-Saint-Denis have a contact; neither is welcomed (nor anyone else).
    infra.wait_for(lambda: count(tmp_path / "var" / "notify.db",
                                 "SELECT count(*) FROM inbox WHERE type = 'member.joined' "
                                 "AND processed_at IS NOT NULL") == 8,
                   30, what="notify to learn the members")
    assert list((tmp_path / "var" / "outbox").glob("*.eml")) == []
    assert "Traceback" not in process.log()
