"""Which wave of the campaign an application sent today goes to, as pure rules.

Intake learns the waves from the registry's ``wave.opened`` and ``wave.closed`` events (its own
projection, in ``db.WaveRow``). The inbox delivers each event at least once and in no promised
order, so the projection is built to be indifferent to both: a wave is open when its
``wave.opened`` has arrived and its ``wave.closed`` has not, whichever came first; an opening
delivered twice changes nothing. The registry never reopens a closed wave (planned → open →
closed), so a closing is final.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.intake.domain import N_

# What the campaign's own texts (../shared/seeds/) say about a wave, beyond its name and theme.
DESCRIPTIONS = {
    3: N_("The third wave, launched in 2024, invites local and regional governments to reflect "
          "on a new generation of human rights, on international solidarity, and on care "
          "policies built on local public services. Its priority themes include the right to "
          "the city, food, housing, culture, health, informality, gender, fighting "
          "discrimination and climate justice."),
}


@dataclass(frozen=True)
class Wave:
    """One wave as intake knows it; ``name`` and ``theme`` are None until its opening arrives."""

    number: int
    name: Mapping[str, str] | None = None
    theme: Mapping[str, str] | None = None
    closes_at: datetime | None = None
    closed: bool = False
    # The registry's description, in the languages the campaign wrote it in (wave.opened).
    texts: Mapping[str, str] | None = None

    @property
    def is_open(self) -> bool:
        return self.name is not None and not self.closed

    def named(self, language: str) -> str:
        return (self.name or {}).get(language) or (self.name or {}).get("en") or ""

    def theme_in(self, language: str) -> str:
        return (self.theme or {}).get(language) or (self.theme or {}).get("en") or ""

    def description_in(self, language: str) -> list[str]:
        """The registry's description in the page's language, as paragraphs; none when it
        gave none in that language (a page shows no text in another language)."""
        text = (self.texts or {}).get(language) or ""
        return [" ".join(part.split()) for part in _PARAGRAPHS.split(text) if part.strip()]

    @property
    def campaign_text(self) -> str | None:
        """The campaign's own text about this wave (a message id), when there is one: shown
        where the registry gave no description in the page's language."""
        return DESCRIPTIONS.get(self.number)


_PARAGRAPHS = re.compile(r"\n\s*\n")


def current_wave(waves: Iterable[Wave]) -> Wave | None:
    """The open wave, or None: applications then go to the waiting list.

    The registry keeps at most one wave open. Should intake briefly know two (the closing of
    one still in the inbox while the next one's opening is processed), the newer wave is the
    one a new application goes to.
    """
    open_waves = [wave for wave in waves if wave.is_open]
    return max(open_waves, key=lambda wave: wave.number, default=None)
