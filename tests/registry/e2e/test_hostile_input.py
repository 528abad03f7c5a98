"""Hostile input at the staff API's edge (issue 10), on SQLite and PostgreSQL: each case is a
4xx with a message for its field, and nothing changes."""
from __future__ import annotations

import pytest

from tests.registry.e2e.test_staff_api import ALICE, WAVE_4, registry  # noqa: F401 - fixture

NUL, RLO, SURROGATE = "\x00", "\u202e", "\ud800"
HUGE = str(10**20)


QUERIES = [
    ("/api/applications", {"page": HUGE}, "page"),
    ("/api/applications", {"per_page": HUGE}, "per_page"),
    ("/api/applications", {"wave": str(2**40)}, "wave"),
    ("/api/applications", {"country": NUL * 2}, "country"),
    ("/api/applications", {"q": f"Ville{NUL}"}, "q"),
    ("/api/applications", {"theme": f"food{RLO}"}, "theme"),
    ("/api/members", {"page": HUGE}, "page"),
    ("/api/members", {"country": f"F{NUL}"}, "country"),
]


@pytest.mark.parametrize(("path", "params", "field"), QUERIES)
def test_a_hostile_query_is_a_422_for_its_field(registry, path, params, field):  # noqa: F811
    response = registry.call("GET", path, params=params)
    assert response.status_code == 422, response.text
    assert list(response.json()["detail"]) == [field]


def _bodies(application_id: int):
    wave = {**WAVE_4, "number": 4}
    return [
        ("/api/waves", {**wave, "number": 2**40}, "number"),
        ("/api/waves", {**wave, "name": {**wave["name"], "en": f"Fourth {RLO}evaw"}}, "name"),
        ("/api/waves", {**wave, "theme": {**wave["theme"], "fr": f"Soins{SURROGATE}"}}, "theme"),
        (f"/api/applications/{application_id}/decline", {"reason": f"No{NUL}"}, "reason"),
        (f"/api/applications/{application_id}/decline", {"reason": f"No{SURROGATE}"}, "reason"),
        (f"/api/applications/{application_id}/request-info", {"message": f"More{NUL}?"},
         "message"),
        (f"/api/applications/{application_id}/accept", {"wave": 2**40}, "wave"),
        (f"/api/applications/{application_id}/withdraw", {"reason": NUL}, "reason"),
    ]


def test_every_hostile_body_is_a_422_for_its_field_and_nothing_changes(registry):  # noqa: F811
    application = registry.receive()
    before = (registry.outbox(), registry.audit_count(), registry.ok("GET", "/api/waves"))
    for path, body, field in _bodies(application["id"]):
        response = registry.call("POST", path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert list(response.json()["detail"]) == [field], (path, response.text)
    assert (registry.outbox(), registry.audit_count(), registry.ok("GET", "/api/waves")) == before


def test_deeply_nested_json_is_a_400(registry):  # noqa: F811
    response = registry.call("POST", "/api/waves", data="[" * 20000,
                             headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed_json"


def test_an_id_beyond_its_column_is_a_404(registry):  # noqa: F811
    for method, path in (("GET", f"/api/applications/{HUGE}"), ("GET", f"/api/members/{HUGE}"),
                         ("POST", f"/api/waves/{2**40}/open")):
        response = registry.call(method, path)
        assert response.status_code == 404, (path, response.text)

