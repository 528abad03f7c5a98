"""The one staff-token check every service's staff routes share (shared.staff_access)."""
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import DeclarativeBase
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shared.events import StaffTokenIssued, new_event
from shared.http import HttpError
from shared.staff_access import AnnouncedTokens, IssuedTokenColumns, StaffAccess
from shared.staff_tokens import StaffToken, token_digest


def access(config, issued=None, console=True, service="reports"):
    dependency = StaffAccess(issued, console=console)
    dependency.container = SimpleNamespace(config=config, service_name=service)
    dependency.setup()
    return dependency


def request(authorization=None, actor=None):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    if actor is not None:
        headers["X-Staff-Actor"] = actor
    return Request(EnvironBuilder(headers=headers).get_environ())


def allows(dependency, authorization):
    try:
        dependency.require(request(authorization))
    except HttpError:
        return False
    return True


@pytest.mark.parametrize("setting", ["s3cret", "alice:s3cret", " other:x , alice:s3cret "])
def test_a_configured_token_is_allowed_as_a_bearer(setting):
    staff = access({"STAFF_API_TOKENS": setting, "DB_URL": "sqlite://"})
    assert allows(staff, "Bearer s3cret")
    assert allows(staff, "bearer   s3cret ")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", "Basic s3cret",
                                    "s3cret", "Bearer alice:s3cret"])
def test_anything_else_is_refused(header):
    assert not allows(access({"STAFF_API_TOKENS": "alice:s3cret", "DB_URL": "sqlite://"}),
                      header)


def test_no_tokens_configured_nor_issued_refuses_everyone():
    assert not allows(access({"DB_URL": "sqlite://"}), "Bearer ")
    assert not allows(access({"STAFF_API_TOKENS": " , ", "DB_URL": "sqlite://"}), "Bearer ,")


def test_a_refusal_is_a_401_with_the_services_challenge():
    with pytest.raises(HttpError) as refused:
        access({"STAFF_API_TOKENS": "s3cret", "DB_URL": "sqlite://"},
               service="notify").require(request("Bearer nope"))
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="notify"'


def test_issued_tokens_count_only_while_none_is_configured():
    issued = [token_digest("generated-secret")]
    unconfigured = access({"DB_URL": "sqlite://"}, issued=lambda session: issued)
    assert allows(unconfigured, "Bearer generated-secret")
    assert unconfigured.who(request("Bearer generated-secret")) == "generated"
    configured = access({"STAFF_API_TOKENS": "s3cret", "DB_URL": "sqlite://"},
                        issued=lambda session: issued)
    assert not allows(configured, "Bearer generated-secret")


def test_an_issued_token_keeps_its_label():
    tokens = [StaffToken.from_secret("secretariat", "kept")]
    assert access({"DB_URL": "sqlite://"}, issued=lambda s: tokens).who(
        request("Bearer kept")) == "secretariat"


def test_the_console_token_names_its_person_only_where_the_console_is_accepted():
    config = {"STAFF_API_TOKENS": "ops:s3cret", "CONSOLE_STAFF_TOKEN": "desk",
              "DB_URL": "sqlite://"}
    staff = access(config)
    assert staff.who(request("Bearer desk", actor="ana@example.org")) == "ana@example.org"
    assert staff.who(request("Bearer s3cret", actor="ana@example.org")) == "ops"
    assert not allows(access(config, console=False), "Bearer desk")


class _Base(DeclarativeBase):
    pass


class _AnnouncedRow(_Base, IssuedTokenColumns):
    __tablename__ = "staff_tokens"


def test_an_announced_token_is_remembered_once_and_read_back(database):
    _Base.metadata.create_all(database.engine)
    announced = AnnouncedTokens(_AnnouncedRow)
    event = new_event("staff.token_issued", {"label": "generated",
                                             "digest": token_digest("generated-secret")})
    for _ in range(2):  # a replayed event changes nothing
        with database.transaction() as session:
            announced.remember(StaffTokenIssued.of(event), session)
    with database.transaction() as session:
        assert announced.digests(session) == [token_digest("generated-secret")]
    staff = access({"DB_URL": database.url}, issued=announced.digests)
    assert staff.who(request("Bearer generated-secret")) == "generated"
