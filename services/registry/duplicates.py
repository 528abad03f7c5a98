"""Possible duplicates: the same government applying twice, or applying while already a member.

Names are compared after normalising away what varies between forms of the same name: accents,
case, punctuation and the generic words in front of or after it ("Ville de", "City of", "Ciudad
de", "City Council"), in the campaign's three languages and a few neighbours. A match is only a
hint for staff: an application is flagged, never rejected.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils
from unidecode import unidecode


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A score from 0 to 100: at 88, "Barcelone" ~ "Barcelona" (89) match, "Grigné" ~ "Grigny" (83) not.
THRESHOLD = 88.0

# Generic words in front of a name, as single tokens after normalisation; each may be followed by
# a linking word ("de", "of", "d") that goes too.
_PREFIX_WORDS = _words(
    """
    city town village municipality municipal county borough council
    ville commune municipalite mairie cite
    ciudad municipio municipalidad ayuntamiento alcaldia intendencia villa
    cidade municipio prefeitura camara
    citta comune stadt gemeente
    government gobierno gouvernement governo
    metropolitan metropolitana metropole
    local autonomous autonomo autonoma mayor distrito metropolitano
    the la le les el los las l
    """
)
_LINKING_WORDS = _words("of de d del des du da do di the la le el l")
# Generic words after a name ("Mexico City", "Gwangju Metropolitan City", "Bogota D.C.").
_SUFFIX_WORDS = _words(
    """
    city town municipality council government metropolitan municipal
    ville commune municipalite metropole
    ciudad municipio municipalidad ayuntamiento
    dc d c
    """
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Candidate:
    """A name that an application may duplicate: a member or another open application."""

    reference: str
    government_name: str
    country: str
    kind: str  # "member" or "application"


@dataclass(frozen=True)
class PossibleDuplicate:
    reference: str
    government_name: str
    kind: str
    score: float

    def as_event_data(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "government_name": self.government_name,
            "kind": self.kind,
            "score": self.score,
        }


# Every application compares itself with every open application and member of its country, so
# the same names are normalised again for each new one (unidecode and a regex each: half the
# cost of the comparison with 1,000 candidates). The normal form depends on the name alone.
@functools.lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """The comparable core of a government's name: "Ville de Saint-Denis" -> "saint denis"."""
    words = _NON_WORD.sub(" ", unidecode(name).lower()).split()
    core = _strip_prefix(words)
    core = _strip_suffix(core)
    return " ".join(core or words)


def possible_duplicates(
    government_name: str,
    country: str,
    candidates: Iterable[Candidate],
    *,
    threshold: float = THRESHOLD,
) -> list[PossibleDuplicate]:
    """The candidates in the same country whose name matches, best first (equal scores in the
    candidates' order)."""
    upper = country.upper()
    same_country = [c for c in candidates
                    if c.country == country or c.country.upper() == upper]
    if not same_country:
        return []
    name = _comparable(government_name)
    names = [_comparable(c.government_name) for c in same_country]
    # A name's score is the better of two: token_sort handles reordered words ("Saint Denis
    # Plaine" ~ "Plaine Saint Denis"), plain ratio handles typos (token_set is avoided: it
    # scores "Barcelona" ~ "Barcelona Province" 100). Each scorer runs over all the names in
    # rapidfuzz's C loop: one Python scorer called per name was a fifth of the registry's CPU
    # per application with 1,500 candidates, and it grows with every application.
    best: dict[int, float] = {}
    for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
        for _, score, index in process.extract(name, names, scorer=scorer, processor=None,
                                               score_cutoff=threshold, limit=None):
            best[index] = max(score, best.get(index, score))
    return [
        PossibleDuplicate(
            reference=same_country[index].reference,
            government_name=same_country[index].government_name,
            kind=same_country[index].kind,
            score=round(score, 1),
        )
        for index, score in sorted(best.items(), key=lambda found: (-found[1], found[0]))
    ]


@functools.lru_cache(maxsize=65536)
def _comparable(name: str) -> str:
    return utils.default_process(normalise_name(name))


def _strip_prefix(words: list[str]) -> list[str]:
    start = 0
    while start < len(words) - 1 and (
        words[start] in _PREFIX_WORDS or words[start] in _LINKING_WORDS
    ):
        start += 1
    return words[start:]


def _strip_suffix(words: list[str]) -> list[str]:
    end = len(words)
    while end > 1 and words[end - 1] in _SUFFIX_WORDS:
        end -= 1
    return words[:end]
