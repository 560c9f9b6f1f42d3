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
import os
import sys
import tempfile
import threading
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
finally:
    if _SKIP_PKG_RESOURCES:
        del sys.modules["pkg_resources"]

USER_DICTIONARY = "userdict.txt"
MIN_FREQUENCY = 5
# jieba's HMM guesses unknown words from character pairs. Our keywords are all in the dictionary, so it
# finds nothing a keyword needs, and without it segmentation is faster.
HMM = False
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_added: set[str] = set()


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
    """jieba's segmentation of `text`, whitespace included, so the tokens concatenate back to `text`."""
    return tokenizer().lcut(text, HMM=HMM)


def tokens(text: str) -> list[str]:
    """jieba's segmentation of `text` (precise mode, with its HMM joining unknown characters), no whitespace.

    Duplicate detection compares these: the HMM keeps `3号楼` from leaving a stray `号` behind.
    """
    return [token for token in tokenizer().lcut(text) if not token.isspace()]
