"""The walking skeleton, end to end, twice: on the embedded defaults (one process, in-memory
broker, SQLite, .eml files) and on the real parts (a process per service, RabbitMQ,
PostgreSQL, an SMTP server). An application POSTed to intake reaches every service."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.support import infra

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
STAFF = ["secretariat@example.org", "review@example.org"]


def _post_example(port: int) -> str:
    response = requests.post(f"http://127.0.0.1:{port}/applications", json=EXAMPLE, timeout=10)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "received"
    return body["reference"]


def _applicant_and_staff_mails(mails):
    """The mails this application caused: to the applicant, and the staff alerts (scheduled
    digests to staff may be there too: they are not this flow's)."""
    to_applicant = [m for recipients, m in mails if EXAMPLE["contact_email"] in recipients]
    alerts = [(recipients, m) for recipients, m in mails
              if "new_application" in m["Message-ID"]]
    return to_applicant, alerts


def _flow_mails_arrived(mails) -> bool:
    to_applicant, alerts = _applicant_and_staff_mails(mails)
    return len(to_applicant) >= 1 and len(alerts) >= len(STAFF)


def _assert_acknowledged_and_alerted(mails, reference: str) -> None:
    to_applicant, alerts = _applicant_and_staff_mails(mails)
    assert len(to_applicant) == 1, [m["Subject"] for m in to_applicant]
    assert sorted(r.strip() for recipients, _ in alerts for r in recipients) == sorted(STAFF)
    for message in [*to_applicant, *(m for _, m in alerts)]:
        body = message.get_body(("plain",)).get_content()
        assert reference in message["Subject"]
        assert reference in body
        assert message["From"] and message["Message-ID"] and message["Date"]


def _eml_mails(outbox):
    return [([r.strip() for r in m["To"].split(",")], m) for m in infra.read_eml_dir(outbox)]


def _count(url: str, sql: str, **params) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_embedded_defaults(tmp_path):
    var = tmp_path / "var"
    env = infra.base_env(var)
    env["STAFF_EMAILS"] = ",".join(STAFF)
    system = infra.ServiceProcess([], env, tmp_path / "hrc.log")
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in ("intake", "registry", "notify", "reports")}
    system.start()
    try:
        system.wait_healthy(list(ports.values()))
        reference = _post_example(ports["intake"])
        outbox = var / "outbox"
        # One acknowledgement and one alert per staff address.
        infra.wait_for(lambda: _flow_mails_arrived(_eml_mails(outbox)), 30,
                       what="the mails in var/outbox")
        infra.wait_for(lambda: _count(f"sqlite:///{var}/reports.db",
                                      "SELECT count(*) FROM inbox WHERE status = 'done' "
                                      "AND type = 'application.received'") == 1,
                       30, what="reports to count the application")
        _assert_acknowledged_and_alerted(_eml_mails(outbox), reference)
        assert _count(f"sqlite:///{var}/intake.db",
                      "SELECT count(*) FROM submissions WHERE reference = :r", r=reference) == 1
        assert _count(f"sqlite:///{var}/registry.db",
                      "SELECT count(*) FROM applications WHERE reference = :r", r=reference) == 1
    finally:
        system.stop()
    assert "Traceback" not in system.log(), system.log()


@pytest.mark.real
def test_real_rabbitmq_postgresql_smtp(tmp_path, rabbitmq, postgres, smtp_server):
    env = infra.base_env(tmp_path / "var")
    databases = {s: postgres(s) for s in ("intake", "registry", "notify", "reports")}
    env.update({f"{s.upper()}_DB_URL": d.url for s, d in databases.items()})
    env.update(AMQP_URI=rabbitmq.uri(), SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port),
               STAFF_EMAILS=",".join(STAFF), MAIL_FROM="campaign@example.org")
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in databases}
    systems = [infra.ServiceProcess([s], env, tmp_path / f"{s}.log") for s in databases]
    for system in systems:
        system.start()
    try:
        for system in systems:
            system.wait_healthy([ports[system.services[0]]])
        reference = _post_example(ports["intake"])
        infra.wait_for(lambda: _flow_mails_arrived(smtp_server.messages()), 30,
                       what="the mails at the SMTP server")
        infra.wait_for(lambda: _count(databases["reports"].url,
                                      "SELECT count(*) FROM inbox WHERE status = 'done' "
                                      "AND type = 'application.received'") == 1,
                       30, what="reports to count the application")
        _assert_acknowledged_and_alerted(smtp_server.messages(), reference)
        assert _count(databases["intake"].url,
                      "SELECT count(*) FROM submissions WHERE reference = :r", r=reference) == 1
        assert _count(databases["registry"].url,
                      "SELECT count(*) FROM applications WHERE reference = :r", r=reference) == 1
    finally:
        for system in systems:
            system.stop()
    for system in systems:
        assert "Traceback" not in system.log(), system.log()
