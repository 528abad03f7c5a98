"""The UCLG world region of every ISO 3166-1 country.

UCLG organises its members in seven world sections. The table follows UCLG's sections where a
country belongs to one (for instance Georgia, Moldova and Ukraine sit in Europe through CEMR, the
Caucasus and Central Asia in Eurasia, Mexico and the Caribbean in Latin America) and geography
otherwise. Territories with no local government of their own (Antarctica, Bouvet Island, Heard
Island, ...) follow the nearest inhabited region, so that every code maps and nothing is dropped.
"""
from __future__ import annotations

AFRICA = "Africa"
ASIA_PACIFIC = "Asia-Pacific"
EURASIA = "Eurasia"
EUROPE = "Europe"
LATIN_AMERICA = "Latin America"
MIDDLE_EAST_WEST_ASIA = "Middle East & West Asia"
NORTH_AMERICA = "North America"

REGIONS = (
    AFRICA,
    ASIA_PACIFIC,
    EURASIA,
    EUROPE,
    LATIN_AMERICA,
    MIDDLE_EAST_WEST_ASIA,
    NORTH_AMERICA,
)

_COUNTRIES_BY_REGION: dict[str, str] = {
    AFRICA: """
        AO BF BI BJ BV BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW IO KE KM LR
        LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TF TG TN TZ
        UG YT ZA ZM ZW
    """,
    ASIA_PACIFIC: """
        AF AQ AS AU BD BN BT CC CK CN CX FJ FM GU HK HM ID IN JP KH KI KP KR LA LK MH MM MN
        MO MP MV MY NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TK TL TO TV TW UM VN VU WF
        WS
    """,
    EURASIA: "AM AZ BY KG KZ RU TJ TM UZ",
    EUROPE: """
        AD AL AT AX BA BE BG CH CY CZ DE DK EE ES FI FO FR GB GE GG GI GR HR HU IE IM IS IT
        JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS SE SI SJ SK SM UA VA
    """,
    LATIN_AMERICA: """
        AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GS GT GY HN HT
        JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI
    """,
    MIDDLE_EAST_WEST_ASIA: "AE BH IL IQ IR JO KW LB OM PS QA SA SY TR YE",
    NORTH_AMERICA: "BM CA GL PM US",
}

REGION_OF_COUNTRY: dict[str, str] = {
    code: region
    for region, codes in _COUNTRIES_BY_REGION.items()
    for code in codes.split()
}


class UnknownCountry(ValueError):
    """Not an ISO 3166-1 alpha-2 code."""


def region_of(country: str) -> str:
    """The UCLG world region of an ISO 3166-1 alpha-2 country code (any case)."""
    try:
        return REGION_OF_COUNTRY[country.strip().upper()]
    except KeyError:
        raise UnknownCountry(f"{country!r} is not an ISO 3166-1 alpha-2 country code") from None
