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


@functools.lru_cache(maxsize=4096)
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


def _plain(text: str) -> str:
    """`text` normalised character by character, so it has exactly the length (and spans) of `text`."""
    return "".join(map(_plain_character, text))


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
    ordered = sorted((n for n in names if n), key=len, reverse=True)
    alternatives = [
        _NO_DIGIT_BEFORE * n[0].isdigit() + re.escape(n) + _NO_DIGIT_AFTER * n[-1].isdigit() for n in ordered
    ]
    return re.compile("|".join(alternatives)) if alternatives else None


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` fit for the public: numbers masked, then each of `names` (residents) shown as `mask_name` does."""
    pattern = _names_pattern(names if isinstance(names, frozenset) else frozenset(names))

    def names_masked(part: str) -> str:
        return pattern.sub(lambda match: mask_name(match[0]), part) if pattern is not None else part

    pieces: list[str] = []
    position = 0
    for start, end, masked in _number_spans(text):
        pieces += [names_masked(text[position:start]), masked]
        position = end
    pieces.append(names_masked(text[position:]))
    return "".join(pieces)


def mask_numbers(text: str) -> str:
    """Mask every identity, mobile and landline number in `text`, leaving everything else as it was."""
    return mask_text(text)
