"""Every staff command of ``hrc``: text a person reads by default, the API's JSON with --json.

The staff APIs are replaced by canned answers (the shapes the services return), so each command
runs through ``hrc.cli.main`` exactly as from a shell, in milliseconds.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from hrc.cli import main as hrc
from shared.staff_api import StaffApi

NAMES = {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"}
WAVE = {"number": 4, "status": "open", "name": NAMES, "theme": NAMES,
        "opens_at": "2026-01-01T00:00:00+00:00", "closes_at": "2026-12-31T23:59:59+00:00"}
APPLICATION = {
    "id": 9, "reference": "HRC-2026-G3YSQ", "status": "under_review", "wave": 4,
    "member_id": None, "government_name": "Ville de Grigny", "country": "FR",
    "region": "Europe", "contact_email": "amina.diallo@example.org",
    "themes": ["housing", "right_to_the_city"], "listing_consent": False,
    "submitted_at": "2026-12-01T10:47:28.099167+00:00",
    "possible_duplicates": [{"reference": "IMP-1D6A95539A", "government_name": "Grigny",
                             "kind": "member", "score": 100.0}],
    "info_request": None, "decision_reason": None,
}
MEMBER = {"id": 9, "application_id": 9, "reference": "HRC-2026-G3YSQ", "status": "active",
          "government_name": "Ville de Grigny", "country": "FR", "region": "Europe",
          "contact_name": "Amina Diallo", "contact_email": "amina.diallo@example.org",
          "joined_wave": 4, "joined_at": "2026-12-01T10:47:41.639719+00:00", "waves": [4, 5],
          "listing_consent": True}
AUDIT = {"who": "ana@example.org", "action": "accept", "subject_type": "application",
         "subject_id": "9", "at": "2026-12-01T10:47:41.014712+00:00",
         "before": {"status": "under_review", "member_id": None},
         "after": {"status": "accepted", "member_id": 9}}
PAGE = {"total": 1, "page": 1, "per_page": 50}
PROGRESS = {
    "progress": {"members": 121, "goal": 1000, "deadline": "2030-12-31",
                 "milestones": [{"target": 10, "reached": True, "reached_at": "2022-10-12"},
                                {"target": 100, "reached": True, "reached_at": "2024-05-20"},
                                {"target": 1000, "reached": False, "reached_at": None}],
                 "next_milestone": 1000, "remaining": 879, "pace_needed_per_year": 215.4,
                 "pace_so_far_per_year": 29.6, "on_track": False},
    "members_by_wave": {"1": 30, "2": 40, "3": 50, "4": 1},
    "members_by_region": {"Europe": 60, "Latin America": 61},
    "waves": [{"number": 4, "name": NAMES, "theme": NAMES, "open": True, "members": 1}],
}
IMPORT_REPORT = {"dry_run": False, "imported": [{"line": 2, "government_name": "Vienna"}],
                 "already_members": [], "refused": []}

# (argv, the API's answer, what the person reads)
COMMANDS: list[tuple[list[str], Any, list[str]]] = [
    (["applications", "list"], {"items": [APPLICATION], **PAGE},
     ["id  reference       status        wave", "Ville de Grigny", "IMP-1D6A95539A"]),
    (["applications", "show", "9"], APPLICATION,
     ["government name:     Ville de Grigny", "themes:              housing, right_to_the_city",
      "submitted at:        2026-12-01 10:47 UTC", "  - reference:       IMP-1D6A95539A"]),
    (["applications", "audit", "9"], {"items": [AUDIT], "total": 1},
     ["2026-12-01 10:47 UTC  ana@example.org  accept",
      "status under_review -> accepted; member id - -> 9"]),
    (["applications", "export", "9"], {"application": APPLICATION, "audit": [AUDIT]},
     ["application:", "  contact email:       amina.diallo@example.org", "audit:       (1)"]),
    (["applications", "accept", "9", "--wave", "4"],
     {"application": {**APPLICATION, "status": "accepted", "member_id": 9}, "member": MEMBER},
     ["application 9 (HRC-2026-G3YSQ) Ville de Grigny: accepted, wave 4",
      "member 9 since 2026-12-01 10:47 UTC"]),
    (["applications", "decline", "9", "--reason", "Not a government"],
     {**APPLICATION, "status": "declined", "decision_reason": "Not a government"},
     ["Ville de Grigny: declined, wave 4", "reason: Not a government"]),
    (["applications", "request-info", "9", "--message", "Which council vote?"],
     {**APPLICATION, "status": "info_requested",
      "info_request": {"message": "Which council vote?", "at": "2026-12-01T11:00:00+00:00"}},
     ["info_requested", "information asked: message Which council vote?, at 2026-12-01 11:00"]),
    (["applications", "resume", "9"], APPLICATION, ["Ville de Grigny: under_review, wave 4"]),
    (["applications", "withdraw", "9"], {**APPLICATION, "status": "withdrawn"},
     ["Ville de Grigny: withdrawn"]),
    (["applications", "erase", "9", "--yes"],
     {**APPLICATION, "status": "declined", "government_name": None},
     ["application 9 (HRC-2026-G3YSQ) (erased): declined"]),
    (["waves", "list"], {"items": [WAVE], "total": 1},
     ["wave  status  opens       closes                name",
      "4     open    2026-01-01  2026-12-31 23:59 UTC  Fourth wave"]),
    (["waves", "create", "4", "--name-en", "Fourth wave", "--name-fr", "Quatrième vague",
      "--name-es", "Cuarta ola", "--theme-en", "T", "--theme-fr", "T", "--theme-es", "T",
      "--opens-at", "2026-01-01"], {**WAVE, "status": "planned"},
     ["wave 4 Fourth wave: planned, opens 2026-01-01, closes 2026-12-31 23:59 UTC"]),
    (["waves", "open", "4"], {**WAVE, "moved_to_review": 3},
     ["wave 4 Fourth wave: open", "3 application(s) from the waiting list now under review"]),
    (["waves", "close", "4"], {**WAVE, "status": "closed"}, ["wave 4 Fourth wave: closed"]),
    (["waves", "announce"], {"items": [{**WAVE, "number": 3, "status": "closed",
                                        "event": "wave.closed"},
                                       {**WAVE, "event": "wave.opened"}], "total": 2},
     ["wave  status  told again as  name",
      "3     closed  wave.closed    Fourth wave",
      "4     open    wave.opened    Fourth wave",
      "2 wave(s) told again to intake, notify and reports; each takes what it missed"]),
    (["members", "list"], {"items": [MEMBER], **PAGE},
     ["id  government       country  region  joined in wave  waves  status",
      "9   Ville de Grigny  FR       Europe  4               4, 5   active"]),
    (["members", "show", "9"], MEMBER,
     ["contact email:   amina.diallo@example.org", "waves:           4, 5",
      "listing consent: yes"]),
    (["members", "export", "9"], {"member": MEMBER, "applications": [APPLICATION], "audit": []},
     ["member:", "applications: (1)", "  - id:                  9", "audit:        -"]),
    (["members", "withdraw", "9"], {**MEMBER, "status": "withdrawn"},
     ["member 9 Ville de Grigny (FR): withdrawn since wave 4"]),
    (["members", "listing-consent", "9", "no"], {**MEMBER, "listing_consent": False},
     ["listed in the public directory: no"]),
    (["members", "contact", "9", "--name", "Nouvelle Élue", "--email", "elue@grigny.example"],
     {**MEMBER, "contact_name": "Nouvelle Élue", "contact_email": "elue@grigny.example"},
     ["contact: Nouvelle Élue <elue@grigny.example>"]),
    (["members", "erase", "9", "--yes"], {**MEMBER, "contact_name": None, "contact_email": None},
     ["contact: none (erased or never given)"]),
    (["digests", "send", "--start", "2026-11-01", "--end", "2026-11-08"],
     {"event_id": "e-1", "status": "queued",
      "period": {"start": "2026-11-01T00:00:00+00:00", "end": "2026-11-08T00:00:00+00:00"}},
     ["digest of 2026-11-01 to 2026-11-08 queued (event e-1)"]),
    (["digests", "list"],
     {"items": [{"digest": "campaign", "event_id": "e-1", "delivered_at":
                 "2026-12-01T08:00:03+00:00", "period": {"start": "2026-11-23T08:00:00+00:00",
                                                          "end": "2026-11-30T08:00:00+00:00"}}]},
     ["digest    from                  to                    delivered",
      "campaign  2026-11-23 08:00 UTC  2026-11-30 08:00 UTC  2026-12-01 08:00 UTC"]),
    (["reports", "progress"], PROGRESS,
     ["121 / 1000 members (deadline 2030-12-31)", "milestones reached: 10, 100; next: 1000",
      "members by wave: 1: 30, 2: 40, 3: 50, 4: 1", "wave 4 Fourth wave (open): 1 member(s)"]),
    (["reports", "rebuild"], {"replayed_events": 15}, ["read model rebuilt from 15 event(s)"]),
    (["staff", "add", "ana@example.org", "--role", "reviewer"],
     {"email": "ana@example.org", "role": "reviewer", "link": "http://console/welcome/x"},
     ["ana@example.org (reviewer) added.", "http://console/welcome/x"]),
    (["staff", "list"],
     {"items": [{"email": "ana@example.org", "role": "reviewer", "language": "fr",
                 "disabled": False, "password_set": False, "locked": False}]},
     ["email            role      language  state",
      "ana@example.org  reviewer  fr        invited"]),
    (["staff", "disable", "ana@example.org"], {"email": "ana@example.org", "disabled": True},
     ["ana@example.org disabled"]),
    (["members", "import", "MEMBERS_CSV"], IMPORT_REPORT, []),
    (["members", "resubscribe", "Ana@Example.org"],
     {"email": "ana@example.org", "unsubscribed": False, "was_unsubscribed": True},
     ["ana@example.org gets the wave announcements again"]),
]


@pytest.fixture
def api(monkeypatch):
    """The staff APIs answer ``api.answer``; ``api.calls`` is what hrc asked of them."""

    class Canned:
        answer: Any = None
        calls: list[tuple[str, str]] = []

    def call(self, method, path, extra_headers=None, **kwargs):
        Canned.calls.append((method, path))
        return Canned.answer

    monkeypatch.setattr(StaffApi, "_call", call)
    monkeypatch.setenv("HRC_STAFF_TOKEN", "t")
    return Canned


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = hrc(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _argv(argv: list[str], tmp_path) -> list[str]:
    if "MEMBERS_CSV" in argv:
        path = tmp_path / "members.csv"
        path.write_text("government_name,country\n", encoding="utf-8")
        argv = [str(path) if a == "MEMBERS_CSV" else a for a in argv]
    return argv


@pytest.mark.parametrize(("argv", "answer", "readable"), COMMANDS,
                         ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_each_command_prints_text_by_default_and_the_json_with_json(
        api, capsys, tmp_path, argv, answer, readable):
    api.answer = answer
    argv = _argv(argv, tmp_path)

    code, out, _ = run(capsys, argv)
    assert code == 0
    for line in readable:
        assert line in out, f"{line!r} not in\n{out}"
    assert '{"' not in out and "{'" not in out  # no JSON blob, no Python repr

    code, out, _ = run(capsys, [*argv, "--json"])
    assert code == 0 and json.loads(out) == answer


def test_every_staff_command_is_covered_here():
    """A new command gets its text view and a line in COMMANDS, or this fails."""
    import argparse

    from hrc import accounts, digests, staff

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    for module in (staff, digests, accounts):
        module.register(commands)
    every = {(group, name) for group, sub in commands.choices.items()
             for action in sub._actions if isinstance(action, argparse._SubParsersAction)
             for name in action.choices}
    assert every == {tuple(argv[:2]) for argv, _, _ in COMMANDS}


def test_the_progress_csv_is_printed_as_the_route_wrote_it(api, monkeypatch, capsys):
    monkeypatch.setattr(StaffApi, "get_text", lambda self, path: "section,key\ntotal,121\n")
    code, out, _ = run(capsys, ["reports", "progress", "--format", "csv"])
    assert code == 0 and out == "section,key\ntotal,121\n"


def test_a_page_says_how_many_on_stderr_so_the_table_pipes_cleanly(api, capsys):
    api.answer = {"items": [WAVE], "total": 7, "page": 2}
    _, out, err = run(capsys, ["waves", "list"])
    assert len(out.splitlines()) == 2 and err.strip() == "1 of 7 waves (page 2)"
    api.answer = {"items": [], "total": 0}
    _, out, _ = run(capsys, ["members", "list"])
    assert out.strip() == "no members"


def test_an_export_written_to_a_file_is_the_json_document(api, capsys, tmp_path):
    api.answer = {"member": MEMBER, "applications": [], "audit": []}
    target = tmp_path / "member-9.json"
    code, out, _ = run(capsys, ["members", "export", "9", "--output", str(target)])
    assert code == 0 and out.strip() == f"written to {target}"
    assert json.loads(target.read_text(encoding="utf-8")) == api.answer


def test_resubscribe_asks_notify_for_the_address_and_says_when_nothing_changed(
        api, capsys, monkeypatch):
    api.calls = []
    api.answer = {"email": "ana+x@example.org", "unsubscribed": False, "was_unsubscribed": False}
    code, out, _ = run(capsys, ["members", "resubscribe", "ana+x@example.org",
                                "--url", "http://notify.example:9002"])
    assert code == 0
    assert api.calls == [("DELETE", "/api/unsubscribes?email=ana%2Bx%40example.org")]
    assert out.strip() == ("ana+x@example.org had not unsubscribed: "
                           "it gets the announcements already")
