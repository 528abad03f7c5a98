import pytest

from services.reports.access import StaffTokens
from shared.http import HttpError


@pytest.mark.parametrize("setting", ["s3cret", "alice:s3cret", " other:x , alice:s3cret "])
def test_a_configured_token_is_allowed_as_a_bearer(setting):
    assert StaffTokens(setting).allows("Bearer s3cret")
    assert StaffTokens(setting).allows("bearer   s3cret ")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", "Basic s3cret",
                                    "s3cret", "Bearer alice:s3cret"])
def test_anything_else_is_refused(header):
    assert not StaffTokens("alice:s3cret").allows(header)


def test_no_tokens_configured_refuses_everyone():
    tokens = StaffTokens(None)
    assert not tokens and not tokens.allows("Bearer ")
    assert not StaffTokens(" , ").allows("Bearer ,")


def test_a_refusal_is_a_401_with_a_challenge():
    with pytest.raises(HttpError) as refused:
        StaffTokens("s3cret").require("Bearer nope")
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
