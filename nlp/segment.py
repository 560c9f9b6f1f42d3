"""jieba, loaded once per process with the community user dictionary and a persistent cache.

Building jieba's prefix dictionary from its 350,000-word source takes a few seconds; jieba keeps
the result in a marshal cache, but even loading that takes most of a second. Words jieba's corpus
saw fewer than `MIN_FREQUENCY` times (200,000 rare words: names, archaic terms) are dropped from
the dictionary we build on first start, which makes the cache a third of the size and changes
nothing we measured (the labelled files score the same either way).

jieba's default cache sits in the system temp dir, which a fresh machine may clean, share between
users or mount read-only, so the dictionary and cache go to `$HUIYIN_CACHE_DIR`, else
`$XDG_CACHE_HOME/huiyin`, else `~/.cache/huiyin`, falling back to the temp dir when none can be
created. If even that is not writable jieba's own dictionary is used; a cache that cannot be
written only costs start-up time, and a broken one is rebuilt.
"""

from __future__ import annotations

import logging
import math
import os
import string
import sys
import tempfile
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

# jieba imports pkg_resources (about 0.15 s, a tenth of our start) only to open its own data files,
# and opens them by path when that import fails. So it fails for this one import, unless something
# has loaded pkg_resources already; afterwards pkg_resources imports as usual.
_SKIP_PKG_RESOURCES = "pkg_resources" not in sys.modules
if _SKIP_PKG_RESOURCES:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
try:
    import jieba
    from jieba import finalseg
finally:
    if _SKIP_PKG_RESOURCES:
        del sys.modules["pkg_resources"]

USER_DICTIONARY = "userdict.txt"
MIN_FREQUENCY = 5
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_added: set[str] = set()
# `_best_words`'s table: per dictionary entry log(count) - log(total), None for a mere prefix (count 0); rebuilt
# when the dictionary changes (jieba's `add_word` always changes `total` or the number of entries).
_log_table: tuple[dict, int, int, dict[str, float | None], float] | None = None
_END = object()


def cache_dir() -> str:
    """The directory jieba's cache is written to (created when missing)."""
    candidates = []
    if os.environ.get("HUIYIN_CACHE_DIR"):
        candidates.append(Path(os.environ["HUIYIN_CACHE_DIR"]))
    if os.environ.get("XDG_CACHE_HOME"):
        candidates.append(Path(os.environ["XDG_CACHE_HOME"]) / "huiyin")
    candidates.append(Path.home() / ".cache" / "huiyin")
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return str(candidate)
    return tempfile.gettempdir()


def _trimmed_dictionary(directory: str) -> str:
    """jieba's dictionary without its rarest words, written once to `directory`; jieba's own when impossible."""
    source = Path(jieba.__file__).with_name("dict.txt")
    target = Path(directory) / f"jieba-dict-min{MIN_FREQUENCY}.txt"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return str(target)
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False) as out:
            with source.open(encoding="utf-8") as lines:
                out.writelines(line for line in lines if int(line.split()[1]) >= MIN_FREQUENCY)
        os.replace(out.name, target)
    except OSError:
        return str(source)
    return str(target)


def tokenizer() -> jieba.Tokenizer:
    """The process-wide jieba tokenizer with the community dictionary loaded (built on first use)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                directory = cache_dir()
                instance = jieba.Tokenizer(_trimmed_dictionary(directory))
                instance.tmp_dir = directory
                instance.initialize()
                with resources.files("nlp").joinpath(USER_DICTIONARY).open(encoding="utf-8") as words:
                    for line in words:
                        parts = line.split()
                        if parts and not parts[0].startswith("#"):
                            instance.add_word(parts[0], int(parts[1]) if len(parts) > 1 else None)
                _tokenizer = instance
    return _tokenizer


def add_words(words: set[str] | list[str]) -> None:
    """Make `words` (e.g. the categories' keywords) single tokens. Idempotent and cheap."""
    instance = tokenizer()
    with _lock:
        for word in words:
            word = word.strip()
            if word and word not in _added and " " not in word:
                instance.add_word(word, max(instance.FREQ.get(word, 0), 2000))
                _added.add(word)


def raw_tokens(text: str) -> list[str]:
    """jieba's segmentation of `text`, whitespace included, so the tokens concatenate back to `text`.

    Without jieba's HMM, which guesses unknown words from character pairs: our keywords are all in the
    dictionary, so it finds nothing a keyword needs, and without it segmentation is faster.

    The same words as `tokenizer().lcut(text, HMM=False)` (`tests/test_nlp_speed_equivalence.py` compares
    them) in under half the time: jieba's `cut` builds a dict of candidate word ends for the whole block, then
    scores them in a generator under `max`; `_route` does both in one loop over the same dictionary.
    """
    return _segmented(text, _best_words)


def _segmented(text: str, cut_block: Callable[[str, dict[str, float | None], float, list[str]], None]) -> list[str]:
    """`text` cut as jieba's `cut` does: each run of Han characters, letters and digits by `cut_block`, every
    other character a token of its own (but a carriage return and line feed, kept together)."""
    logp, log_total = _log_probabilities(tokenizer())
    words: list[str] = []
    for index, block in enumerate(jieba.re_han_default.split(text)):
        if index % 2:  # a run of Han characters, letters and digits (the pattern's captured group)
            cut_block(block, logp, log_total, words)
        elif "\r\n" in block:
            skip = jieba.re_skip_default
            for piece in skip.split(block):
                words.extend([piece] if skip.match(piece) else piece)
        else:
            words.extend(block)
    return words


def _log_probabilities(instance: jieba.Tokenizer) -> tuple[dict[str, float | None], float]:
    """Per entry of the tokenizer's dictionary, log(count) - log(total) (None for a mere prefix, count 0): the
    figure `_best_words` adds per candidate word, computed once per dictionary instead of per candidate; and
    log(total)."""
    global _log_table
    freq, total = instance.FREQ, instance.total
    table = _log_table
    if table is not None and table[0] is freq and table[1] == total and table[2] == len(freq):
        return table[3], table[4]
    log_total = math.log(total)
    log = math.log
    logp = {word: (log(count) - log_total if count else None) for word, count in freq.items()}
    _log_table = (freq, total, len(freq), logp, log_total)
    return logp, log_total


def _route(block: str, logp: dict[str, float | None], log_total: float) -> list[int]:
    """jieba's most probable segmentation of `block` without its HMM: for each offset, where the word starting
    there ends (exclusive).

    As jieba's `get_DAG` and `calc`: from the end, each offset takes the dictionary word starting there that
    maximises log P(word) + the best score after it (on a tie, the longer word); a single character no word
    starts with scores log 1. `logp`: `_log_probabilities` (jieba's `log(count) - logtotal`, the same float,
    looked up once per entry).
    """
    size = len(block)
    scores = [0.0] * (size + 1)
    ends = [0] * (size + 1)
    for start in range(size - 1, -1, -1):
        best, best_end = 0.0 - log_total + scores[start + 1], -1
        end = start
        lp = logp.get(block[start], _END)
        while lp is not _END:  # the dictionary holds every prefix of its words (None for a mere prefix)
            if lp is not None:
                score = lp + scores[end + 1]
                if best_end < 0 or score >= best:
                    best, best_end = score, end
            end += 1
            if end == size:
                break
            lp = logp.get(block[start : end + 1], _END)
        scores[start], ends[start] = best, (best_end if best_end >= 0 else start) + 1
    return ends


def _best_words(block: str, logp: dict[str, float | None], log_total: float, words: list[str]) -> None:
    """The words of `block`'s route (`_route`) appended to `words`, as jieba's `__cut_DAG_NO_HMM`: single ASCII
    letters and digits are joined into one token."""
    ends = _route(block, logp, log_total)
    size, start, letters = len(block), 0, ""
    while start < size:
        end = ends[start]
        word = block[start:end]
        if end - start == 1 and word in _ASCII_ALNUM:
            letters += word
        else:
            if letters:
                words.append(letters)
                letters = ""
            words.append(word)
        start = end
    if letters:
        words.append(letters)


def _hmm_words(block: str, logp: dict[str, float | None], log_total: float, words: list[str]) -> None:
    """The words of `block`'s route appended to `words`, as jieba's `__cut_DAG` (with its HMM): a run of single
    characters that is no dictionary word goes to jieba's HMM (`finalseg.cut`), which may join some of them."""
    ends = _route(block, logp, log_total)
    size, start, single = len(block), 0, ""
    while start < size:
        end = ends[start]
        if end - start == 1:
            single += block[start]
        else:
            if single:
                _singles(single, logp, words)
                single = ""
            words.append(block[start:end])
        start = end
    if single:
        _singles(single, logp, words)


def _singles(run: str, logp: dict[str, float | None], words: list[str]) -> None:
    """A run of single characters of the route, as `__cut_DAG` yields it (a known word of its own count is
    split into characters; an unknown run is the HMM's)."""
    if len(run) == 1:
        words.append(run)
    elif logp.get(run) is None:
        words.extend(finalseg.cut(run))
    else:
        words.extend(run)


def tokens(text: str) -> list[str]:
    """jieba's segmentation of `text` (precise mode, with its HMM joining unknown characters), no whitespace.

    Duplicate detection compares these: the HMM keeps `3号楼` from leaving a stray `号` behind.

    The same words as `tokenizer().lcut(text)` (compared in `tests/test_nlp_speed_equivalence.py`), from the
    route `raw_tokens` finds, in about half the time: every report and follow-up is segmented so.
    """
    return [token for token in _segmented(text, _hmm_words) if not token.isspace()]
