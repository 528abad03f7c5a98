import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _one_scorer_per_name(government_name, country, candidates, threshold):
    """The comparison as it was written first: one Python scorer per candidate, the better of
    plain ratio and token_sort ratio, through rapidfuzz's extract."""
    from rapidfuzz import fuzz, process, utils

    same = [c for c in candidates if c.country.upper() == country.upper()]
    matches = process.extract(
        normalise_name(government_name), [normalise_name(c.government_name) for c in same],
        scorer=lambda a, b, **kw: max(fuzz.ratio(a, b, **kw), fuzz.token_sort_ratio(a, b, **kw)),
        processor=utils.default_process, score_cutoff=threshold, limit=None)
    return [(same[index].reference, round(score, 1)) for _, score, index in matches]


_WORDS = ["saint", "denis", "plaine", "grigny", "grigné", "barcelona", "barcelone", "ville",
          "de", "sur", "mer", "la", "paz", "évry"]


@st.composite
def _names_and_query(draw):
    query = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4))
    # Some candidates are the query's words in another order (token_sort's case), some a word
    # changed (ratio's), some anything.
    names = draw(st.lists(st.one_of(
        st.permutations(query),
        st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4),
        st.builds(lambda words, at, word: [*words[:at], word, *words[at + 1:]],
                  st.just(query), st.integers(0, len(query) - 1), st.sampled_from(_WORDS)),
    ), min_size=1, max_size=40))
    return [" ".join(words) for words in names], " ".join(query)


@settings(max_examples=300, deadline=None)
@given(_names_and_query(), st.sampled_from(["FR", "fr", "ES"]),
       st.sampled_from([60.0, 75.0, 88.0]))
def test_the_two_scorers_in_rapidfuzz_loops_find_what_one_scorer_per_name_found(
        names_and_query, country, threshold):
    names, query = names_and_query
    candidates = [Candidate(f"R{i}", name, "FR" if i % 3 else "ES", "application")
                  for i, name in enumerate(names)]
    found = possible_duplicates(query, country, candidates, threshold=threshold)
    assert [(d.reference, d.score) for d in found] == _one_scorer_per_name(
        query, country, candidates, threshold)


def test_reordered_words_match_by_token_sort_and_a_typo_by_ratio():
    candidates = [Candidate("R1", "Plaine Saint-Denis", "FR", "application"),
                  Candidate("R2", "Barcelone", "FR", "member")]
    assert [(d.reference, d.score) for d in possible_duplicates(
        "Saint Denis Plaine", "FR", candidates)] == [("R1", 100.0)]
    assert [d.reference for d in possible_duplicates("Barcelona", "fr", candidates)] == ["R2"]
