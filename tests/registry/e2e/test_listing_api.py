"""PATCH /api/members/<id> {"listing_consent": bool}: staff only, audited, announced."""
from __future__ import annotations

import pytest

from tests.registry.e2e.test_staff_api import BOB, Registry, open_wave_4, start


@pytest.fixture
def staff_api(database, free_port):
    port = free_port()
    container = start(database, port, "alice:alice-secret-token,bob:bob-secret-token")
    yield Registry(database, port)
    container.stop()


def a_member(staff_api: Registry, **overrides) -> dict:
    application = staff_api.receive(**overrides)
    open_wave_4(staff_api)
    return staff_api.ok("POST", f"/api/applications/{application['id']}/accept")["member"]


def test_consent_from_the_form_is_on_the_application_and_the_member(staff_api):
    member = a_member(staff_api, listing_consent=True)
    assert (member["listing_consent"], member["website"]) == (True, "https://www.grigny91.fr")
    application = staff_api.ok("GET", f"/api/applications/{member['application_id']}")
    assert application["listing_consent"] is True


def test_staff_withdraw_the_consent_audited_and_announced(staff_api):
    member = a_member(staff_api, listing_consent=True)
    path = f"/api/members/{member['id']}"
    assert staff_api.call("PATCH", path, headers={}, json={"listing_consent": False}
                          ).status_code == 401
    changed = staff_api.ok("PATCH", path, headers=BOB, json={"listing_consent": False})
    assert changed["listing_consent"] is False
    assert staff_api.ok("GET", path)["listing_consent"] is False
    assert staff_api.outbox().count("member.listing_changed") == 1
    staff_api.ok("PATCH", path, json={"listing_consent": False})
    assert staff_api.outbox().count("member.listing_changed") == 1
    trail = staff_api.ok("GET", f"{path}/export")["audit"]
    change = next(e for e in trail if e["action"] == "change_listing")
    assert (change["who"], change["before"], change["after"]) == (
        "bob", {"listing_consent": True}, {"listing_consent": False})


@pytest.mark.parametrize("body", [{}, {"listing_consent": "yes"}, {"listing_consent": 1},
                                  {"listing_consent": True, "government_name": "X"}])
def test_anything_but_a_boolean_is_refused(staff_api, body):
    member = a_member(staff_api)
    response = staff_api.call("PATCH", f"/api/members/{member['id']}", json=body)
    assert response.status_code == 422, response.text
    assert staff_api.outbox().count("member.listing_changed") == 0
