"""The projection on notify's tables behaves as the fake the unit tests use (one contract, run
against FakeDirectory, SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from services.notify import db
from services.notify.domain import Contact, Wave
from shared import db as shared_db
from tests.notify.fakes import FakeDirectory
from tests.notify.integration.conftest import migrated_database

ZOE = Contact("zoe@grigny.example", "Zoé", "fr", "Ville de Grigny")
ANA = Contact("ana@quilmes.example", "Ana", "es", "Municipio de Quilmes")
LEE = Contact("lee@gwangju.example", "Lee", "en", "Gwangju Metropolitan City")


@pytest.fixture(params=["fake", "sqlite", "postgresql"])
def directory(request, tmp_path):
    if request.param == "fake":
        yield FakeDirectory()
        return
    database = migrated_database(request.param, request, tmp_path)
    with database.transaction() as session:
        yield db.SqlDirectory(session)
    shared_db.dispose_all()


def test_applicants_members_and_waves(directory):
    directory.add_applicant("HRC-1", ZOE, {"country": "FR"})
    directory.add_applicant("HRC-2", ANA, {"country": "AR"})
    directory.set_application_status("HRC-2", "waitlisted")
    assert directory.applicant("HRC-1") == ZOE
    assert directory.applicant_facts("HRC-1") == {"country": "FR"}
    assert directory.application_status("HRC-1") in (None, "received")
    assert list(directory.waitlisted_applicants()) == [ANA]

    directory.add_member(7, None, "HRC-1")  # accepted, not yet joined: the applicant's contact
    assert directory.member(7) == ZOE
    directory.add_member(8, LEE, None)
    directory.set_member_status(8, "active")
    assert list(directory.active_members()) == [ZOE, LEE]
    directory.set_member_status(8, "withdrawn")
    assert list(directory.active_members()) == [ZOE]

    directory.add_wave(Wave(4, {"en": "Four", "fr": "Quatre", "es": "Cuatro"},
                            {"en": "t", "fr": "t", "es": "t"}, "2026-01-01", None))
    assert directory.wave(4).name_in("es") == "Cuatro"
    assert directory.wave(5) is None


def test_forgetting_a_member_forgets_their_applications(directory):
    directory.add_applicant("HRC-1", ZOE, {})
    directory.add_member(7, None, "HRC-1")
    directory.forget_member(7, [])
    assert directory.member(7) is None
    assert directory.applicant("HRC-1") is None
    assert list(directory.active_members()) == []
