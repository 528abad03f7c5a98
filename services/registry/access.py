"""The record of what staff did (who may act as staff: shared.staff_access)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    """One staff action: who did what to which thing, when, and the state before and after."""

    who: str
    action: str
    subject_type: str  # "application", "member", "wave"
    subject_id: str
    at: datetime
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "at": self.at.isoformat(),
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
        }
