"""The dashboard's "Needs someone" panel: what it gathers from the services, and who may act."""
from __future__ import annotations

import requests

from services.console import desk
from services.console.domain import Permission, Role, may
from services.console.web import environment
from shared.staff_api import StaffApiError

PARKED = {"id": 4, "type": "member.joined", "event_id": "e-4", "reference": None,
          "member_id": 12, "attempts": 5, "last_error": "KeyError: 'wave'",
          "received_at": "2026-12-01T10:40:00", "parked_at": "2026-12-01T10:47:00"}
FAILED = {"id": 9, "template": "acknowledgement", "recipient": "zoe@grigny.example",
          "language": "fr", "event_id": "e-9", "reference": "HRC-2026-G3YSQ", "attempts": 1,
          "error": "550 5.1.1 no such user", "created_at": "2026-12-01T10:40:00",
          "failed_at": "2026-12-01T10:41:00"}


class FakeApi:
    def __init__(self, answers: dict[str, object]):
        self.answers = answers

    def get(self, path: str, **params):
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def listing(*items):
    return {"items": list(items), "total": len(items)}


def test_parked_events_of_every_service_and_failed_mails_are_gathered():
    notify = FakeApi({"/api/events/parked": listing(PARKED),
                      "/api/notifications/failed": listing(FAILED)})
    registry = FakeApi({"/api/events/parked": listing()})
    needs = desk.needs_someone({"registry": registry, "notify": notify,
                                "console": lambda: listing()}, notify)
    assert needs["parked"] == [{"service": "notify", **PARKED}]
    assert needs["failed_mails"] == [FAILED]
    assert needs["unanswered"] == [] and needs["count"] == 2


def test_a_service_that_does_not_answer_is_said_so_not_shown_as_empty():
    down = FakeApi({"/api/events/parked": requests.ConnectionError("refused"),
                    "/api/notifications/failed": StaffApiError(502, "bad_gateway")})
    needs = desk.needs_someone({"intake": down, "reports": FakeApi(
        {"/api/events/parked": listing()})}, down)
    assert needs["unanswered"] == ["intake"]
    assert needs["failed_mails"] is None and needs["count"] == 0


def test_only_admins_may_run_an_event_or_a_mail_again():
    assert may(Role.ADMIN, Permission.REPLAY)
    assert not may(Role.REVIEWER, Permission.REPLAY)


def _panel(language: str, role: Role, needs: dict) -> str:
    class Account:
        email = "ada@example.org"

    account = Account()
    account.role = role
    template = environment(language).get_template("dashboard.html")
    return template.render(view=None, account=account, csrf="t", csrf_field="csrf_token",
                           path="/", args={}, needs=needs, done=None, open_wave=None,
                           counts={"under_review": 0, "info_requested": 0, "waitlisted": 0},
                           members=0, milestones=[], progress=None)


def test_the_panel_names_what_each_is_about_and_only_admins_get_the_buttons():
    needs = {"parked": [{"service": "notify", **PARKED}], "failed_mails": [FAILED],
             "unanswered": [], "count": 2}
    admin = _panel("fr", Role.ADMIN, needs)
    assert "nouveau membre" in admin and "/members/12" in admin
    assert "KeyError: &#39;wave&#39;" in admin and "2026-12-01 10:47 UTC" in admin
    assert 'action="/events/notify/4/replay"' in admin and 'action="/mails/9/retry"' in admin
    assert admin.count('name="csrf_token"') >= 2
    reviewer = _panel("es", Role.REVIEWER, needs)
    assert "Eventos apartados" in reviewer and "HRC-2026-G3YSQ" in reviewer
    assert "/replay" not in reviewer and "/retry" not in reviewer


def test_an_empty_panel_says_nothing_needs_anyone():
    empty = {"parked": [], "failed_mails": [], "unanswered": [], "count": 0}
    assert "Nothing needs anyone" in _panel("en", Role.REVIEWER, empty)
    unknown = {"parked": [], "failed_mails": None, "unanswered": ["intake"], "count": 0}
    page = _panel("en", Role.ADMIN, unknown)
    assert "Nothing needs anyone" not in page
    assert "The intake service did not answer" in page
