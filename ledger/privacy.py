"""How residents' personal data is masked wherever other people can read it: the wall, exports, the API.

One implementation for everything public. Names become `张**`; mobile numbers `138****1234`; landlines
`010****5678`; identity-card numbers `110***********123X`. Numbers are found inside free text too,
written with spaces or dashes, with `+86`, or in full-width digits (１３８…), which people paste from
their phones.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

_D = "[0-9０-９]"
_SEP = r"[ \-－]?"
# An 18-digit identity number (its last character may be X) or the old 15-digit one.
_ID_NUMBER = re.compile(rf"(?<![0-9０-９])({_D}{{6}}(?:{_D}{{11}}[0-9０-９XxＸｘ]|{_D}{{9}}))(?![0-9０-９A-Za-z])")
# A mainland mobile number, optionally with +86 / 0086 and separators: 138 1234 5678, 138-1234-5678.
_MOBILE = re.compile(
    rf"(?<![0-9０-９])(?:(?:\+86|0086){_SEP})?([1１][3-9３-９]{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}})(?![0-9０-９])"
)
# A landline with its area code: 010-12345678, 0755 1234 5678, 021-6123456.
_LANDLINE = re.compile(rf"(?<![0-9０-９])([0０]{_D}{{2,3}}{_SEP}{_D}{{3,4}}{_SEP}{_D}{{4}})(?![0-9０-９])")


def mask_name(name: str) -> str:
    """`张阿姨` → `张**`: how residents' names appear to other residents."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _keep_ends(match: re.Match[str]) -> str:
    """The number as plain digits with all but its first three and last four starred: `138****1234`."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", match[1]) if ch.isalnum()).upper()
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_numbers(text: str) -> str:
    """Mask every identity, mobile and landline number in `text`, leaving everything else as it was."""
    for pattern in (_ID_NUMBER, _MOBILE, _LANDLINE):
        text = pattern.sub(_keep_ends, text)
    return text


@functools.lru_cache(maxsize=16)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One alternation of all the names, longest first, so 张阿姨 is masked whole before 张阿 could be."""
    ordered = sorted((n for n in names if n), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` fit for the public: numbers masked and each of `names` (residents) shown as `mask_name` does."""
    pattern = _names_pattern(names if isinstance(names, frozenset) else frozenset(names))
    if pattern is not None:
        text = pattern.sub(lambda match: mask_name(match[0]), text)
    return mask_numbers(text)
