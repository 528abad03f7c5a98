"""Hostile input at intake's edge (issue 10), on SQLite and PostgreSQL: each case is a 4xx with
a message for its field, and nothing is stored."""
from __future__ import annotations

import pytest
import requests

from tests.intake.conftest import as_form, example, start_intake

RLO, ZWSP, SURROGATE = "\u202e", "\u200b", "\ud800"


@pytest.fixture(params=["sqlite", "postgresql"])
def intake(request, tmp_path, free_port):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/intake.db"
    else:
        url = request.getfixturevalue("postgres")("intake").url
    started = start_intake(url, "memory://", free_port())
    yield started
    started.container.stop()


JSON_CASES = [
    # The five fields that were a 500 (UnicodeEncodeError in the fingerprint), and the rest.
    *[(field, f"Ana{SURROGATE}") for field in
      ("contact_name", "authority_name", "authority_title", "contact_position", "frameworks")],
    ("government_name", f"Ville{SURROGATE}"),
    ("commitment", "We commit to human rights\x00 in every local policy."),
    ("government_name", f"Ville de {RLO}ynirG"),
    ("contact_name", f"Zo{ZWSP}é Martin"),
    ("authority_title", f"Maire{RLO}"),
]


@pytest.mark.parametrize(("field", "value"), JSON_CASES)
def test_a_hostile_text_is_a_422_for_its_field_and_nothing_is_stored(intake, field, value):
    response = intake.post_json(example(**{field: value}))
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == [field]
    assert response.json()["errors"][field][0]
    assert intake.submissions() == [] and intake.outbox() == []


def test_deeply_nested_json_is_a_400(intake):
    response = requests.post(f"{intake.url}/applications", data="[" * 20000,
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed_json"
    nested = example(frameworks=None)
    nested["themes"] = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["food"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    assert intake.post_json(nested).status_code == 400
    assert intake.submissions() == []


def test_a_direction_override_in_a_form_post_is_refused_by_its_field(intake):
    browser = intake.browser()
    fields = [*as_form(example(government_name=f"Ville de {RLO}ynirG")),
              ("csrf_token", intake.form_token(browser))]
    response = intake.post_form(browser, fields)
    assert response.status_code == 422
    assert "invisible or text-direction characters" in response.text
    assert intake.submissions() == []


def test_names_are_stored_nfc_normalised(intake):
    decomposed = "Ville de Sainte-Genevie\u0300ve"  # e + combining grave accent
    response = intake.post_json(example(government_name=decomposed))
    assert response.status_code == 202, response.text
    [submission] = intake.submissions()
    assert submission.payload["government_name"] == "Ville de Sainte-Geneviève"
