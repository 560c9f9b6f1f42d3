"""`huiyin train` / `eval` / `explain`: learning keyword weights, the figures and their definitions."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from nlp.evaluation import evaluate
from nlp.model import KeywordModel, features
from nlp.training import (
    LabelledRow,
    cross_validate,
    fit_confidence_scale,
    log_count_ratios,
    macro_f1,
    read_labelled,
    squared_hinge_svm,
    stratified_folds,
    train,
)
from nlp.weighted import WeightedClassifier, build_classifier, message_tokens
from settings.models import Settings

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
CLI = ["--config", str(REPO / "config.yaml"), "--env-file", os.devnull]


@pytest.fixture(scope="module")
def model() -> KeywordModel:
    return train(read_labelled(DATA / "groupchat.csv"))


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_features_are_words_and_neighbouring_pairs_without_punctuation() -> None:
    counted = features(["下水道", "堵了", "，", "下水道", "😭"])
    assert counted == {"下水道": 2, "堵了": 1, "下水道 堵了": 1, "堵了 下水道": 1}


def test_training_learns_readable_keywords_and_is_deterministic(model: KeywordModel) -> None:
    assert "none" not in model.labels  # chatter rows carry no category
    assert set(model.labels) == {row.label for row in read_labelled(DATA / "groupchat.csv")} - {"none"}
    drainage = model.labels.index("drainage")
    strongest = sorted(model.weights, key=lambda feature: -model.weights[feature][drainage])[:15]
    assert {"下水道", "漏水", "停水", "水压"} & set(strongest)
    again = train(read_labelled(DATA / "groupchat.csv"))
    assert again.to_json() == model.to_json()


def test_a_saved_model_loads_back_to_the_same_scores(model: KeywordModel, tmp_path: Path) -> None:
    model.save(tmp_path / "model.json")
    loaded = KeywordModel.load(tmp_path / "model.json")
    tokens = message_tokens("5号楼下水道堵了，一楼返水")
    assert loaded.scores(tokens) == pytest.approx(model.scores(tokens), abs=1e-4)
    saved = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    keywords = saved["categories"]["drainage"]["keywords"]
    assert list(keywords.values()) == sorted(keywords.values(), reverse=True)  # reviewable: strongest first


def test_the_confidence_scale_is_the_one_that_generated_the_labels() -> None:
    rng = random.Random(3)
    scores = [[rng.gauss(0.0, 1.0) for _ in range(4)] for _ in range(3000)]
    truths = []
    for row in scores:
        weights = [math.exp(4.0 * score) for score in row]
        truths.append(rng.choices(range(4), weights=weights)[0])
    assert fit_confidence_scale(scores, truths) == pytest.approx(4.0, rel=0.1)


def test_a_trained_model_keeps_its_confidence_scale_and_old_files_load(model: KeywordModel, tmp_path: Path) -> None:
    assert model.confidence_scale != 1.0  # fitted on a held-out third, not left at its default
    model.save(tmp_path / "model.json")
    assert KeywordModel.load(tmp_path / "model.json").confidence_scale == model.confidence_scale
    saved = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    del saved["confidence_scale"]
    assert KeywordModel.from_json(saved).confidence_scale == 1.0
    with pytest.raises(ValueError, match="confidence_scale must be a positive number"):
        KeywordModel.from_json({**saved, "confidence_scale": -2})


def test_the_classifier_takes_its_categories_from_a_model(model: KeywordModel, settings: Settings) -> None:
    classifier = WeightedClassifier(settings, model)
    verdict = classifier.classify("6号楼厨房下水道堵了，污水返上来")
    assert (verdict.intent.value, verdict.category, verdict.location) == ("report", "drainage", "6号楼")
    assert classifier.classify("早上好").intent.value == "chatter"
    explained = classifier.explain("6号楼厨房下水道堵了，污水返上来")
    assert explained.evidence and explained.evidence[0].category == "drainage"


def test_eval_figures_follow_their_definitions(settings: Settings) -> None:
    rows = [
        LabelledRow("3号楼下水道堵了", "drainage", "report"),
        LabelledRow("早上好", "none", "chatter"),
        LabelledRow("收到", "none", "chatter"),
        LabelledRow("4号楼路灯坏了", "drainage", "report"),  # predicted power: a wrong category
        LabelledRow("着火了", "parking_fire", "urgent"),
        LabelledRow("我家楼道灯不亮了", "none", "chatter"),  # labelled chatter, predicted a report: a false ticket
    ]
    result = evaluate(WeightedClassifier(settings), rows)
    assert result["accuracy"] == round(4 / 6, 4)
    # Labels present in the file: drainage F1 2/3 (P 1, R 1/2), none F1 0.8 (P 1, R 2/3), parking_fire F1 1.
    assert result["macro_f1"] == round((2 / 3 + 0.8 + 1.0) / 3, 4)
    assert result["per_label"]["power"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result["confusion"] == {
        "drainage": {"drainage": 1, "power": 1}, "none": {"none": 2, "power": 1}, "parking_fire": {"parking_fire": 1},
    }  # fmt: skip
    assert result["intent_accuracy"] == round(5 / 6, 4)
    assert result["false_ticket_rate"] == round(1 / 3, 4)
    assert result["urgent_recall"] == 1.0


def test_eval_json_has_the_documented_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labelled = write_csv(tmp_path / "l.csv", "text,label,intent\n3号楼下水道堵了,drainage,report\n早上好,none,chatter")
    assert main([*CLI, "eval", str(labelled), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "per_label", "confusion", "intent_accuracy", "false_ticket_rate",
            "urgent_recall"} <= set(result)  # fmt: skip
    assert result["urgent_recall"] is None  # no urgent rows: undefined, not 0

    without_intent = write_csv(tmp_path / "n.csv", "text,label\n3号楼下水道堵了,drainage\n")
    assert main([*CLI, "eval", str(without_intent), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["accuracy"], result["macro_f1"]) == (1.0, 1.0)
    assert "false_ticket_rate" not in result


def test_train_then_eval_with_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model.json"
    assert main([*CLI, "train", str(DATA / "groupchat.csv"), "--out", str(out)]) == 0
    assert "drainage:" in capsys.readouterr().out
    assert main([*CLI, "eval", str(DATA / "groupchat.csv"), "--model", str(out)]) == 0
    report = capsys.readouterr().out
    assert report.startswith("rows 378  accuracy ")
    assert "confusion (true → predicted: count)" in report


def test_explain_prints_the_words_behind_the_category(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*CLI, "explain", "3号楼2单元下水道堵了，一楼都返水了"]) == 0
    printed = capsys.readouterr().out
    assert "intent report  category drainage (给排水)" in printed
    assert "下水道" in printed.split("top words:")[1]
    assert "place 3号楼2单元 (grid g1)" in printed


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("words,category\n漏水,drainage\n", "must name the columns text and label"),
        ("text,label\n早上好,none\n", "no labelled rows"),
    ],
)
def test_train_and_eval_refuse_bad_files_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "labelled.csv"
    if content is not None:
        write_csv(path, content)
    assert main([*CLI, "train", str(path), "--out", str(tmp_path / "m.json")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = write_csv(tmp_path / "bogus.json", '{"format": "something else"}')
    assert main([*CLI, "explain", "漏水", "--model", str(bogus)]) == 2
    assert "not a Huiyin keyword model" in capsys.readouterr().err


def test_config_names_the_model_the_bot_uses(
    model: KeywordModel, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model.save(tmp_path / "model.json")
    def with_model(path: Path) -> Settings:
        return settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"model": str(path)})})

    assert build_classifier(with_model(tmp_path / "model.json")).model is not None
    with caplog.at_level(logging.ERROR):
        fallback = build_classifier(with_model(tmp_path / "gone.json"))
    assert fallback.model is None
    assert fallback.classify("3号楼下水道堵了").category == "drainage"
    assert "nlp.model: cannot use" in caplog.text


def synthetic_rows() -> list[LabelledRow]:
    """Three categories, each with its own cue words among shared filler, a third of the rows with a rival's cue."""
    rng = random.Random(5)
    cues = {"water": ["漏水", "停水", "水管"], "power": ["停电", "跳闸", "电表"], "noise": ["噪音", "装修", "吵闹"]}
    filler = ["今天", "楼下", "邻居", "师傅", "晚上", "麻烦", "一直", "我们"]
    rows = [LabelledRow("早上好", "none")]
    for label, words in cues.items():
        rivals = [word for other, others in cues.items() if other != label for word in others]
        for number in range(12):
            picked = [rng.choice(words), *rng.sample(filler, 3)]
            if number % 3 == 0:
                picked.append(rng.choice(rivals))
            rng.shuffle(picked)
            rows.append(LabelledRow("，".join(picked), label))
    return rows


def test_folds_are_stratified_and_seeded() -> None:
    labels = ["a"] * 7 + ["b"] * 5 + ["c"] * 3
    folds = stratified_folds(labels, 3, seed=13)
    assert folds == stratified_folds(labels, 3, seed=13)
    for label in "abc":
        sizes = Counter(fold for fold, name in zip(folds, labels, strict=True) if name == label)
        per_fold = [sizes[fold] for fold in range(3)]
        assert sum(per_fold) == labels.count(label) and max(per_fold) - min(per_fold) <= 1
    assert sorted(Counter(folds).values()) == [5, 5, 5]


def test_cross_validation_scores_each_cost_as_a_separate_training_would() -> None:
    rows = synthetic_rows()
    result = cross_validate(rows, folds=3, costs=(0.5, 0.002))
    assert list(result.scores) == [0.5, 0.002]
    means = {cost: sum(scores) / 3 for cost, scores in result.scores.items()}
    assert means[result.best] == max(means.values())
    assert len(set(means.values())) > 1  # the noisy rows make the costs differ
    labelled = [row for row in rows if row.label != "none"]
    folds = stratified_folds([row.label for row in labelled], 3, seed=13)
    for held_out in range(3):
        learnt_from = [row for row, fold in zip(labelled, folds, strict=True) if fold != held_out]
        tested = [row for row, fold in zip(labelled, folds, strict=True) if fold == held_out]
        for cost, scores in result.scores.items():
            model = train(learnt_from, cost=cost)
            predicted = [max(s := model.scores(message_tokens(row.text)), key=s.__getitem__) for row in tested]
            assert scores[held_out] == pytest.approx(macro_f1([row.label for row in tested], predicted))
    starred = [line for line in result.table().splitlines() if line.endswith("*")]
    assert starred == [line for line in result.table().splitlines() if line.startswith(f"C {result.best:g} ")]


def test_cross_validation_keeps_the_first_of_equal_costs() -> None:
    # Each fold's training part is separable: from C 50 on, the SVMs make the same hard-margin predictions.
    for first, second in ((50.0, 500.0), (500.0, 50.0)):
        result = cross_validate(synthetic_rows(), folds=3, costs=(first, second, first))
        assert list(result.scores) == [first, second]  # a repeated cost is scored once
        assert result.scores[first] == result.scores[second]
        assert result.best == first


def test_the_svm_reaches_the_known_optimum_of_a_small_problem() -> None:
    # Points +1 (label +1) and -1 (label -1): by symmetry the bias is 0 and ½w² + 2C(1 - w)² is least at
    # w = 4C / (1 + 4C), 0.8 for C = 1.
    weights, bias = squared_hinge_svm([([0], [1.0]), ([0], [-1.0])], [1.0, -1.0], 1, 1.0, random.Random(1), 1e-9)
    assert weights[0] == pytest.approx(0.8, abs=1e-6)
    assert bias == pytest.approx(0.0, abs=1e-6)


def test_a_word_counts_for_the_category_it_is_more_common_in() -> None:
    vectors = [([0, 1], [0.7, 0.7]), ([0], [1.0]), ([1], [1.0])]
    ratios = log_count_ratios(vectors, [1.0, 1.0, -1.0], 2)
    # word 0: in both rows of the label, none of the others; word 1: in one row each side (+1 smoothing).
    assert ratios == pytest.approx([math.log((3 / 5) / (1 / 3)), math.log((2 / 5) / (2 / 3))])


def test_train_cv_prints_the_folds_and_trains_on_everything_with_the_chosen_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.json"
    assert main([*CLI, "train", str(DATA / "groupchat.csv"), "--out", str(out), "--cv", "2", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "2-fold cross-validation" in printed
    chosen = re.search(r"chosen: C ([\d.]+); training on all 378 rows", printed)
    assert chosen
    expected = train(read_labelled(DATA / "groupchat.csv"), cost=float(chosen[1]))
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved.pop("intent")["format"] == "huiyin-intent/1"  # the file has an intent column: intents learnt too
    assert saved == json.loads(json.dumps(expected.to_json()))
    assert main([*CLI, "train", str(DATA / "groupchat.csv"), "--out", str(tmp_path / "m.json"), "--cv", "1"]) == 2
    assert "at least 2 folds" in capsys.readouterr().err
    assert main([*CLI, "train", str(DATA / "groupchat.csv"), "--out", str(tmp_path / "m.json"), "--cost", "0"]) == 2
    assert "cost C must be a positive number" in capsys.readouterr().err
