"""The learned intent model and classifier: training on a small synthetic set, explanations, the shipped model."""

from __future__ import annotations

import itertools

import pytest

from nlp.classification import Classification, Classifier, Intent
from nlp.intent import LABELS, IntentModel, char_ngrams, example, train_intent
from nlp.learned import LearnedClassifier, build_learned_classifier, default_model
from nlp.train_default import main as train_default_main
from settings.models import Settings

PLACES = ("3号楼", "东门", "2单元", "地库", "5栋")
REPORTS = ("下水道堵了", "路灯不亮了", "电梯坏了", "垃圾没人收", "水管漏水了")
INQUIRIES = ("怎么办理居住证", "医保在哪交", "物业电话多少", "老年证要什么材料")
URGENT = ("着火了 快来人", "有人被困在电梯里", "老人摔倒了起不来", "煤气味好大")
CHATTER = ("早上好", "谢谢大家", "哈哈哈", "今天天气不错", "收到", "晚安", "周末去哪玩", "吃了吗")


def _synthetic():
    rows = [(f"{p}{r}", "report") for p, r in itertools.product(PLACES, REPORTS)]
    rows += [(f"请问{q}", "inquiry") for q in INQUIRIES] + [(q, "inquiry") for q in INQUIRIES]
    rows += [(f"{p}{u}", "urgent") for p, u in itertools.product(PLACES[:3], URGENT)]
    rows += [(c, "chatter") for c in CHATTER] + [(f"{c}呀", "chatter") for c in CHATTER]
    return [example(text, intent, "groupchat") for text, intent in rows]


@pytest.fixture(scope="module")
def small() -> IntentModel:
    return train_intent(_synthetic(), folds=2)[0]


def test_the_model_learns_four_intents_from_a_small_set(small: IntentModel) -> None:
    assert set(small.linear.labels) == set(LABELS)
    assert small.decide(example("6号楼下水道堵了", "", "groupchat").counts).intent is Intent.REPORT
    assert small.decide(example("大家晚安呀", "", "groupchat").counts).intent is Intent.CHATTER


def test_character_ngrams_score_a_spelling_no_training_row_has(small: IntentModel) -> None:
    # `堵住` never occurs in training, `下水道` in another order: the character n-grams still carry it.
    counts = example("西门那个下水道堵住咯", "", "groupchat").counts
    assert "c:水道" in counts and small.decide(counts).intent is Intent.REPORT


def test_the_explanation_lists_the_features_that_pushed_the_decision(small: IntentModel) -> None:
    counts = example("东门路灯不亮了", "", "groupchat").counts
    pushed = small.contributions(counts, Intent.REPORT.value)
    assert pushed and all(feature in counts for feature, _ in pushed)
    assert any(feature.startswith("c:") for feature, weight in pushed if weight > 0)
    assert [abs(w) for _, w in pushed] == sorted((abs(w) for _, w in pushed), reverse=True)


def test_training_is_deterministic_and_survives_a_round_trip(small: IntentModel, tmp_path) -> None:
    again = train_intent(_synthetic(), folds=2)[0]
    assert again.to_json() == small.to_json()
    small.save(tmp_path / "m.json")
    loaded = IntentModel.load(tmp_path / "m.json")
    counts = example("2单元电梯坏了", "", "groupchat").counts
    assert loaded.probabilities(counts) == pytest.approx(small.probabilities(counts), abs=1e-4)


def test_probabilities_are_calibrated_into_a_distribution(small: IntentModel) -> None:
    probabilities = small.probabilities(example("地库垃圾没人收", "", "groupchat").counts)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert small.linear.confidence_scale > 0


def test_the_detector_makes_a_message_urgent_whatever_the_model_says(small: IntentModel) -> None:
    decision = small.decide(example("早上好", "", "groupchat").counts, danger_found=True)
    assert decision.intent is Intent.URGENT and not decision.needs_triage


def test_character_ngrams_read_digits_alike_and_keep_emoji() -> None:
    assert char_ngrams("3号楼🔥") == char_ngrams("7号楼🔥")
    assert char_ngrams("3号楼🔥")["c:🔥"] == 1


def test_the_training_script_is_deterministic(tmp_path) -> None:
    for name in ("a.json", "b.json"):
        assert train_default_main(["--out", str(tmp_path / name), "--folds", "2"]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_the_shipped_model_loads_and_classifies_anything(settings: Settings) -> None:
    model = default_model()
    assert 0 < model.triage_low <= model.triage_high < 1 and "CC BY 3.0" in " ".join(model.notes)
    classifier = build_learned_classifier(settings)
    assert isinstance(classifier, Classifier)
    for text in ("", "   ", "🙏🙏", "[图片]", "x" * 5000, "@回音"):
        assert isinstance(classifier.classify(text), Classification)


def test_an_urgent_message_is_never_sent_to_triage_and_takes_the_dangers_category(settings: Settings) -> None:
    verdict = LearnedClassifier(settings).classify("楼下有人倒在地上 一动不动")
    assert verdict.urgent and verdict.intent is Intent.URGENT and not verdict.needs_triage
    assert verdict.category == "elderly_care"


def test_classifications_elsewhere_default_to_no_triage() -> None:
    assert Classification(Intent.REPORT, "other", None, None, False, 0.5).needs_triage is False


def test_explain_shows_the_intent_features_and_the_category_words(settings: Settings) -> None:
    explanation = LearnedClassifier(settings).explain("3号楼下水道堵了 水都漫出来了")
    assert explanation.classification.intent is Intent.REPORT
    assert any(e.category.startswith("intent:") for e in explanation.evidence)
    assert any(e.category == "drainage" for e in explanation.evidence)
    assert "P(ticket)" in explanation.reason


def test_a_phone_or_id_number_weighs_as_one_character() -> None:
    """A phone number left in a report must not outweigh its words (adverts carry numbers too)."""
    phone = char_ngrams("电话13812345678")
    assert phone["c:0"] == 1 and sum(phone.values()) == sum(char_ngrams("电话8").values())
    assert char_ngrams("1202室")["c:0"] == 4  # a room number stays what it is
