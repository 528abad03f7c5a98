import pycountry
import pytest

from services.registry.regions import REGION_OF_COUNTRY, REGIONS, UnknownCountry, region_of


def test_every_iso_3166_country_has_a_uclg_region():
    codes = {c.alpha_2 for c in pycountry.countries}
    assert codes - set(REGION_OF_COUNTRY) == set()
    assert set(REGION_OF_COUNTRY) - codes == set()
    assert set(REGION_OF_COUNTRY.values()) == set(REGIONS)


@pytest.mark.parametrize(
    "country, region",
    [
        ("FR", "Europe"), ("es", "Europe"), ("UA", "Europe"),
        ("KR", "Asia-Pacific"), ("AU", "Asia-Pacific"), ("IN", "Asia-Pacific"),
        ("RU", "Eurasia"), ("KZ", "Eurasia"),
        ("MX", "Latin America"), ("BR", "Latin America"), ("CU", "Latin America"),
        ("TR", "Middle East & West Asia"), ("PS", "Middle East & West Asia"),
        ("US", "North America"), ("CA", "North America"),
        ("GM", "Africa"), ("MA", "Africa"), ("ZA", "Africa"),
    ],
)
def test_campaign_countries(country, region):
    assert region_of(country) == region


def test_an_unknown_code_is_refused():
    with pytest.raises(UnknownCountry):
        region_of("XX")
