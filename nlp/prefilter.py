"""A cheap pre-check before a large regex: the characters of which every match must contain one.

Python's `re` tries a long alternation branch by branch at each position of the text, so a search over the
danger patterns costs microseconds even when the message names no danger. `trigger_chars` reads the parsed
pattern and finds, for each branch, a set of characters the branch cannot match without (a literal it
requires, or a small character class); the union over all branches is the trigger set. A text with none of
them (`frozenset.isdisjoint`, a C loop) cannot match, so the regex is skipped and nothing else changes.

Of the characters a branch requires, the rarest are taken (by `common`, the characters residents type most
often, most frequent first), so that ordinary chatter rarely holds a trigger.

When the text passes, `led` makes the search itself cheaper: the pattern, led by a look-ahead for the
characters a match can start with, has the same matches, but `re` enters its branches only at those
characters instead of at every position (two to five times faster on the danger patterns).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

try:  # the parser behind `re` (private, but stable since Python 3.11); without it there is no pre-check
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre = _sre_parse = None  # type: ignore[assignment]

# The characters most frequent in the group-chat and chit-chat lines of `nlp/data` and the chit-chat corpus, most
# frequent first: the worst triggers.
COMMON_CHARS = (
    "你了的不么我一是人什有在个天好吗上没家下来们要楼都想啊里今电子大去到还这道为怎看哪小门多说生过女会水爱吃那"
    "得车男点欢老喜就也业知区开关时睡友起样几着能做心出谁吧问最晚于班朋快觉单太回手呢玩事很他真被口"
)
# A character class wider than this is no useful trigger.
MAX_CLASS = 64

Chars = frozenset[str]


class Prefiltered:
    """A compiled pattern and its trigger characters: a text without any of them cannot match (`may_match`)."""

    def __init__(self, pattern: re.Pattern[str], common: str = COMMON_CHARS) -> None:
        self.pattern = pattern
        self.triggers = trigger_chars(pattern, common)

    def may_match(self, text: str) -> bool:
        """False only when `text` cannot match (it holds no trigger character)."""
        return self.triggers is None or not self.triggers.isdisjoint(text)


def trigger_chars(pattern: re.Pattern[str], common: str = COMMON_CHARS) -> Chars | None:
    """Characters one of which is in every match of `pattern`, or None when no such set can be told."""
    if _sre_parse is None or pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    rank = {ch: len(common) - index for index, ch in enumerate(common)}
    return _Reader(lambda chars: sum(rank.get(ch, 0.5) for ch in chars)).sequence(_sre_parse.parse(pattern.pattern))


def led(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` led by a look-ahead for the characters a match can start with: the same matches, found faster.
    `pattern` itself when those characters cannot be told."""
    if _sre_parse is None or pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return pattern
    chars = _first(_sre_parse.parse(pattern.pattern))
    if not chars:
        return pattern
    return re.compile(f"(?=[{''.join(map(re.escape, sorted(chars)))}])(?:{pattern.pattern})", pattern.flags)


def _first(items: Iterable[tuple[Any, Any]]) -> Chars | None:
    """The characters a match of the sequence can start with; None when they cannot be told (a negated or wide
    class, `.`, a look-around) or the sequence can match the empty string."""
    chars: Chars = frozenset()
    for op, arg in items:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, _high, inner = arg
            found = _first(inner)
            if found is None:
                return None
            chars |= found
            if low >= 1:
                return chars
            continue  # an optional part: a match may start with what follows it
        found = _atom(op, arg, _first)
        return None if found is None else chars | found
    return None


def _atom(op: Any, arg: Any, read: Callable[[Iterable[tuple[Any, Any]]], Chars | None]) -> Chars | None:
    """A literal, a character class, a group or an alternation as a character set, `read` giving what a group
    or branch holds; None for anything else, or for what `read` cannot tell."""
    if op == _sre.LITERAL:
        return frozenset(chr(arg))
    if op == _sre.IN:
        return _class(arg)
    if op == _sre.SUBPATTERN:
        _group, add_flags, del_flags, items = arg
        return None if add_flags or del_flags else read(items)
    if op == _sre.BRANCH:
        branches = [read(items) for items in arg[1]]
        return None if any(chars is None for chars in branches) else frozenset().union(*branches)
    return None


class _Reader:
    """Walks a parsed pattern; `cost` says how often a text holds one of a set of characters."""

    def __init__(self, cost: Callable[[Chars], float]) -> None:
        self._cost = cost

    def sequence(self, items: Iterable[tuple[Any, Any]]) -> Chars | None:
        """The cheapest set among the items the sequence requires (None if it requires none)."""
        found = [chars for op, arg in items if (chars := self._item(op, arg)) is not None]
        return min(found, key=self._cost, default=None)

    def _item(self, op: Any, arg: Any) -> Chars | None:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, _high, items = arg
            return self.sequence(items) if low >= 1 else None
        return _atom(op, arg, self.sequence)  # anchors, look-arounds, `.`, back-references: None, nothing required


def _class(entries: Iterable[tuple[Any, Any]]) -> Chars | None:
    """The characters of `[...]`, or None for a negated, categorised or wide class."""
    chars: set[str] = set()
    for op, arg in entries:
        if op == _sre.LITERAL:
            chars.add(chr(arg))
        elif op == _sre.RANGE and arg[1] - arg[0] < MAX_CLASS:
            chars.update(map(chr, range(arg[0], arg[1] + 1)))
        else:
            return None
    return frozenset(chars) if len(chars) <= MAX_CLASS else None
