import pytest

from services.registry.duplicates import Candidate, normalise_name, possible_duplicates


@pytest.mark.parametrize(
    "name, core",
    [
        ("Ville de Saint-Denis", "saint denis"),
        ("Municipalité de Grigny", "grigny"),
        ("Commune de Grigny", "grigny"),
        ("Ville d'Évry-Courcouronnes", "evry courcouronnes"),
        ("City of Mexico", "mexico"),
        ("Mexico City", "mexico"),
        ("Ciudad de México", "mexico"),
        ("Ayuntamiento de Barcelona", "barcelona"),
        ("Municipio de Quilmes", "quilmes"),
        ("Municipality of Utrecht", "utrecht"),
        ("Gwangju Metropolitan City", "gwangju"),
        ("Bogotá D.C.", "bogota"),
        ("BOGOTÁ", "bogota"),
        ("Alcaldía Mayor de Bogotá", "bogota"),
        ("Gobierno Autónomo Municipal de La Paz", "paz"),
        ("Distrito Metropolitano de Quito", "quito"),
        ("Prefeitura Municipal de São Paulo", "sao paulo"),
        # A prefix alone is a name, not noise.
        ("Ville", "ville"),
    ],
)
def test_normalise(name, core):
    assert normalise_name(name) == core


MEMBERS = [
    Candidate("HRC-A", "Saint-Denis", "FR", "member"),
    Candidate("HRC-B", "Municipalité de Grigny", "FR", "member"),
    Candidate("HRC-C", "Ciudad de México", "MX", "member"),
    Candidate("HRC-D", "Ayuntamiento de Barcelona", "ES", "application"),
    Candidate("HRC-E", "Diputación de Barcelona", "ES", "member"),
    Candidate("HRC-F", "Gwangju Metropolitan City", "KR", "member"),
]


@pytest.mark.parametrize(
    "name, country, reference",
    [
        ("Ville de Saint Denis", "FR", "HRC-A"),  # French prefix, hyphen gone
        ("ville de grigny", "fr", "HRC-B"),  # case
        ("City of Grigny", "FR", "HRC-B"),  # English prefix
        ("Mexico City", "MX", "HRC-C"),  # English suffix against Spanish prefix
        ("Ciudad de Mexico", "MX", "HRC-C"),  # accent
        ("Barcelone", "ES", "HRC-D"),  # French exonym, one letter off
        ("City of Gwangju", "KR", "HRC-F"),
    ],
)
def test_matches_in_the_same_country(name, country, reference):
    found = possible_duplicates(name, country, MEMBERS)
    assert [d.reference for d in found] == [reference]
    assert found[0].score >= 88


@pytest.mark.parametrize(
    "name, country",
    [
        ("Saint-Denis", "RE"),  # another country: Saint-Denis de La Réunion
        ("Grigné", "FR"),
        ("Ville de Lyon", "FR"),
        ("Provincia de Barcelona", "CL"),
    ],
)
def test_no_match(name, country):
    assert possible_duplicates(name, country, MEMBERS) == []


def test_best_match_first_and_event_data_shape():
    candidates = [
        Candidate("HRC-1", "Grigny (Essonne)", "FR", "member"),
        Candidate("HRC-2", "Grigny", "FR", "application"),
    ]
    found = possible_duplicates("Ville de Grigny", "FR", candidates, threshold=60)
    assert [d.reference for d in found] == ["HRC-2", "HRC-1"]
    assert found[0].as_event_data() == {
        "reference": "HRC-2", "government_name": "Grigny", "kind": "application", "score": 100.0
    }
