"""The service directory (`faq:` in config.yaml): which entry answers an inquiry.

An entry matches when the inquiry names one of its keywords; the entry whose matched keywords
cover the most characters wins (`医保卡补办` beats `医保`), ties going to the earlier entry.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from nlp.classification import normalise_message
from settings.models import FaqEntry


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def match_faq(text: str, entries: Sequence[FaqEntry]) -> FaqEntry | None:
    """The directory entry that answers `text`, or None."""
    message = _fold(normalise_message(text))
    best, best_cover = None, 0
    for entry in entries:
        cover = sum(len(keyword) for keyword in {_fold(k) for k in entry.keywords} if keyword and keyword in message)
        if cover > best_cover:
            best, best_cover = entry, cover
    return best
