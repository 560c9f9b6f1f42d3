"""How residents' personal data is masked wherever other people can read it: the wall, exports, the API.

One implementation for everything public. Names become `张**`; mobile numbers `138****1234`; landlines
`010****5678`; identity-card numbers `110***********123X`. Numbers are found inside free text too, as
people paste them from their phones: with spaces (ideographic, no-break, doubled), dashes or dots between
the groups, with `+86` / `86` / `0086`, the area code in brackets, or in full-width characters (１３８…).

Numbers are found first, on a normalised copy of the text that has one character for each character of
the original (so a match there is the same span of the original); names are masked only between them,
so a name such as `8` or `138` can neither break a number apart nor be found inside a masked one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

_SEP = r"(?:[ .\-]{1,3})?"
# An 18-digit identity number (its last character may be X), as 6-8-4 groups, or the old 15-digit one (6-6-3).
_ID_NUMBER = re.compile(
    rf"(?<![0-9])[1-9][0-9]{{5}}{_SEP}(?:[0-9]{{8}}{_SEP}[0-9]{{3}}[0-9Xx]|[0-9]{{6}}{_SEP}[0-9]{{3}})(?![0-9A-Za-z])"
)
# A mainland mobile number, optionally with +86 / 86 / 0086: 138 1234 5678, 138-1234-5678, 138.1234.5678.
_MOBILE = re.compile(rf"(?<![0-9])(?P<country>(?:\+|00)?86{_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}(?![0-9])")
# A landline with its area code: 010-12345678, 0755 1234 5678, 021-6123456, (010)12345678, +86 10 12345678.
_LANDLINE = re.compile(
    rf"(?<![0-9])(?:(?P<country>(?:\+|00)86{_SEP})[1-9][0-9]{{1,2}}|0[0-9]{{2,3}}|\(0[0-9]{{2,3}}\))"
    rf"{_SEP}[0-9]{{3,4}}{_SEP}[0-9]{{4}}(?![0-9])"
)
# Every character that `_plain` reads as a digit: decimal digits of any script (`\d`), superscripts, subscripts and
# circled digits. Each number above has at least 7 digits; a text with fewer holds none (most texts: checked first).
_DIGIT = re.compile(r"[\d\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u24ea]")
_FEWEST_DIGITS = 7
_NO_DIGIT_BEFORE, _NO_DIGIT_AFTER = "(?<![0-9０-９])", "(?![0-9０-９])"
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")


def mask_name(name: str) -> str:
    """`张阿姨` → `张**`: how residents' names appear to other residents."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _plain_character(character: str) -> str:
    """One character as the number patterns read it: ASCII digits, `+`, `(`, `-`, and one kind of space."""
    if character in "\n\r":
        return character
    if character.isspace():
        return " "
    if character in _DASHES:
        return "-"
    folded = unicodedata.normalize("NFKC", character)
    return folded if len(folded) == 1 else character


class _PlainTable(dict[int, str]):
    """`_plain_character` of each character met, kept by code point (up to `KEPT` of them, whatever texts come):
    a table for `str.translate`."""

    KEPT = 20_000

    def __missing__(self, code: int) -> str:
        plain = _plain_character(chr(code))
        if len(self) < self.KEPT:
            self[code] = plain
        return plain


_PLAIN = _PlainTable()


def _plain(text: str) -> str:
    """`text` normalised character by character, so it has exactly the length (and spans) of `text` (through
    `str.translate`, which looks each character up once: half the time of mapping them one by one)."""
    return text.translate(_PLAIN)


def _keep_ends(match: re.Match[str]) -> str:
    """The number without its country code, as plain digits with all but its first three and last four starred."""
    country = match.groupdict().get("country") or ""
    digits = "".join(ch for ch in match[0][len(country) :] if ch.isalnum()).upper()
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, masked form) of every identity, mobile and landline number in `text`, in order."""
    if len(_DIGIT.findall(text)) < _FEWEST_DIGITS:
        return []
    plain = _plain(text)
    spans: list[tuple[int, int, str]] = []
    for pattern in (_ID_NUMBER, _MOBILE, _LANDLINE):
        for match in pattern.finditer(plain):
            start, end = match.span()
            if all(end <= taken_start or start >= taken_end for taken_start, taken_end, _ in spans):
                spans.append((start, end, _keep_ends(match)))
    return sorted(spans)


@functools.lru_cache(maxsize=16)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One alternation of all the names, longest first, so 张阿姨 is masked whole before 张阿 could be.

    A name that starts or ends with a digit only matches where it is not part of a longer run of digits.
    """
    alternatives = [
        _NO_DIGIT_BEFORE * n[0].isdigit() + re.escape(n) + _NO_DIGIT_AFTER * n[-1].isdigit()
        for n in _longest_first(names)
    ]
    return re.compile("|".join(alternatives)) if alternatives else None


def _longest_first(names: Iterable[str]) -> list[str]:
    return sorted((n for n in names if n), key=len, reverse=True)


FEW_NAMES = 8
"""Up to this many names are looked for one by one (`_names_found`) rather than through one compiled alternation:
the board and exports mask each text with the few names it holds, a different few in nearly every text, and
compiling their pattern took a third of masking a text."""

_BOUNDING_DIGITS = frozenset("0123456789０１２３４５６７８９")  # what `_NO_DIGIT_BEFORE` and `_NO_DIGIT_AFTER` refuse


def _names_found(part: str, ordered: list[str]) -> str:
    """`part` with `ordered` (longest first) masked as `_names_pattern`'s alternation masks it: from the left, at
    each place the longest name that matches there, a name starting or ending with a digit not within a longer run
    of digits."""
    pieces: list[str] = []
    position = 0
    while (found := _leftmost(part, ordered, position)) is not None:
        start, name = found
        pieces += [part[position:start], mask_name(name)]
        position = start + len(name)
    pieces.append(part[position:])
    return "".join(pieces)


def _leftmost(part: str, ordered: list[str], position: int) -> tuple[int, str] | None:
    """The first place from `position` where one of `ordered` matches, with the longest name matching there."""
    best: tuple[int, str] | None = None
    for name in ordered:
        start = part.find(name, position)
        while start >= 0 and not _stands_alone(part, start, name):
            start = part.find(name, start + 1)
        if start >= 0 and (best is None or start < best[0]):
            best = (start, name)
    return best


def _stands_alone(part: str, start: int, name: str) -> bool:
    """Whether `name` at `start` is not part of a longer run of digits (for a name starting or ending with one)."""
    end = start + len(name)
    if name[0].isdigit() and start > 0 and part[start - 1] in _BOUNDING_DIGITS:
        return False
    return not (name[-1].isdigit() and end < len(part) and part[end] in _BOUNDING_DIGITS)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` fit for the public: numbers masked, then each of `names` (residents) shown as `mask_name` does."""
    names = names if isinstance(names, frozenset) else frozenset(names)
    spans = _number_spans(text)
    if not spans and not names:  # most texts of an export
        return text
    ordered = _longest_first(names) if len(names) <= FEW_NAMES else None
    pattern = _names_pattern(names) if ordered is None else None

    def names_masked(part: str) -> str:
        if pattern is not None:
            return pattern.sub(lambda match: mask_name(match[0]), part)
        return _names_found(part, ordered) if ordered else part

    pieces: list[str] = []
    position = 0
    for start, end, masked in spans:
        pieces += [names_masked(text[position:start]), masked]
        position = end
    pieces.append(names_masked(text[position:]))
    return "".join(pieces)


def mask_numbers(text: str) -> str:
    """Mask every identity, mobile and landline number in `text`, leaving everything else as it was."""
    return mask_text(text)
