"""What a classifier says about one group-chat message, and the interface every classifier implements.

Handlers depend only on `Classifier` and `Classification`, so the keyword classifier can be
replaced by a better one without touching them. A classifier is pure: it reads the message and
the settings, never the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

# WeChat writes "@name" followed by U+2005, which NFKC turns into an ordinary space.
_LEADING_MENTIONS = re.compile(r"^(?:@[^\s@]+(?:\s+|$))+")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})


class Intent(StrEnum):
    REPORT = "report"
    INQUIRY = "inquiry"
    URGENT = "urgent"
    CHATTER = "chatter"


@dataclass(frozen=True)
class Classification:
    """The verdict on one message.

    `category` is a category id from the settings, `location` the normalised place text
    (`3号楼2单元`) and `grid_id` the grid that place belongs to; both are None when the message
    names no place. `confidence` (0..1) is the classifier's own estimate, meant for deciding
    whether to ask the resident or a cadre to confirm.
    """

    intent: Intent
    category: str
    location: str | None
    grid_id: str | None
    urgent: bool
    confidence: float
    # The classifier is unsure whether this is a ticket: a cadre confirms it privately first (`nlp.learned`).
    needs_triage: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence!r}")

    @property
    def is_ticket(self) -> bool:
        """Whether the message should become (or join) a ticket: everything except chatter."""
        return self.intent is not Intent.CHATTER


@dataclass(frozen=True)
class Evidence:
    """One word's push towards a category: a lexicon keyword's weight, or a learned model's contribution."""

    word: str
    category: str
    weight: float


@runtime_checkable
class Classifier(Protocol):
    def classify(self, text: str) -> Classification:
        """Classify one message. Must accept any string, including empty, and never raise."""
        ...


def normalise_message(text: str) -> str:
    """The form classifiers read: NFKC (full-width to half-width), no control or format
    characters, stripped, without the leading `@somebody` mentions of a reply."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isprintable():  # only then can it hold control, format or surrogate characters
        text = "".join(" " if unicodedata.category(ch) in _INVISIBLE else ch for ch in text)
    text = text.strip()
    return _LEADING_MENTIONS.sub("", text).strip()
