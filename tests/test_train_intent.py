"""`huiyin train` learns the community's language: intents from a labelled file's `intent` column and from
plain chatter lists, kept in the same model file as the categories, which `--model` and `nlp.model` then use."""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bot.cli import main
from nlp.intent import read
from nlp.learned import LearnedClassifier
from nlp.trained import configured_classifier, load, row_intent
from nlp.training import read_labelled, train
from settings.models import Settings

REPO = Path(__file__).resolve().parent.parent
CLI = ["--config", str(REPO / "config.yaml"), "--env-file", os.devnull]
# A community's own chatter: group-buying relays, the 接龙 of a residents' group.
RELAY = [f"{n}. {name} 接龙 团购鸡蛋 {n} 箱" for n, name in enumerate(["张", "李", "王", "赵", "刘", "陈"] * 5, 1)]
LABELLED = """text,label,intent
3号楼2单元下水道堵了，一楼都返水了,drainage,report
5号楼电梯又卡住不动了,facilities,report
小区东门路灯坏了好几天,power,report
楼下垃圾桶满了没人清,sanitation,report
团购群里的鸡蛋到了吗,none,chatter
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("train")
    (folder / "labelled.csv").write_text(LABELLED, encoding="utf-8")
    (folder / "chatter.txt").write_text("\n".join(RELAY) + "\n\n", encoding="utf-8")
    out = folder / "model.json"
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main([*CLI, "train", str(folder / "labelled.csv"), str(folder / "chatter.txt"), "--out", str(out)]) == 0
    return out, buffer.getvalue()


def test_train_keeps_categories_and_intents_in_one_file(trained: tuple[Path, str]) -> None:
    out, printed = trained
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["labels"] == ["drainage", "facilities", "power", "sanitation"]  # chatter (none) has no category
    assert saved["intent"]["format"] == "huiyin-intent/1"
    assert "CC BY 3.0" in " ".join(saved["intent"]["notes"])  # derived in part from the chit-chat corpus
    assert f"5 labelled rows and {len(RELAY)} chatter lines" in printed


def test_a_chatter_list_teaches_the_community_s_chatter(trained: tuple[Path, str], settings: Settings) -> None:
    shipped = configured_classifier(settings)
    learned = configured_classifier(settings, str(trained[0]))
    message = "31. 孙 接龙 团购鸡蛋 2 箱"  # not a line it was given
    before = shipped.model.probabilities(_features(shipped, message))["chatter"]
    after = learned.model.probabilities(_features(learned, message))["chatter"]
    assert after > before


def _features(classifier: LearnedClassifier, text: str) -> Counter[str]:
    return read(text, classifier.lexicon).features


def test_model_and_config_both_use_the_intent_model_in_the_file(trained: tuple[Path, str], settings: Settings) -> None:
    path = str(trained[0])
    intent = load(path)[1]
    assert intent is not None
    assert configured_classifier(settings, path).model == intent  # --model
    configured = settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"model": path})})
    assert configured_classifier(configured).model == intent  # nlp.model: what `huiyin run` uses


def test_a_ledger_without_intents_teaches_that_its_rows_are_problems(tmp_path: Path, settings: Settings) -> None:
    labelled = tmp_path / "categories.csv"
    labelled.write_text("text,label\n" + "\n".join(line.rsplit(",", 1)[0] for line in LABELLED.splitlines()[1:]))
    assert [row_intent(row) for row in read_labelled(labelled)] == ["report"] * 4 + ["chatter"]  # `none`: chatter
    out = tmp_path / "model.json"
    with redirect_stdout(io.StringIO()):
        assert main([*CLI, "train", str(labelled), "--out", str(out)]) == 0
    intent = load(out)[1]
    assert intent is not None
    with_file = configured_classifier(settings, str(out))
    assert with_file.model.category is None  # the categories come from the file, not the shipped category part
    assert with_file.classify("3号楼2单元下水道堵了").category in {"drainage", "facilities", "power", "sanitation"}


def test_an_old_model_file_without_intents_keeps_the_shipped_intent_model(tmp_path: Path, settings: Settings) -> None:
    keywords = train(read_labelled(REPO / "tests" / "data" / "groupchat.csv"))
    keywords.save(tmp_path / "old.json")
    old = configured_classifier(settings, str(tmp_path / "old.json")).model
    shipped = configured_classifier(settings).model
    assert (old.linear, old.triage_low, old.triage_high) == (shipped.linear, shipped.triage_low, shipped.triage_high)


def test_an_unknown_intent_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labelled = tmp_path / "bad.csv"
    labelled.write_text("text,label,intent\n下水道堵了,drainage,complaint\n井盖没了,facilities,report\n")
    assert main([*CLI, "train", str(labelled), "--out", str(tmp_path / "m.json")]) == 2
    assert "unknown intent complaint" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_explain_shows_the_words_that_pushed_the_intent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*CLI, "explain", "3号楼2单元下水道堵了"]) == 0
    printed = capsys.readouterr().out
    assert "why: intent model report" in printed
    assert "intent:report" in printed.split("top words:")[1]
