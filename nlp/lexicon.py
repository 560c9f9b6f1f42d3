"""The categories' hand-written keywords and weights from `config.yaml`, matched on jieba tokens.

Every keyword is added to jieba's dictionary so it comes out as one token; a token that still
contains a keyword (`臭死` contains `臭`, `堵了` contains `堵`) counts for it too. Within one token
the longest keyword wins, so `漏水` in `漏水了` is not also counted as `漏`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from nlp import segment
from settings.models import Settings

DEFAULT_WEIGHT = 1.0


@dataclass(frozen=True)
class KeywordHit:
    token: str
    keyword: str
    category: str
    weight: float


class Lexicon:
    """keyword -> [(category, weight)] from the settings, and the token lookups over it."""

    def __init__(self, settings: Settings) -> None:
        self.order = {category.id: index for index, category in enumerate(settings.categories)}
        entries: dict[str, list[tuple[str, float]]] = {}
        for category in settings.categories:
            weights = {_fold(word): weight for word, weight in category.weights.items()}
            for word in dict.fromkeys([*map(_fold, category.keywords), *weights]):
                if word:
                    entries.setdefault(word, []).append((category.id, weights.get(word, DEFAULT_WEIGHT)))
        self._entries = entries
        self._rank = {word: rank for rank, word in enumerate(sorted(entries, key=len, reverse=True))}
        self._longest = max(map(len, entries), default=0)
        self._cache: dict[str, tuple[KeywordHit, ...]] = {}
        segment.add_words(list(entries))

    def hits(self, tokens: Sequence[str]) -> list[KeywordHit]:
        found: list[KeywordHit] = []
        for token in tokens:
            cached = self._cache.get(token)
            if cached is None:
                cached = self._token_hits(token)
                if len(self._cache) < 100_000:
                    self._cache[token] = cached
            found.extend(cached)
        return found

    def _token_hits(self, token: str) -> tuple[KeywordHit, ...]:
        """The keywords inside one token, longest first (then in config order), not overlapping.

        The keywords looked for are the token's own substrings found in the lexicon (a token has a few dozen; the
        lexicon has about a thousand keywords)."""
        if token in self._entries:
            return tuple(KeywordHit(token, token, c, w) for c, w in self._entries[token])
        inside = {
            token[start : start + length]
            for length in range(1, min(len(token) - 1, self._longest) + 1)
            for start in range(len(token) - length + 1)
        } & self._entries.keys()
        taken = [False] * len(token)
        hits: list[KeywordHit] = []
        for keyword in sorted(inside, key=self._rank.__getitem__):
            start = token.find(keyword)
            if not any(taken[start : start + len(keyword)]):
                taken[start : start + len(keyword)] = [True] * len(keyword)
                hits.extend(KeywordHit(token, keyword, c, w) for c, w in self._entries[keyword])
        return tuple(hits)


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold().strip()
