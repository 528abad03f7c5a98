import xml.etree.ElementTree as ET
from io import BytesIO

import matplotlib.image

from services.reports.domain import InMemoryStore, overview
from services.reports.handlers import project
from services.reports.views import badge_svg, members_chart
from tests.reports.streams import at, seeded_stream

SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_is_a_decodable_png_of_the_expected_size():
    store = InMemoryStore()
    for event in seeded_stream():
        project(event, store)
    picture = overview(store, at("2024-06-01T00:00:00"))
    png = members_chart(picture.series, picture.progress, "es")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(BytesIO(png), format="png")
    assert image.shape[:2] == (450, 800)


def test_a_campaign_with_no_members_yet_still_has_a_chart():
    picture = overview(InMemoryStore(), at("2024-06-01T00:00:00"))
    png = members_chart(picture.series, picture.progress)
    assert matplotlib.image.imread(BytesIO(png), format="png").shape[:2] == (450, 800)


def test_the_badge_is_well_formed_svg_with_the_count():
    root = ET.fromstring(badge_svg(123))
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["123 / 1000", "Human Rights Cities and Territories"]
    assert root.find(f"{SVG}title").text == "123 / 1000 Human Rights Cities and Territories"
    assert int(root.get("width")) > 200


def test_the_badge_speaks_french_and_spanish():
    assert "Villes et Territoires des Droits Humains" in badge_svg(5, "fr")
    ET.fromstring(badge_svg(5, "es"))
