import base64
import csv
from io import BytesIO, StringIO

import matplotlib.image
import pytest

from services.reports.domain import InMemoryStore, Period, UnknownLanguage, build_digest
from services.reports.handlers import project
from services.reports.views import (
    digest_ready_data,
    members_chart,
    public_progress_json,
    render,
    render_digest,
)
from shared.events import new_event
from tests.reports.streams import PERIOD_END, PERIOD_START, at, received, seeded_stream


@pytest.fixture(scope="module")
def store() -> InMemoryStore:
    store = InMemoryStore()
    for event in seeded_stream():
        project(event, store)
    return store


@pytest.fixture(scope="module")
def content(store):
    return build_digest(store, Period(at(PERIOD_START), at(PERIOD_END)))


def test_the_digest_counts_what_happened_in_its_period(content):
    assert [a.reference for a in content.new_applications] == ["R-0101", "R-0102", "R-0103"]
    assert [(d.reference, d.outcome) for d in content.decisions] == [
        ("R-0085", "accepted"), ("R-0086", "declined"), ("R-0101", "accepted")
    ]
    assert (content.accepted, content.declined) == (2, 1)
    assert [m.member_id for m in content.members_joined] == [13, 14]
    assert content.members_left == []


def test_the_digest_flags_applications_waiting_more_than_fourteen_days(content):
    assert [(w.application.reference, w.days) for w in content.waiting] == [
        ("R-0080", 67), ("R-0090", 37), ("R-0095", 18)
    ]


def test_the_digest_totals_are_the_campaign_at_the_period_end(content):
    assert content.overview.progress.members == 13
    assert content.overview.at == at(PERIOD_END)


def test_html_and_text_carry_the_numbers(content):
    rendered = render_digest(content, "en")
    assert rendered.subject == (
        "Human Rights Cities and Territories digest, 2024-01-01 to 2024-01-08: 13 members")
    for part in (rendered.html, rendered.text):
        assert "New applications: 3" in part
        assert "Decisions: 2 accepted, 1 declined" in part
        assert "Waiting for more than 14 days: 3" in part
        assert "Members joined: 2" in part
        assert "Porto Alegre" in part and "Dakar" in part
    assert 'src="cid:progress-chart"' in rendered.html


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", ("Nouvelles candidatures : 3", "Villes et Territoires des Droits Humains")),
     ("es", ("Nuevas solicitudes: 3", "Ciudades y Territorios de Derechos Humanos"))],
)
def test_the_digest_speaks_the_digest_language(content, language, words):
    rendered = render_digest(content, language)
    for word in words:
        assert word in rendered.html and word in rendered.text
    assert f'lang="{language}"' in rendered.html


def test_the_digest_names_countries_regions_and_days_instead_of_codes(content):
    # It printed "FR", "Europe" in English and "2022-01-09 12:00 UTC" for the day a member joined.
    [member] = [m for m in content.members_joined if m.member_id == 14]
    rendered = render_digest(content, "es")
    for part in (rendered.html, rendered.text):
        assert "(FR" not in part and ">FR<" not in part
        assert {"FR": "Francia", "SN": "Senegal", "BR": "Brasil"}.get(member.country, "?") in part
        assert f"{member.joined_at.day} de " in part
    english = render_digest(content, "en")
    assert "Latin America" in english.html and "América Latina" in rendered.html


def test_an_unknown_language_is_refused(content):
    with pytest.raises(UnknownLanguage):
        render_digest(content, "de")


def test_the_csv_lists_every_line_and_the_totals(content):
    rows = list(csv.DictReader(StringIO(render_digest(content).csv)))
    sections = [r["section"] for r in rows]
    assert sections.count("new_application") == 3
    assert sections.count("decision") == 3
    assert sections.count("waiting") == 3
    assert sections.count("member_joined") == 2
    totals = {r["key"]: r["value"] for r in rows if r["section"] == "total"}
    assert totals["members"] == "13"


def test_names_from_the_public_form_are_escaped_in_html_and_defused_in_csv():
    store = InMemoryStore()
    project(received("R-0666", "2024-01-02T00:00:00",
                     government_name="=HYPERLINK(\"x\")<script>alert(1)</script>"), store)
    rendered = render_digest(build_digest(store, Period(at(PERIOD_START), at(PERIOD_END))))
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    row = next(r for r in csv.DictReader(StringIO(rendered.csv)) if r["key"] == "R-0666")
    assert row["name"].startswith("'=")


def test_every_cell_that_could_run_as_a_formula_is_quoted_and_none_is_empty():
    # The whole sheet as it was written a cell at a time (_cell), down to the byte.
    rows = [("waiting", "=1+1", "+33", "-x", "@SUM(A1)", "\tTab", "\rCR", None),
            ("total", "members", "", "", 3, 2.5, "a=b", 0),
            ("member_left", 7, "Ville", None, None, "withdrawn", "2024-01-02T00:00:00+00:00", "")]
    assert render._csv(rows) == (
        "section,key,name,country,wave,status,date,value\r\n"
        "waiting,'=1+1,'+33,'-x,'@SUM(A1),'\tTab,\"'\rCR\",\r\n"
        "total,members,,,3,2.5,a=b,0\r\n"
        "member_left,7,Ville,,,withdrawn,2024-01-02T00:00:00+00:00,\r\n")
    assert render._csv([]) == "section,key,name,country,wave,status,date,value\r\n"


def test_the_digest_ready_event_carries_the_chart_inline_and_the_csv(content):
    rendered = render_digest(content, "fr")
    chart = members_chart(content.overview.series, content.overview.progress, "fr")
    data = digest_ready_data(content, rendered, chart, ["staff@example.org"], "fr")
    event = new_event("digest.ready", data)
    png, sheet = event.data["attachments"]
    assert png["content_id"] == "progress-chart" and png["content_type"] == "image/png"
    image = matplotlib.image.imread(BytesIO(base64.b64decode(png["content_base64"])),
                                    format="png")
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert base64.b64decode(sheet["content_base64"]).decode().startswith("section,key")
    assert event.data["period"] == {"start": at(PERIOD_START).isoformat(),
                                    "end": at(PERIOD_END).isoformat()}


def test_the_public_figures_name_the_last_day_of_2030_and_no_one(content):
    figures = public_progress_json(content.overview)
    assert figures["progress"]["deadline"] == "2030-12-31"
    assert figures["progress"]["members"] == 13
    assert "Dakar" not in repr(figures) and "R-0085" not in repr(figures)


def test_a_digest_sent_before_its_period_ends_measures_ages_when_it_is_sent():
    store = InMemoryStore()
    for event in (received("R-0001", "2026-11-01T00:00:00"),):
        project(event, store)
    period = Period(at("2026-11-01T00:00:00"), at("2026-12-01T00:00:00"))
    early = build_digest(store, period, sent_at=at("2026-11-11T00:00:00"))
    assert early.overview.applications_by_status["received"].average_days == 10
    assert build_digest(store, period).overview.applications_by_status[
        "received"].average_days == 30


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_digest_fits_a_phone(content, language, browser):
    # Five-column tables ran 54 to 83 px past a 375 px screen.
    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        page.set_content(render_digest(content, language).html)
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    finally:
        page.close()
