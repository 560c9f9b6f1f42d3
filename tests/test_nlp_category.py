"""The learned category: NBSVM over the intent features, blended with the community's keywords."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from nlp.category import KEYWORD_WEIGHTS, CategoryModel, CategoryRow, blend, keyword_features, train_category
from nlp.intent import read
from nlp.learned import LearnedClassifier, default_model
from nlp.lexicon import Lexicon
from settings.models import Settings

# A word no training row holds: whatever category it decides, it decides through the settings alone.
NEW_WORD = "呱呱机"
CATEGORIES = ("sanitation", "drainage", "power", "facilities", "parking_fire", "property", "noise_dispute",
              "security", "welfare", "elderly_care", "greening", "illegal_build", "other")
NEUTRAL_REPORTS = (f"3栋门口的{NEW_WORD}坏了好几天了", f"楼下那个{NEW_WORD}又不行了 麻烦派人看看")


def _with_keyword(settings: Settings, category: str, word: str) -> Settings:
    categories = [
        c.model_copy(update={"keywords": [*c.keywords, word]}) if c.id == category else c for c in settings.categories
    ]
    return settings.model_copy(update={"categories": categories})


@pytest.mark.parametrize("category", [c for c in CATEGORIES if c != "other"])
def test_a_keyword_a_community_adds_in_its_settings_decides_the_category(settings: Settings, category: str) -> None:
    classifier = LearnedClassifier(_with_keyword(settings, category, NEW_WORD))
    for text in NEUTRAL_REPORTS:
        verdict = classifier.classify(text)
        assert verdict.is_ticket and verdict.category == category, text


def test_without_the_keyword_the_model_alone_decides(settings: Settings) -> None:
    assert {LearnedClassifier(settings).classify(text).category for text in NEUTRAL_REPORTS} != {"greening"}


def test_the_shipped_model_has_a_category_part_that_knows_the_community_categories(settings: Settings) -> None:
    model = default_model().category
    assert model is not None and model.keyword_weight in KEYWORD_WEIGHTS
    assert set(model.linear.labels) <= {category.id for category in settings.categories}
    explanation = LearnedClassifier(settings).explain("2单元门口的下水道又堵了 污水漫了一地")
    assert explanation.classification.category == "drainage"
    assert any(e.category == "drainage" and e.word.startswith(("c:", "kw:")) for e in explanation.evidence)


def test_keyword_features_name_the_categories_holding_half_the_keyword_weight() -> None:
    assert keyword_features({"power": 1.5, "facilities": 0.5}) == ["kw:power"]
    assert sorted(keyword_features({"power": 1.0, "facilities": 1.0})) == ["kw:facilities", "kw:power"]
    assert keyword_features({}) == []


def test_the_blend_adds_the_keywords_share_and_stays_a_distribution() -> None:
    probabilities = {"power": 0.6, "drainage": 0.4}
    assert blend(probabilities, {"drainage": 2.0}, 0.0) == pytest.approx(probabilities)
    blended = blend(probabilities, {"drainage": 2.0}, 1.0)
    assert sum(blended.values()) == pytest.approx(1.0)
    assert blended["drainage"] > blended["power"]


PLACES = ("3号楼", "东门", "2单元", "地库")
PROBLEMS = {
    "drainage": ("下水道堵了", "水管漏水了", "停水了"),
    "power": ("路灯不亮了", "停电了", "楼道灯坏了"),
    "sanitation": ("垃圾没人收", "垃圾桶满了", "好臭的垃圾"),
}


def _rows(settings: Settings) -> list[CategoryRow]:
    lexicon = Lexicon(settings)
    rows = []
    for (label, problems), place in itertools.product(PROBLEMS.items(), PLACES):
        for problem in problems:
            reading = read(f"{place}{problem}", lexicon)
            rows.append(CategoryRow(reading.features, reading.keywords, label))
    return rows


def test_training_is_deterministic_chooses_by_cross_validation_and_survives_a_round_trip(settings: Settings) -> None:
    model, choice, oof = train_category(_rows(settings), folds=3)
    again, _, _ = train_category(_rows(settings), folds=3)
    assert model.to_json() == again.to_json()
    assert (choice.cost, choice.keyword_weight) == max(choice.scores, key=lambda key: (choice.scores[key], -key[1]))
    assert len(oof) == len(_rows(settings)) and all(sum(p.values()) == pytest.approx(1.0) for p in oof)
    loaded = CategoryModel.from_json(model.to_json())
    counts = read("5号楼下水道堵了", Lexicon(settings)).features
    assert loaded.probabilities(counts, {}) == pytest.approx(model.probabilities(counts, {}))
    assert max(model.probabilities(counts, {}).items(), key=lambda item: item[1])[0] == "drainage"
    assert model.probabilities(Counter(), {})  # a message without features still gets a distribution
