"""POST /applications with JSON, through the real entrypoint (SQLite, in-memory broker)."""
from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import update

from services.intake import db as intake_db
from services.intake import domain
from shared.events import parse_event
from tests.intake.conftest import example
from tests.support.infra import wait_for


def test_a_valid_application_is_stored_with_its_event_and_answered_202(intake):
    response = intake.post_json(example(government_name="  Ville   de Grigny "))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "received"
    assert domain.REFERENCE_PATTERN.match(body["reference"])
    [submission] = intake.submissions()
    assert submission.reference == body["reference"]
    assert submission.payload["government_name"] == "Ville de Grigny"
    [row] = intake.outbox()
    event = parse_event(row.payload)
    assert event.type == "application.received"
    assert event.event_id == submission.event_id
    assert event.data["reference"] == body["reference"]
    assert event.data["language"] == "fr"
    assert event.data["themes"] == ["right_to_the_city", "housing", "participatory_democracy"]


def test_the_relay_publishes_shortly_after_a_burst_of_submissions(make_intake):
    intake = make_intake(RELAY_POLL_SECONDS=60)  # only the nudge can publish within the test
    for number in range(5):
        assert intake.post_json(example(population=number + 1)).status_code == 202
    wait_for(lambda: intake.pending() == 0, 5, 0.02, "the outbox to be published")
    assert len(intake.outbox()) == 5


def test_an_invalid_application_gets_a_message_per_field_in_the_request_language(intake):
    payload = example(population=0, contact_email="nobody", country="XX")
    del payload["commitment"]
    response = intake.post_json(payload, headers={"Accept-Language": "es-AR,es;q=0.9"})
    assert response.status_code == 422
    assert response.json() == {"errors": {
        "population": ["Escriba un número igual o mayor que 1."],
        "contact_email": ["Escriba una dirección de correo electrónico como nombre@ejemplo.org."],
        "country": ["Elija un país de la lista."],
        "commitment": ["Este campo es obligatorio."],
    }}
    assert intake.submissions() == [] and intake.outbox() == []


def test_the_language_of_messages_is_lang_then_accept_language_then_the_payloads(intake):
    def message(**kwargs):
        return requests.post(f"{intake.url}/applications", json=example(population=0),
                             timeout=10, **kwargs).json()["errors"]["population"][0]

    assert message(params={"lang": "en"}, headers={"Accept-Language": "es"}) == (
        "Enter a number of at least 1."
    )
    assert message(headers={"Accept-Language": "es"}).startswith("Escriba")
    assert message().startswith("Saisissez")  # the example asks for mail in French


def test_other_content_types_are_refused_with_415(intake):
    response = requests.post(f"{intake.url}/applications", data="government_name=x",
                             headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    response = requests.post(f"{intake.url}/applications", timeout=10)
    assert response.status_code == 415


def test_a_body_over_64_kib_is_refused_with_413(intake):
    response = intake.post_json(example(frameworks="x" * (64 * 1024)))
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert intake.submissions() == []


def test_a_chunked_body_is_refused_unread_with_411(intake):
    def chunks():
        yield b'{"frameworks": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = requests.post(f"{intake.url}/applications", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 411
    assert response.json()["error"] == "length_required"
    assert intake.submissions() == []


def test_malformed_json_is_a_400_json_error(intake):
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'):
        response = requests.post(f"{intake.url}/applications", data=body, timeout=10,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.json()["error"] == "malformed_json"


def test_the_same_idempotency_key_gives_the_same_reference_and_no_new_event(intake):
    headers = {"Idempotency-Key": "5b0f2c1e-retry"}
    first = intake.post_json(example(), headers=headers).json()["reference"]
    again = intake.post_json(example(), headers=headers)
    assert again.status_code == 202 and again.json()["reference"] == first
    assert len(intake.submissions()) == 1 and len(intake.outbox()) == 1


def test_an_idempotency_key_reused_for_another_application_is_refused(intake):
    headers = {"Idempotency-Key": "k-1"}
    intake.post_json(example(), headers=headers)
    response = intake.post_json(example(population=1), headers=headers)
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert len(intake.submissions()) == 1


def test_an_identical_payload_within_ten_minutes_is_the_same_submission(intake):
    first = intake.post_json(example()).json()["reference"]
    # Different key order, spacing and case: the same application once normalised.
    again = intake.post_json(dict(reversed(list(example(
        government_name="Ville  de Grigny", country="fr",
        themes=["housing", "right_to_the_city", "participatory_democracy"]).items()))))
    assert again.json()["reference"] == first
    assert len(intake.outbox()) == 1
    other = intake.post_json(example(population=28001)).json()["reference"]
    assert other != first and len(intake.outbox()) == 2


def test_an_identical_payload_after_ten_minutes_is_a_new_submission(intake):
    first = intake.post_json(example()).json()["reference"]
    with intake.database.transaction() as session:
        session.execute(update(intake_db.RecentPayload).values(
            first_seen_at=intake_db.RecentPayload.first_seen_at - timedelta(minutes=10)))
    again = intake.post_json(example()).json()["reference"]
    assert again != first
    assert len(intake.submissions()) == 2 and len(intake.outbox()) == 2
    assert intake.post_json(example()).json()["reference"] == again


def test_a_filled_honeypot_is_answered_as_usual_and_dropped(intake):
    response = intake.post_json(example(**{domain.HONEYPOT_FIELD: "buy now"}))
    assert response.status_code == 202
    assert domain.REFERENCE_PATTERN.match(response.json()["reference"])
    assert intake.submissions() == [] and intake.outbox() == []


def test_an_empty_honeypot_is_not_an_unknown_field(intake):
    response = intake.post_json(example(**{domain.HONEYPOT_FIELD: ""}))
    assert response.status_code == 202
    assert len(intake.submissions()) == 1


def test_unknown_fields_are_refused(intake):
    response = intake.post_json(example(mayor_shoe_size=42))
    assert response.status_code == 422
    assert "mayor_shoe_size" in response.json()["errors"]


def test_the_rate_limit_answers_429_with_retry_after(make_intake):
    intake = make_intake(INTAKE_RATE_LIMIT="3/minute")
    statuses = [intake.post_json(example(population=n)).status_code for n in range(1, 5)]
    assert statuses == [202, 202, 202, 429]
    refused = intake.post_json(example(population=9))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"] == "too_many_requests"
    assert len(intake.submissions()) == 3


def test_refused_requests_count_toward_the_rate_limit_too(make_intake):
    intake = make_intake(INTAKE_RATE_LIMIT="3/minute")
    assert intake.post_json(example(population=0)).status_code == 422
    assert requests.post(f"{intake.url}/applications", data=b"{", timeout=10,
                         headers={"Content-Type": "application/json"}).status_code == 400
    assert intake.post_json(example(**{domain.HONEYPOT_FIELD: "x"})).status_code == 202
    assert intake.post_json(example()).status_code == 429
    assert intake.submissions() == []


def test_behind_a_trusted_proxy_each_applicant_has_its_own_limit(make_intake):
    behind = make_intake(INTAKE_RATE_LIMIT="1/minute", INTAKE_TRUSTED_PROXIES="127.0.0.1")

    def post(population, forwarded):
        return behind.post_json(example(population=population),
                                headers={"X-Forwarded-For": forwarded}).status_code

    assert post(1, "198.51.100.1") == 202
    assert post(2, "198.51.100.2") == 202
    assert post(3, "198.51.100.1") == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(make_intake):
    direct = make_intake(INTAKE_RATE_LIMIT="1/minute")
    assert direct.post_json(example(population=1),
                            headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 202
    assert direct.post_json(example(population=2),
                            headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429


def test_replicas_share_the_rate_limit(make_intake, sqlite_url):
    one = make_intake(INTAKE_RATE_LIMIT="3/minute")
    two = make_intake(sqlite_url, INTAKE_RATE_LIMIT="3/minute")
    assert one.post_json(example(population=1)).status_code == 202
    assert two.post_json(example(population=2)).status_code == 202
    assert one.post_json(example(population=3)).status_code == 202
    assert two.post_json(example(population=4)).status_code == 429


def test_cors_preflight_and_answers_for_allowed_origins_only(make_intake):
    intake = make_intake(INTAKE_CORS_ORIGINS="https://cities4rights.example, http://localhost:3000")
    allowed = {"Origin": "https://cities4rights.example",
               "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type, idempotency-key"}
    preflight = requests.options(f"{intake.url}/applications", headers=allowed, timeout=10)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://cities4rights.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
    refused = requests.options(f"{intake.url}/applications", timeout=10,
                               headers={**allowed, "Origin": "https://elsewhere.example"})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers

    posted = intake.post_json(example(), headers={"Origin": "http://localhost:3000"})
    assert posted.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    invalid = intake.post_json(example(population=0), headers={"Origin": "http://localhost:3000"})
    assert invalid.status_code == 422
    assert invalid.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    foreign = intake.post_json(example(population=2), headers={"Origin": "https://x.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_health(intake):
    response = requests.get(f"{intake.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
