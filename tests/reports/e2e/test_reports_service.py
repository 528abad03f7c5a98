"""Reports through its real entrypoints: HTTP, events, the digest scheduler, the CLI.

Embedded: ``hrc run`` (all four services, in-memory broker, SQLite). Real: two reports
processes on one PostgreSQL and one RabbitMQ, racing to deliver the same digest periods.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
import requests
from sqlalchemy import create_engine, text

from services.reports.reporting import SCHEDULE_START
from tests.support import infra

TOKEN = "reports-e2e-secret"
EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
# Every three seconds (croniter reads a sixth field as seconds): digests come due during a test.
FAST_SCHEDULE = "* * * * * */3"


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def _get(port: int, path: str, token: str | None = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=30)


def _hrc(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hrc", *args], cwd=infra.PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def _assert_chained(periods: list[tuple[datetime, datetime]]) -> None:
    assert len(periods) == len(set(periods)), periods
    ordered = sorted(periods)
    assert all(a[1] == b[0] for a, b in zip(ordered, ordered[1:], strict=False)), ordered


def test_embedded_progress_digests_and_rebuild(tmp_path):
    var = tmp_path / "var"
    env = infra.base_env(var)
    env.update(STAFF_API_TOKENS=f"e2e:{TOKEN}", STAFF_EMAILS="secretariat@example.org",
               DIGEST_SCHEDULE=FAST_SCHEDULE, DIGEST_POLL_SECONDS="1", DIGEST_LANGUAGE="fr",
               DIGEST_SETTLE_SECONDS="0")
    port, intake = int(env["REPORTS_PORT"]), int(env["INTAKE_PORT"])
    reports_db = f"sqlite:///{var}/reports.db"
    system = infra.ServiceProcess([], env, tmp_path / "hrc.log")
    system.start()
    try:
        system.wait_healthy([int(env[f"{s}_PORT"]) for s in
                             ("INTAKE", "REGISTRY", "NOTIFY", "REPORTS")])
        response = requests.post(f"http://127.0.0.1:{intake}/applications", json=EXAMPLE,
                                 timeout=10)
        assert response.status_code == 202, response.text
        reference = response.json()["reference"]
        # Received from intake, then waitlisted or under review from the registry.
        infra.wait_for(lambda: _rows(reports_db, "SELECT count(*) FROM rm_applications "
                                     f"WHERE reference = '{reference}' "
                                     "AND status <> 'received'")[0][0] == 1,
                       30, what="the application's registry step in the read model")

        public = _get(port, "/public/progress.json", token=None)
        assert public.status_code == 200
        assert public.headers["Access-Control-Allow-Origin"] == "*"
        assert public.json()["progress"]["goal"] == 1000
        assert reference not in public.text and EXAMPLE["contact_email"] not in public.text
        badge = _get(port, "/public/badge.svg?lang=es", token=None)
        assert badge.headers["Content-Type"].startswith("image/svg+xml")
        assert "/ 1000" in ET.fromstring(badge.text).find("{http://www.w3.org/2000/svg}title").text

        assert _get(port, "/reports/progress.json", token=None).status_code == 401
        assert _get(port, "/reports/progress.json", token="wrong").status_code == 401
        staff = _get(port, "/reports/progress.json")
        assert staff.status_code == 200
        statuses = staff.json()["applications_by_status"]
        assert sum(s["count"] for s in statuses.values()) == 1
        assert _get(port, "/reports/progress.csv").text.startswith("section,key")
        assert "<img src=\"data:image/png;base64," in _get(port, "/reports/progress.html").text
        assert _get(port, "/public/badge.svg?lang=de", token=None).status_code == 422

        # The scheduler delivers a period every three seconds; notify mails each digest.
        infra.wait_for(lambda: len(_rows(reports_db, "SELECT * FROM digest_deliveries")) >= 2,
                       30, what="two scheduled digests")
        digest_mail = infra.wait_for(
            lambda: next((m for m in infra.read_eml_dir(var / "outbox")
                          if "Synthèse" in (m["Subject"] or "")), None),
            30, what="a digest mail")
        parts = {p.get_content_type(): p for p in digest_mail.walk()}
        assert parts["image/png"]["Content-ID"] == "<progress-chart>"
        assert parts["image/png"].get_content()[:4] == b"\x89PNG"
        assert 'src="cid:progress-chart"' in parts["text/html"].get_content()
        assert parts["text/csv"].get_content().startswith("section,key")

        # The log lists the digests mailed, not the row that started the schedule.
        listed = {d["event_id"] for d in _get(port, "/reports/digests").json()["items"]}
        stored = {row[0] for row in _rows(reports_db, "SELECT event_id FROM digest_deliveries")}
        assert "schedule-start" in stored and "schedule-start" not in listed
        assert listed and listed <= stored

        cli_env = {**env, "HRC_STAFF_TOKEN": TOKEN}
        url = f"http://127.0.0.1:{port}"
        sent = _hrc(cli_env, "digests", "send", "--url", url, "--start", "2024-01-01",
                    "--end", "2030-01-01", "--language", "en", "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["status"] == "queued"
        refused = _hrc({**env, "HRC_STAFF_TOKEN": "nope"}, "digests", "list", "--url", url)
        assert refused.returncode == 1 and "401" in refused.stderr
        rebuilt = _hrc(cli_env, "reports", "rebuild", "--url", url, "--json")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert json.loads(rebuilt.stdout)["replayed_events"] >= 1
        assert _get(port, "/reports/progress.json").json()["applications_by_status"] == statuses
    finally:
        system.stop()
    log = system.log()
    assert "Traceback" not in log, log
    deliveries = _rows(reports_db, "SELECT period_start, period_end FROM digest_deliveries")
    _assert_chained([tuple(row) for row in deliveries])


@pytest.mark.real
def test_two_reports_processes_deliver_each_period_exactly_once(tmp_path, rabbitmq, postgres):
    database = postgres("reports")
    env = infra.base_env(tmp_path / "var")
    env.update(AMQP_URI=rabbitmq.uri(), REPORTS_DB_URL=database.url,
               STAFF_API_TOKENS=TOKEN, DIGEST_SCHEDULE=FAST_SCHEDULE, DIGEST_POLL_SECONDS="0.5",
               DIGEST_SETTLE_SECONDS="0")
    processes = []
    for index in range(2):
        process_env = {**env, "REPORTS_PORT": str(infra.free_port())}
        processes.append((infra.ServiceProcess(["reports"], process_env,
                                               tmp_path / f"reports-{index}.log"),
                          int(process_env["REPORTS_PORT"])))
    try:
        # One after the other: two processes migrating a fresh database at the same moment
        # race on creating alembic's version table (shared.db.migrate takes no lock).
        for process, port in processes:
            process.start()
            process.wait_healthy([port])
        time.sleep(12)
        # One process goes down for a while; the other keeps delivering, then it comes back.
        processes[0][0].stop()
        time.sleep(4)
        processes[0][0].start()
        processes[0][0].wait_healthy([processes[0][1]])
        time.sleep(6)
    finally:
        for process, _port in processes:
            process.stop()
    for process, _port in processes:
        assert "Traceback" not in process.log(), process.log()
    deliveries = _rows(database.url, "SELECT period_start, period_end, event_id "
                                     "FROM digest_deliveries")
    assert len(deliveries) >= 5
    _assert_chained([(row[0], row[1]) for row in deliveries])
    events = _rows(database.url, "SELECT event_id, payload FROM outbox "
                                 "WHERE type = 'digest.ready'")
    # The first row starts the new installation's schedule; every later one is a digest sent.
    starts = [row for row in deliveries if row[2] == SCHEDULE_START]
    assert len(starts) == 1 and min(row[0] for row in deliveries) == starts[0][0]
    assert sorted(e[0] for e in events) == sorted(
        row[2] for row in deliveries if row[2] != SCHEDULE_START)
    sent_periods = [json.loads(e[1])["data"]["period"]["start"] if isinstance(e[1], str)
                    else e[1]["data"]["period"]["start"] for e in events]
    assert len(sent_periods) == len(set(sent_periods))
