import pytest

from shared.staff_tokens import (
    InvalidTokenSetting,
    authenticate,
    bearer_token,
    generate_token,
    parse_tokens,
    token_digest,
)


def test_labelled_and_bare_tokens():
    tokens = parse_tokens(" alice:s3cret-a , s3cret-bare ,, bob:s3cret-b")
    labels = [t.label for t in tokens]
    assert labels[0] == "alice" and labels[2] == "bob"
    assert labels[1] == "token-" + token_digest("s3cret-bare")[:8]
    assert all("s3cret" not in t.label + t.digest for t in tokens)


def test_no_setting_no_tokens():
    assert parse_tokens(None) == [] and parse_tokens(" , ") == []


def test_an_empty_labelled_token_is_a_configuration_error():
    with pytest.raises(InvalidTokenSetting, match="alice"):
        parse_tokens("alice:")


def test_authenticate():
    tokens = parse_tokens("alice:one,bob:two")
    assert authenticate("two", tokens).label == "bob"
    assert authenticate("three", tokens) is None
    assert authenticate("", tokens) is None
    assert authenticate(None, tokens) is None


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header, token):
    assert bearer_token(header) == token


def test_generated_tokens_are_long_and_distinct():
    a, b = generate_token(), generate_token()
    assert a != b and len(a) >= 40
