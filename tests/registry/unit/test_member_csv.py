"""The CSV of existing members, row by row, and the import's rules (no database)."""
from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest

from services.registry.domain import Application, Member, government_key
from services.registry.historic_waves import HISTORIC_WAVES
from services.registry.member_csv import UnreadableFile, read_members
from tests.registry.unit.fakes import assert_valid, wave
from tests.support.campaign_members import campaign_csv

TODAY = date(2026, 3, 1)
HEADER = "government_name,country,jurisdiction_type,wave,joined_on,website,listing_consent\n"


def read(text: str, waves=HISTORIC_WAVES):
    return read_members(text, waves, TODAY)


def test_a_campaign_file_passes_whole():
    rows, refused = read(campaign_csv(120))
    assert (len(rows), refused) == (120, [])
    assert {r.wave for r in rows} == {1, 2, 3}
    assert rows[0].line == 2 and rows[0].joined_on == date(2022, 10, 12)


def test_each_refused_row_names_its_line_and_every_problem():
    rows, refused = read(HEADER + "Grigny,FR,municipality,1,2022-10-12,,true\n"
                         + "X,xx,town,0,12/10/2022,www.example.org,perhaps\n")
    assert [r.government_name for r in rows] == ["Grigny"]
    (row,) = refused
    assert row.line == 3
    assert set(row.errors) == {"government_name", "country", "jurisdiction_type", "wave",
                               "joined_on", "website", "listing_consent"}


@pytest.mark.parametrize("cells, field", [
    ("Grigny,FR,municipality,4,2026-01-01,,true", "wave"),            # planned, not opened
    ("Grigny,FR,municipality,1,2026-03-02,,true", "joined_on"),       # tomorrow
    ("Grigny,FR,municipality,1,2022-01-01,,true,,a@example.org", "contact_name"),
    ("Grigny,FR,municipality,1,2022-01-01,,true,A,not-an-address", "contact_email"),
    ("Grigny,FR,municipality,1,2022-01-01,,true,,,de", "language"),
    ("Grigny,FR,municipality,1,2022-01-01,,true,,,,extra", "_row"),
])
def test_rules_of_an_import(cells, field):
    header = HEADER.strip() + ",contact_name,contact_email,language\n"
    waves = [*HISTORIC_WAVES, wave(4)]
    _, refused = read(header + cells + "\n", waves)
    assert field in refused[0].errors


def test_the_same_government_twice_in_one_file_is_refused_the_second_time():
    rows, refused = read(HEADER + "Ville de Grigny,FR,municipality,1,2022-10-12,,true\n"
                         "\n"
                         "VILLE DE GRIGNY!,fr,municipality,2,2023-01-01,,no\n"
                         "Ville de Grigny,BE,municipality,2,2023-01-01,,no\n")
    assert [r.line for r in rows] == [2, 5]
    assert refused[0].line == 4 and "line 2" in refused[0].errors["government_name"][0]


@pytest.mark.parametrize("text", ["", "   \n", "name,country\nGrigny,FR\n",
                                  HEADER.strip() + ",population\n"])
def test_a_file_that_is_not_a_members_csv(text):
    with pytest.raises(UnreadableFile):
        read(text)


def test_semicolons_and_a_byte_order_mark_are_what_spreadsheets_save():
    rows, refused = read("\ufeff" + HEADER.replace(",", ";")
                         + "Bogotá;CO;metropolitan_area;3;2024-05-20;https://bogota.gov.co;oui\n")
    assert refused == [] and rows[0].listing_consent and rows[0].region == "Latin America"


def test_the_key_ignores_accents_case_and_punctuation_not_words():
    assert government_key("Ville de Saint-Étienne", "fr") == government_key(
        "VILLE DE SAINT ETIENNE", "FR")
    assert government_key("Mexico City", "MX") != government_key("Mexico", "MX")


def test_an_imported_member_joins_counted_and_says_it_was_imported():
    (row,), _ = read(HEADER + "Grigny,FR,municipality,1,2022-10-12,,true\n")
    wave_1 = HISTORIC_WAVES[0]
    joined_at = datetime(2022, 10, 12, 12, tzinfo=UTC)
    application = Application.of_imported_member("IMP-1", asdict(row), wave_1, joined_at)
    application.id = 7
    member = Member.bring_in(application, wave_1, joined_at)
    data = member.joined_event_data()
    assert (data["imported"], data["listing_consent"], data["wave"]) == (True, True, 1)
    assert application.status.value == "accepted" and application.imported
    assert_valid([("member.joined", {**data, "member_id": 1})])
