"""The classifier's fast paths give what the plain ones give, on every message of the repository's data files.

- segmentation: `segment.raw_tokens` against jieba's own `lcut(HMM=False)` on the same tokenizer, and
  `segment.tokens` against `lcut()` (with the HMM);
- the danger detector's character pre-check (`nlp.prefilter`) never turns away a text a pattern matches, nor does
  its one-intersection form for all concepts (`danger._candidates`); the patterns led by the characters a match
  starts with (`prefilter.led`) find what the plain ones find;
- the intent model's cue flags (`cues.flags`, each pattern searched once) against each cue function's own;
- character n-grams built from shorter ones against their definition;
- scoring: the shared numpy table of the intent and category models (`IntentModel.lookup`) against each model
  scored on its own, and against the plain TF-IDF arithmetic of `nlp.model` (`vector_scores(vectorise(...))`);
- `LearnedClassifier.classify` (shared lookup) against `explain` (each model scored on its own).
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest

from nlp import cues, danger, segment
from nlp.category import with_keywords
from nlp.danger import CONCEPTS
from nlp.intent import _char_grams, read
from nlp.learned import LearnedClassifier
from nlp.model import SCALED_COUNTS, vectorise
from nlp.prefilter import Prefiltered
from nlp.train_default import read_lines
from nlp.training import read_labelled
from nlp.weighted import message_core
from settings.models import Settings

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "nlp" / "data"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    files = sorted(DATA.glob("*.csv")) + sorted((REPO / "tests" / "data").glob("*.csv"))
    return [row.text for path in files for row in read_labelled(path)] + read_lines(DATA / "chitchat_sample.txt")


@pytest.fixture(scope="module")
def classifier(settings: Settings) -> LearnedClassifier:
    return LearnedClassifier(settings)


def _odd_texts(count: int) -> list[str]:
    """Random mixes of Han characters, ASCII, digits, whitespace (`\\r\\n` too), punctuation and emoji."""
    rng = random.Random(7)
    alphabet = "的了水电梯坏楼号单元下道堵 \t\r\n\u3000abZ309.%-#&_,，!！？😀🔥@" + "".join(
        chr(0x4E00 + i) for i in range(0, 20000, 97)
    )
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def test_segmentation_is_jiebas(texts: list[str]) -> None:
    tokenizer = segment.tokenizer()
    for text in [message_core(t) for t in texts] + _odd_texts(3000) + ["", " ", "\r\n", "abc123 def", "３号楼"]:
        assert segment.raw_tokens(text) == tokenizer.lcut(text, HMM=False), text


def test_tokens_are_jiebas_with_its_hmm(texts: list[str]) -> None:
    """`segment.tokens` (duplicate detection's words) against jieba's own `lcut` with its HMM, whitespace left
    out: the same route as `raw_tokens`, and runs of unknown single characters through jieba's HMM."""
    tokenizer = segment.tokenizer()
    odd = _odd_texts(3000)
    cases = [*texts, *[t.casefold() for t in texts], *odd, "", " ", "\r\n", "abc123 def", "３号楼", "12.5% 3号楼"]
    for text in cases:
        assert segment.tokens(text) == [t for t in tokenizer.lcut(text) if not t.isspace()], text
    assert sum(segment.tokens(t) != segment.raw_tokens(t) for t in texts) > len(texts) // 10  # the HMM is in play


def test_the_log_table_is_jiebas_arithmetic_and_follows_the_dictionary() -> None:
    """`_best_words` reads log(count) - log(total) from a table built once per dictionary: the same floats as
    jieba's `calc`, rebuilt when a word is added."""
    import math

    tokenizer = segment.tokenizer()
    logp, log_total = segment._log_probabilities(tokenizer)
    assert log_total == math.log(tokenizer.total)
    for word, count in list(tokenizer.FREQ.items())[:5000]:
        assert logp[word] == (math.log(count) - log_total if count else None), word
    word = "测试专用词汇甲乙"
    assert word not in tokenizer.FREQ
    segment.add_words([word])
    assert segment.raw_tokens(f"今天{word}好") == tokenizer.lcut(f"今天{word}好", HMM=False)
    assert word in segment._log_probabilities(tokenizer)[0]


def test_the_danger_precheck_turns_away_no_match(texts: list[str]) -> None:
    cores = [message_core(t) for t in texts] + _odd_texts(1000)
    for concept in CONCEPTS:
        pattern = Prefiltered(re.compile("|".join(f"(?:{p})" for p in concept.patterns)))
        assert pattern.triggers, concept.name  # the pre-check is in force for every concept
        for core in cores:
            if pattern.pattern.search(core):
                assert pattern.may_match(core), (concept.name, core)
        turned_away = sum(not pattern.may_match(core) for core in cores)
        assert turned_away > len(cores) / 2, concept.name  # and worth its while
    for core in cores:
        matching = [i for i, (_, pattern) in enumerate(danger._COMPILED) if pattern.pattern.search(core)]
        assert set(matching) <= set(danger._candidates(core)), core


def test_led_danger_patterns_match_as_the_plain_ones(texts: list[str]) -> None:
    cores = [message_core(t) for t in texts] + _odd_texts(3000)
    for concept, (_, prefiltered) in zip(CONCEPTS, danger._COMPILED, strict=True):
        plain = re.compile("|".join(f"(?:{p})" for p in concept.patterns))
        assert prefiltered.pattern.pattern != plain.pattern, concept.name  # led by its first characters
        for core in cores:
            assert [m.span() for m in prefiltered.pattern.finditer(core)] == [m.span() for m in plain.finditer(core)]


def test_the_cue_flags_are_each_cues_own(texts: list[str]) -> None:
    for core in [message_core(t) for t in texts] + _odd_texts(1000) + ["【通知】" + "电梯坏了" * 12]:
        raw = segment.raw_tokens(core)
        assert cues.flags(core, raw) == (
            bool(cues.problem_cues(core, cues.token_starts(raw))), cues.is_inquiry(core), cues.is_ack_or_notice(core),
            cues.is_forwarded_notice(core), cues.is_question(core),
        ), core  # fmt: skip


def test_character_ngrams_are_their_definition(texts: list[str]) -> None:
    for core in [message_core(t) for t in texts] + _odd_texts(1000):
        for n in (1, 2, 3):
            grams = [
                f"c:{run[start : start + size]}"
                for run in re.findall(r"[^\W_]+", re.sub(r"\d", "0", re.sub(r"\d{7,}", "0", core)))
                for size in range(1, n + 1)
                for start in range(len(run) - size + 1)
            ]
            symbols = [f"c:{ch}" for ch in re.findall(r"[^\w\s]", core) if unicodedata.category(ch) == "So"]
            assert _char_grams(core, n) == grams + symbols, (core, n)


def test_shared_scoring_is_each_models_own(classifier: LearnedClassifier, texts: list[str]) -> None:
    model, category = classifier.model, classifier.model.category
    assert category is not None
    # the odd texts repeat characters, some more often than `SCALED_COUNTS`
    for text in [*texts, *_odd_texts(300), "水" * 70 + "电梯坏了" * 3, "哈" * (SCALED_COUNTS - 1)]:
        reading = read(text, classifier.lexicon)
        totals = model.lookup(reading.features)
        keywords = reading.keywords or {"security": 1.0}
        probabilities = model.category_probabilities(totals, keywords)
        assert probabilities == category.probabilities(reading.features, keywords)
        plain = model.linear.vector_scores(vectorise(reading.features, model.linear.idf))
        assert model.scores(reading.features, totals) == pytest.approx(plain, rel=1e-9, abs=1e-12)
        features = with_keywords(reading.features, keywords)
        plain = category.blended(category.linear.vector_scores(vectorise(features, category.linear.idf)), keywords)
        assert probabilities == pytest.approx(plain, rel=1e-9, abs=1e-12)


def test_classify_is_explains_verdict(classifier: LearnedClassifier, texts: list[str]) -> None:
    for text in texts:
        assert classifier.classify(text) == classifier.explain(text).classification, text
