"""The model file `huiyin train` writes, and the classifier the bot and the CLI build from the settings.

The file is a keyword model (the categories, `nlp.model`'s format since before intents were learned) holding an
intent model under `intent`, which `huiyin train` learns from the labelled rows (their `intent` column; a row
without one is a report when it has a category, chatter when its label is `none`: a labelled ledger lists
tickets) and from chatter lists. `nlp.model: model.json` (or `--model model.json`) reads categories and intents
from it; an older file without `intent` keeps the shipped intent model.

A community's intent rows are learnt together with the shipped training data (`nlp.train_default`), so a few
hundred 登记/忽略/改类 decisions add the community's words without losing what the default model knows (a
community's own rows seldom cover every intent, urgent least of all).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from nlp.intent import LABELS, IntentModel, example, train_intent
from nlp.learned import LearnedClassifier, build_learned_classifier, default_model
from nlp.lexicon import Lexicon
from nlp.model import KeywordModel
from nlp.train_default import ATTRIBUTION, CHITCHAT, SEED, groupchat_files, read_lines, training_examples
from nlp.training import NO_LABEL, LabelledRow
from settings.models import Settings

INTENT_KEY = "intent"


def load(path: Path | str) -> tuple[KeywordModel, IntentModel | None]:
    """The categories of a model file, and its intent model when it holds one."""
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    intent = IntentModel.from_json(data[INTENT_KEY]) if INTENT_KEY in data else None
    return KeywordModel.from_json(data), intent


def save(path: Path | str, keywords: KeywordModel, intent: IntentModel | None) -> None:
    data = keywords.to_json()
    if intent is not None:
        data[INTENT_KEY] = intent.to_json()
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def configured_classifier(settings: Settings, model_path: str | None = None) -> LearnedClassifier:
    """What the bot reads messages with: the learned classifier on the settings' model, or on `model_path`.

    Without `model_path`, exactly what `huiyin run` uses (so `huiyin eval FILE` measures it). A model file's
    categories replace the shipped model's category part (a community's own taxonomy, or the government split's
    seven labels), and its intent model, if it has one, the shipped intent model. A `model_path` that cannot be
    read raises (the CLI says why); an unreadable `nlp.model` has been logged by `build_classifier` and the bot
    goes on with the shipped model and the config's keywords."""
    if model_path is not None:
        keywords, intent = load(model_path)
        return LearnedClassifier(settings, _without_categories(intent or default_model()), keywords)
    classifier = build_learned_classifier(settings)
    if not settings.nlp.model:
        return classifier
    try:
        intent = load(settings.nlp.model)[1]
    except (OSError, ValueError, KeyError, TypeError):
        return classifier
    return classifier.with_model(_without_categories(intent or classifier.model))


def _without_categories(intent: IntentModel) -> IntentModel:
    """`intent` leaving the categories to the keyword model beside it."""
    return replace(intent, category=None)


def read_chatter(path: Path | str) -> list[str]:
    """A chatter list: one message a line, blank lines skipped."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def train_intent_model(lexicon: Lexicon, rows: Sequence[LabelledRow], chatter: Sequence[str]) -> IntentModel:
    """The shipped training data plus the labelled rows and the chatter lines, band and threshold re-tuned.

    Deterministic, like `python -m nlp.train_default`; raises ValueError for an intent that is none of `LABELS`."""
    unknown = sorted({row.intent for row in rows if row.intent and row.intent not in LABELS})
    if unknown:
        raise ValueError(f"unknown intent {', '.join(unknown)} (use one of {', '.join(LABELS)})")
    files = [path for path in groupchat_files() if path.exists()]
    examples = training_examples(lexicon, files, read_lines(CHITCHAT))
    examples += [example(row.text, row_intent(row), "groupchat", lexicon) for row in rows]
    examples += [example(line, "chatter", "chitchat", lexicon) for line in chatter]
    model, _ = train_intent(examples, seed=SEED, notes=(ATTRIBUTION,))
    return model


def row_intent(row: LabelledRow) -> str:
    """A row's intent: its `intent` column, else report for a category and chatter for `none`."""
    return row.intent or ("chatter" if row.label == NO_LABEL else "report")
