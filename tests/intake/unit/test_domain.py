"""The rules of an application, each at its boundaries."""

import pytest

from services.intake import domain
from services.intake.domain import FieldProblem


def problem(rule, value) -> str:
    with pytest.raises(FieldProblem) as caught:
        rule(value)
    return caught.value.message


# -- normalisation ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Grigny  ", "Grigny"),
        ("Ville   de\u00a0 Grigny", "Ville de Grigny"),
        ("Cafe\u0301", "Café"),  # NFC: the decomposed form is stored composed
        ("\nGrigny\n", "Grigny"),  # edges are trimmed before the line-break check
    ],
)
def test_single_line_fields_are_trimmed_and_collapsed(typed, kept):
    assert domain.single_line(typed) == kept


@pytest.mark.parametrize(
    "typed", ["Grigny\nBcc: x@y.z", "Grigny\rX", "a\tb", "a\x00b", "a\x1bb", "a\u2028b", "a\x85b"]
)
def test_single_line_fields_refuse_control_characters_and_line_breaks(typed):
    assert problem(domain.government_name, typed) == (
        "Use a single line without control characters."
    )


def test_multi_line_text_keeps_paragraphs_and_collapses_the_rest():
    typed = "  First   line\t here \r\n\r\n\r\n\r\nSecond\rThird  "
    assert domain.multi_line(typed) == "First line here\n\nSecond\nThird"


def test_multi_line_text_refuses_other_control_characters():
    assert problem(domain.commitment, "x" * 30 + "\x07") == (
        "Remove the control characters from this text."
    )


def test_a_value_that_is_not_text_is_refused():
    assert problem(domain.government_name, 12) == "Enter text."
    assert problem(domain.commitment, ["x" * 30]) == "Enter text."


# -- government_name: required, 2-200 ---------------------------------------------------------

@pytest.mark.parametrize("length", [2, 200])
def test_government_name_accepts_its_boundaries(length):
    assert domain.government_name("a" * length) == "a" * length


def test_government_name_refuses_outside_its_boundaries():
    assert problem(domain.government_name, "") == "This field is required."
    assert problem(domain.government_name, "   ") == "This field is required."
    assert problem(domain.government_name, "a") == "Enter at least %(min)d characters."
    assert problem(domain.government_name, "a" * 201) == "Enter at most %(max)d characters."


def test_lengths_are_counted_after_normalisation():
    assert domain.government_name("  " + "a" * 200 + "  ") == "a" * 200
    assert domain.government_name("a  b") == "a b"


def test_a_problem_carries_its_parameters_for_the_translation():
    with pytest.raises(FieldProblem) as caught:
        domain.government_name("a")
    assert str(caught.value) == "Enter at least 2 characters."
    assert caught.value.translated(lambda m: m.replace("Enter", "Saisissez")) == (
        "Saisissez at least 2 characters."
    )


# -- the people ---------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [1, 200])
def test_person_fields_accept_their_boundaries(length):
    assert domain.person_field("Ó" * length) == "Ó" * length


def test_person_fields_refuse_outside_their_boundaries():
    assert problem(domain.person_field, "") == "This field is required."
    assert problem(domain.person_field, "a" * 201) == "Enter at most %(max)d characters."
    assert problem(domain.person_field, "Mayor\r\nX-Header: 1") == (
        "Use a single line without control characters."
    )


# -- country ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "kept"), [("fr", "FR"), (" ci ", "CI"), ("Kr", "KR")])
def test_country_is_an_upper_case_iso_code(typed, kept):
    assert domain.country(typed) == kept


@pytest.mark.parametrize("typed", ["F", "FRA", "XX", "UK", "France", "1A"])
def test_country_refuses_what_is_not_an_iso_alpha_2_code(typed):
    assert problem(domain.country, typed) == "Choose a country from the list."


def test_country_is_required():
    assert problem(domain.country, " ") == "This field is required."


# -- choices ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", domain.JURISDICTION_TYPES)
def test_every_jurisdiction_type_is_accepted(kind):
    assert domain.jurisdiction_type(kind.upper()) == kind


def test_jurisdiction_type_refuses_others():
    assert problem(domain.jurisdiction_type, "city") == "Choose one of the options."
    assert problem(domain.jurisdiction_type, "") == "This field is required."


@pytest.mark.parametrize("code", ["en", "fr", "es", " FR "])
def test_language_is_one_of_the_campaigns(code):
    assert domain.language(code) == code.strip().lower()


def test_language_refuses_others():
    assert problem(domain.language, "de") == "Choose one of the options."


# -- population: integer >= 1 -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (1, 1),
        ("1", 1),
        ("29 000", 29000),
        ("29\u202f000", 29000),
        ("1\u00a0200\u00a0000", 1200000),
        (domain.POPULATION_MAX, domain.POPULATION_MAX),
    ],
)
def test_population_accepts_whole_numbers_from_one(typed, kept):
    assert domain.population(typed) == kept


@pytest.mark.parametrize("typed", ["0", 0])
def test_population_refuses_zero(typed):
    assert problem(domain.population, typed) == "Enter a number of at least 1."


@pytest.mark.parametrize("typed", [-1, "-1", "1.5", "12,000", "abc", "١٢", True, 2.0, "1e3"])
def test_population_refuses_what_is_not_a_whole_number(typed):
    assert problem(domain.population, typed) in (
        "Enter a whole number, for example 25000.",
        "Enter a number of at least 1.",
        "Enter text.",
    )


def test_population_refuses_more_than_any_government():
    assert problem(domain.population, domain.POPULATION_MAX + 1) == (
        "Enter a number of at most %(max)d."
    )


def test_population_is_required():
    assert problem(domain.population, "  ") == "This field is required."


# -- website: optional http(s) URL ------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("", None),
        (None, None),
        ("  ", None),
        ("https://www.grigny91.fr", "https://www.grigny91.fr"),
        ("HTTP://Example.ORG/Path?q=A", "http://example.org/Path?q=A"),
    ],
)
def test_website_is_optional_and_normalised(typed, kept):
    assert domain.website(typed) == kept


@pytest.mark.parametrize(
    "typed",
    ["www.grigny91.fr", "ftp://example.org", "javascript:alert(1)", "https://", "https://localhost",
     "https://exa mple.org"],
)
def test_website_must_be_a_full_http_address(typed):
    assert problem(domain.website, typed) == (
        "Enter a full web address starting with https:// or http://."
    )


def test_website_has_a_maximum_length():
    base = "https://example.org/"
    assert domain.website(base + "a" * (domain.WEBSITE_MAX - len(base)))
    assert problem(domain.website, base + "a" * (domain.WEBSITE_MAX - len(base) + 1)) == (
        "Enter at most %(max)d characters."
    )


# -- contact_email ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (" Ana.Lopez@Example.ORG ", "Ana.Lopez@example.org"),
        ("contact@ville.fr", "contact@ville.fr"),
        ("x@bücher.DE", "x@xn--bcher-kva.de"),
    ],
)
def test_contact_email_keeps_the_local_part_and_lowers_the_domain(typed, kept):
    assert domain.contact_email(typed) == kept


@pytest.mark.parametrize(
    "typed", ["no-at-sign", "a@", "@example.org", "a@b", "a b@example.org", "a@example..org"]
)
def test_contact_email_must_be_an_address(typed):
    assert problem(domain.contact_email, typed) == "Enter an e-mail address like name@example.org."


def test_contact_email_refuses_header_injection_and_length():
    assert problem(domain.contact_email, "a@example.org\nBcc: b@example.org") == (
        "Use a single line without control characters."
    )
    assert problem(domain.contact_email, "a" * 64 + "@" + "b" * 186 + ".org") == (
        "Enter at most %(max)d characters."
    )
    assert problem(domain.contact_email, "") == "This field is required."


# -- contact_phone: optional ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "kept"),
    [(None, None), ("", None), (" +33  1 23 45 67 89 ", "+33 1 23 45 67 89"),
     ("(021) 555-0199", "(021) 555-0199"), ("1234", "1234")],
)
def test_contact_phone_is_optional_and_trimmed(typed, kept):
    assert domain.contact_phone(typed) == kept


@pytest.mark.parametrize("typed", ["123", "call me", "+33 1 23 45 67 89 ext. 2", "1" * 41])
def test_contact_phone_refuses_what_is_not_a_phone_number(typed):
    assert problem(domain.contact_phone, typed) in (
        "Enter a phone number, for example +33 1 23 45 67 89.",
        "Enter at most %(max)d characters.",
    )


def test_contact_phone_length_boundary():
    assert domain.contact_phone("1" * domain.PHONE_MAX) == "1" * domain.PHONE_MAX


# -- themes -----------------------------------------------------------------------------------

def test_themes_are_kept_once_in_the_catalogue_order():
    assert domain.themes(["peace", "food", "PEACE", " housing "]) == ["food", "housing", "peace"]


def test_a_single_theme_may_come_as_text():
    assert domain.themes("gender") == ["gender"]


def test_every_theme_is_accepted():
    assert domain.themes(list(domain.THEMES)) == list(domain.THEMES)


@pytest.mark.parametrize("typed", [[], [""], "", None, [1], {"food": True}])
def test_at_least_one_theme(typed):
    assert problem(domain.themes, typed) == "Choose at least one theme."


def test_themes_come_from_the_list():
    assert problem(domain.themes, ["food", "sports"]) == "Choose themes from the list."


# -- commitment: 20-5000, frameworks optional -------------------------------------------------

@pytest.mark.parametrize("length", [20, 5000])
def test_commitment_accepts_its_boundaries(length):
    assert domain.commitment("c" * length) == "c" * length


def test_commitment_refuses_outside_its_boundaries():
    assert problem(domain.commitment, "c" * 19) == "Enter at least %(min)d characters."
    assert problem(domain.commitment, "c" * 5001) == "Enter at most %(max)d characters."
    assert problem(domain.commitment, "  \n ") == "This field is required."


def test_commitment_counts_after_normalisation():
    assert problem(domain.commitment, "  " + "c" * 19 + "   ") == (
        "Enter at least %(min)d characters."
    )
    assert domain.commitment("line one is here\n\nline two") == "line one is here\n\nline two"


def test_frameworks_is_optional_up_to_5000():
    assert domain.frameworks(None) is None
    assert domain.frameworks("  ") is None
    assert domain.frameworks("f" * 5000) == "f" * 5000
    assert problem(domain.frameworks, "f" * 5001) == "Enter at most %(max)d characters."


# -- consent ----------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [True, "on", "yes", "true", "1", " YES "])
def test_consent_is_given_by_a_ticked_box_or_true(given):
    assert domain.consent(given) is True


@pytest.mark.parametrize("given", [False, None, "", "no", "false", "0", 1, "off"])
def test_consent_is_never_assumed(given):
    assert problem(domain.consent, given) == (
        "Tick the box to consent to the processing of your data."
    )


# -- honeypot ---------------------------------------------------------------------------------

def test_honeypot_filled_means_spam():
    assert domain.is_spam({domain.HONEYPOT_FIELD: "http://spam.example"})
    assert domain.is_spam({domain.HONEYPOT_FIELD: ["x"]})


@pytest.mark.parametrize("trap", [None, "", "   "])
def test_honeypot_empty_or_absent_is_a_person(trap):
    assert not domain.is_spam({domain.HONEYPOT_FIELD: trap})
    assert not domain.is_spam({})


# -- fingerprint ------------------------------------------------------------------------------

APPLICATION = {
    "government_name": "Grigny",
    "country": "FR",
    "jurisdiction_type": "municipality",
    "population": 29000,
    "themes": ["food", "peace"],
    "commitment": "c" * 30,
    "consent": True,
    "language": "fr",
}


def test_fingerprint_ignores_key_and_theme_order():
    shuffled = dict(reversed(list(APPLICATION.items())), themes=["peace", "food"])
    assert domain.fingerprint(shuffled) == domain.fingerprint(APPLICATION)


def test_fingerprint_ignores_what_is_not_part_of_an_application():
    assert domain.fingerprint({**APPLICATION, "reference": "HRC-2026-AAAAA"}) == (
        domain.fingerprint(APPLICATION)
    )


@pytest.mark.parametrize(
    "change", [{"population": 29001}, {"themes": ["food"]}, {"language": "en"},
               {"government_name": "Grigny "}, {"website": "https://grigny.fr"}]
)
def test_fingerprint_changes_with_any_field(change):
    assert domain.fingerprint({**APPLICATION, **change}) != domain.fingerprint(APPLICATION)


def test_fingerprint_is_a_sha256_hex():
    assert len(domain.fingerprint(APPLICATION)) == 64
    int(domain.fingerprint(APPLICATION), 16)


# -- references -------------------------------------------------------------------------------

def test_reference_format():
    reference = domain.new_reference(2026)
    assert domain.REFERENCE_PATTERN.match(reference)
    assert reference.startswith("HRC-2026-")
    assert len(reference) == len("HRC-2026-7KQ4M")


def test_reference_alphabet_is_crockford_without_ambiguous_letters():
    assert len(domain.CROCKFORD_ALPHABET) == 32 == len(set(domain.CROCKFORD_ALPHABET))
    assert not set("ILOU") & set(domain.CROCKFORD_ALPHABET)
    seen = "".join(domain.new_reference(2026)[-5:] for _ in range(2000))
    assert set(seen) <= set(domain.CROCKFORD_ALPHABET)
    assert len(set(seen)) == 32  # every symbol turns up: the choice is not biased to a subset


def test_reference_uses_the_given_randomness():
    # 32 + index: a byte's value beyond the alphabet wraps around (modulo 32).
    drawn = bytes(32 + domain.CROCKFORD_ALPHABET.index(symbol) for symbol in "7KQ4M")
    assert domain.new_reference(2026, random_bytes=lambda n: drawn[:n]) == "HRC-2026-7KQ4M"


@pytest.mark.parametrize(
    "typed", ["HRC-2026-7KQ4M", "hrc-2026-7kq4m", " HRC 2026 7KQ4M ", "HRC20267KQ4M"]
)
def test_a_reference_is_read_as_a_person_types_it(typed):
    assert domain.parse_reference(typed) == "HRC-2026-7KQ4M"


def test_misread_letters_are_read_as_the_digits_they_look_like():
    assert domain.parse_reference("HRC-2026-OIL00") == "HRC-2026-01100"


@pytest.mark.parametrize("typed", ["", "HRC-2026-7KQ4", "HRC-2026-7KQ4MM", "ABC-2026-7KQ4M",
                                   "HRC-26-7KQ4M", "HRC-2026-7KQ4U"])
def test_what_is_not_a_reference_is_refused(typed):
    with pytest.raises(domain.InvalidReference):
        domain.parse_reference(typed)
