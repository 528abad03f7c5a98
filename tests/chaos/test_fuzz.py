"""A property fuzz of intake's and the registry's inputs (hypothesis) on PostgreSQL: whatever a
client sends, the answer is never a 5xx, and what is stored passes the edge's rules."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.schemas import form_schema
from shared import db as shared_db
from shared import validation
from tests.intake.conftest import EXAMPLE, start_intake
from tests.registry.e2e.test_staff_api import ALICE, TOKENS, WAVE_4
from tests.registry.e2e.test_staff_api import start as start_registry

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
HOSTILE = st.sampled_from(["\ud800", "\udfff", "\x00", "\u202e", "\u200b", "\ufeff", "\u2066",
                           "\r\n", "\u2028", "e\u0301", "%00", "'; DROP TABLE x;--", "{{7*7}}"])
TEXT = st.one_of(st.text(max_size=60), st.builds(lambda a, h, b: a + h + b, st.text(max_size=20),
                                                 HOSTILE, st.text(max_size=20)))
NUMBER = st.one_of(st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=True), st.just(2**63), st.just(2**31))
JSON_VALUE = st.recursive(st.one_of(st.none(), st.booleans(), NUMBER, TEXT),
                          lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                  st.dictionaries(TEXT, inner, max_size=3)),
                          max_leaves=10)


def _dumps(value) -> bytes:
    # Lone surrogates go out as JSON escapes, as a hostile client would write them.
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


@pytest.fixture
def intake(postgres, free_port):
    started = start_intake(postgres("intake").url, "memory://", free_port())
    yield started
    started.container.stop()
    shared_db.dispose_all()


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(sorted(EXAMPLE)), JSON_VALUE, min_size=1,
                               max_size=4))
def test_intake_never_answers_5xx_and_stores_only_valid_applications(intake, changes):
    response = requests.post(f"{intake.url}/applications", data=_dumps({**EXAMPLE, **changes}),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code < 500, response.text
    assert response.status_code in (202, 400, 422), response.text
    for submission in intake.submissions():
        stored = {k: v for k, v in submission.payload.items()
                  if k not in ("reference", "submitted_at")}
        assert form_schema("en").load({**stored, "consent": True}) == {**stored, "consent": True}


@pytest.fixture
def registry(postgres, free_port):
    url = postgres("registry").url
    from services.registry.service import MIGRATIONS

    shared_db.migrate(url, MIGRATIONS)
    port = free_port()
    container = start_registry(shared_db.database_for(url), port, TOKENS)
    base = f"http://127.0.0.1:{port}"
    yield base
    container.stop()
    shared_db.dispose_all()


ROUTES = st.sampled_from([
    ("POST", "/api/waves"), ("POST", "/api/applications/1/decline"),
    ("POST", "/api/applications/1/request-info"), ("POST", "/api/applications/1/accept"),
    ("POST", "/api/applications/1/withdraw"), ("POST", "/api/members/1/withdraw"),
    ("PATCH", "/api/members/1"),
])
QUERY_KEYS = st.sampled_from(["page", "per_page", "wave", "country", "status", "region", "q",
                              "theme", "language", "possible_duplicate"])


@FUZZ
@given(route=ROUTES, body=st.one_of(
    st.dictionaries(st.sampled_from([*WAVE_4, "reason", "message", "wave", "listing_consent"]),
                    JSON_VALUE, max_size=5),
    st.builds(lambda changes: {**WAVE_4, **changes},
              st.dictionaries(st.sampled_from(sorted(WAVE_4)), JSON_VALUE, max_size=2)),
    JSON_VALUE),
    query=st.dictionaries(QUERY_KEYS, st.one_of(TEXT, NUMBER.map(str)), max_size=3))
def test_the_staff_api_never_answers_5xx_and_stores_only_clean_waves(registry, route, body,
                                                                     query):
    method, path = route
    response = requests.request(method, registry + path, data=_dumps(body), timeout=10,
                                headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code < 500, (path, body, response.text)
    # Sent as bytes: a lone surrogate goes out as the bytes a hostile client would send.
    encoded = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
    for listing in ("/api/applications", "/api/members"):
        response = requests.get(f"{registry}{listing}?{encoded}", headers=ALICE, timeout=10)
        assert response.status_code < 500, (listing, query, response.text)
    waves = requests.get(registry + "/api/waves", headers=ALICE, timeout=10).json()["items"]
    for wave in waves:
        assert validation.INT_MIN <= wave["number"] <= validation.INT_MAX
        for text in (*wave["name"].values(), *wave["theme"].values()):
            assert validation.clean_text(text, name=True) == text
