"""The classifier's fast paths give what the plain ones give, on every message of the repository's data files.

- segmentation: `segment.raw_tokens` against jieba's own `lcut(HMM=False)` on the same tokenizer;
- the danger detector's character pre-check (`nlp.prefilter`) never turns away a text a pattern matches;
- scoring: the shared lookup of the intent and category models (`IntentModel.lookup`) against each model scored
  on its own, and against the plain TF-IDF arithmetic of `nlp.model` (`vector_scores(vectorise(...))`);
- `LearnedClassifier.classify` (shared lookup) against `explain` (each model scored on its own).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from nlp import segment
from nlp.danger import CONCEPTS
from nlp.intent import read
from nlp.learned import LearnedClassifier
from nlp.model import vectorise
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


def test_shared_scoring_is_each_models_own(classifier: LearnedClassifier, texts: list[str]) -> None:
    model, category = classifier.model, classifier.model.category
    assert category is not None
    for text in texts:
        reading = read(text, classifier.lexicon)
        rows = model.lookup(reading.features)
        keywords = reading.keywords or {"security": 1.0}
        assert model.category_probabilities(rows, keywords) == category.probabilities(reading.features, keywords)
        plain = model.linear.vector_scores(vectorise(reading.features, model.linear.idf))
        assert model.scores(reading.features, rows) == pytest.approx(plain, rel=1e-9, abs=1e-12)


def test_classify_is_explains_verdict(classifier: LearnedClassifier, texts: list[str]) -> None:
    for text in texts:
        assert classifier.classify(text) == classifier.explain(text).classification, text
