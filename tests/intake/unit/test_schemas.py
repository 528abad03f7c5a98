"""The form at the edge: every problem at once, per field, in the request's language."""
import pytest
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from services.intake import domain, i18n
from services.intake.schemas import ApplicationForm, errors_by_field, form_payload
from shared.events import ApplicationReceivedSchema, checked_event, new_event, parse_event

VALID = {
    "government_name": "  Ville de   Grigny ",
    "country": "fr",
    "jurisdiction_type": "municipality",
    "population": 29000,
    "website": "https://www.grigny91.fr",
    "authority_name": "Philippe Rio",
    "authority_title": "Maire",
    "contact_name": "Amanda Fléty",
    "contact_position": "Coordinatrice",
    "contact_email": "Contact@Grigny91.FR",
    "contact_phone": "+33 1 69 02 53 53",
    "language": "fr",
    "themes": ["peace", "right_to_the_city"],
    "commitment": "Grigny s'engage à faire des droits humains une réalité locale.",
    "frameworks": "Charte-Agenda mondiale des droits humains dans la ville",
    "consent": True,
}


def load(payload, language="en"):
    return ApplicationForm(gettext=i18n.translations(language).gettext, language=language).load(
        payload
    )


def errors(payload, language="en") -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        load(payload, language)
    return errors_by_field(caught.value.messages)


def test_a_valid_application_is_normalised():
    application = load(VALID)
    assert application["government_name"] == "Ville de Grigny"
    assert application["country"] == "FR"
    assert application["contact_email"] == "Contact@grigny91.fr"
    assert application["themes"] == ["right_to_the_city", "peace"]


def test_the_output_is_the_data_of_application_received():
    data = {**load(VALID), "reference": "HRC-2026-7KQ4M",
            "submitted_at": "2026-05-01T12:00:00+00:00",
            "page_url": "http://localhost:8000/applications/HRC-2026-7KQ4M/k3y"}
    assert ApplicationReceivedSchema().load(data) == data
    assert new_event("application.received", data).data == data


@pytest.mark.parametrize("changes", [
    {},
    {name: None for name in domain.OPTIONAL_FIELDS - {"listing_consent"}},
    {"government_name": "Ré", "population": 1, "themes": list(domain.THEMES),
     "commitment": "x" * 5000, "listing_consent": True, "language": "es"},
    {"government_name": "G" * 200, "commitment": "Droits humains, " * 100, "consent": "yes"},
])
def test_what_the_form_passes_the_catalogue_passes_unchanged(changes):
    """Intake builds application.received without validating it again (checked_event): every
    output of the form must be a valid event, and stay what it was."""
    data = {**load({**VALID, **changes}), "reference": "HRC-2026-7KQ4M",
            "submitted_at": "2026-05-01T12:00:00+00:00",
            "page_url": "http://localhost:8000/applications/HRC-2026-7KQ4M/k3y"}
    built = checked_event("application.received", data)
    assert parse_event(built.as_message()) == built


def test_optional_fields_may_be_left_out():
    required_only = {k: v for k, v in VALID.items() if k not in domain.OPTIONAL_FIELDS}
    application = load(required_only)
    assert application["website"] is None
    assert application["contact_phone"] is None
    assert application["frameworks"] is None


def test_the_mail_language_defaults_to_the_page_language():
    without = {k: v for k, v in VALID.items() if k != "language"}
    assert load(without, "es")["language"] == "es"
    assert load({**without, "language": None}, "fr")["language"] == "fr"
    assert load(VALID, "es")["language"] == "fr"


def test_every_problem_is_reported_at_once_field_by_field():
    found = errors({"government_name": "G", "country": "ZZ", "population": 0, "extra": 1})
    assert found["government_name"] == ["Enter at least 2 characters."]
    assert found["country"] == ["Choose a country from the list."]
    assert found["population"] == ["Enter a number of at least 1."]
    assert found["extra"] == ["This field is not part of the form."]
    for name in set(domain.RULES) - domain.OPTIONAL_FIELDS - {"language"}:
        assert found.get(name), name


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "This field is required."),
        ("fr", "Ce champ est obligatoire."),
        ("es", "Este campo es obligatorio."),
    ],
)
def test_messages_are_in_the_request_language(language, expected):
    found = errors({**VALID, "government_name": "", "contact_name": None}, language)
    assert found["government_name"] == [expected]
    assert found["contact_name"] == [expected]


def test_parameters_are_put_into_the_translated_message():
    assert errors({**VALID, "commitment": "trop court"}, "fr")["commitment"] == [
        "Saisissez au moins 20 caractères."
    ]
    assert errors({**VALID, "government_name": "x" * 201}, "es")["government_name"] == [
        "Escriba como máximo 200 caracteres."
    ]


def test_unknown_fields_are_refused_in_the_request_language():
    assert errors({**VALID, "mayor": "x"}, "es")["mayor"] == [
        "Este campo no forma parte del formulario."
    ]


def test_null_in_a_required_field_is_required():
    assert errors({**VALID, "consent": None})["consent"] == ["This field is required."]


def test_a_form_post_repeats_themes_and_leaves_out_its_controls():
    form = MultiDict(
        [*((k, v) for k, v in VALID.items() if k not in ("themes", "consent", "population")),
         ("population", "29 000"), ("themes", "food"), ("themes", "peace"), ("consent", "yes"),
         ("csrf_token", "t"), (domain.HONEYPOT_FIELD, ""), ("lang", "fr")]
    )
    payload = form_payload(form)
    assert payload["themes"] == ["food", "peace"]
    assert not {"csrf_token", domain.HONEYPOT_FIELD, "lang"} & set(payload)
    assert load(payload)["population"] == 29000


def test_a_form_post_without_ticks_says_what_to_tick():
    found = errors(form_payload(MultiDict([("government_name", "Grigny")])), "fr")
    assert found["themes"] == ["Choisissez au moins un thème."]
    assert found["consent"] == ["Cochez la case pour consentir au traitement de vos données."]
