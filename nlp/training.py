"""`huiyin train`: learn keyword weights from a labelled ledger (CSV columns `text,label`).

The estimate is a multi-class passive-aggressive linear classifier (PA-I, Crammer & al. 2006)
with averaged weights, over the sublinear TF-IDF words of `nlp.model`. It is the hinge-loss
family of a linear SVM, trained online in pure Python, so a community needs no numeric library
and every weight stays a readable number on a word. Rows whose label is `none` (chatter) carry
no category and are skipped.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.classification import normalise_message
from nlp.model import KeywordModel, document_frequencies, features, vectorise
from nlp.segment import tokens

NO_LABEL = "none"


@dataclass(frozen=True)
class LabelledRow:
    text: str
    label: str
    intent: str | None = None


def read_labelled(path: Path | str) -> list[LabelledRow]:
    """Rows of a CSV with a header holding `text` and `label` (and optionally `intent`)."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        fields = set(reader.fieldnames or ())
        if not {"text", "label"} <= fields:
            raise ValueError(f"{path}: the header must name the columns text and label (found {sorted(fields)})")
        has_intent = "intent" in fields
        return [
            LabelledRow(row["text"] or "", (row["label"] or "").strip(), (row["intent"] or "").strip() or None)
            if has_intent
            else LabelledRow(row["text"] or "", (row["label"] or "").strip())
            for row in reader
        ]


def message_tokens(text: str) -> list[str]:
    """The tokens a classifier sees: normalised, case-folded text segmented by jieba."""
    return tokens(normalise_message(text).casefold())


def train(
    rows: Iterable[LabelledRow], *, epochs: int = 12, aggressiveness: float = 0.5, min_df: int = 2, seed: int = 13
) -> KeywordModel:
    """Learn a `KeywordModel` from labelled rows. Deterministic for a given `seed`."""
    labelled = [(Counter(features(message_tokens(row.text))), row.label) for row in rows if row.label != NO_LABEL]
    if not labelled:
        raise ValueError("no labelled rows to learn from")
    labels = tuple(sorted({label for _, label in labelled}))
    frequencies, total = document_frequencies(counts for counts, _ in labelled)
    idf = {
        feature: math.log((1 + total) / (1 + count)) + 1.0 for feature, count in frequencies.items() if count >= min_df
    }
    examples = [(vectorise(counts, idf), labels.index(label)) for counts, label in labelled]
    weights, bias = _passive_aggressive(examples, len(labels), epochs, aggressiveness, random.Random(seed))
    kept_features = {feature: row for feature, row in weights.items() if any(abs(w) >= 1e-4 for w in row)}
    return KeywordModel(labels=labels, bias=tuple(bias), idf={f: idf[f] for f in kept_features}, weights=kept_features)


def _passive_aggressive(
    examples: Sequence[tuple[dict[str, float], int]], classes: int, epochs: int, aggressiveness: float,
    rng: random.Random,
) -> tuple[dict[str, tuple[float, ...]], list[float]]:
    """Averaged multi-class PA-I. A constant feature (value 1) plays the bias."""
    weights: dict[str, list[float]] = {}
    accumulated: dict[str, list[float]] = {}  # sum of step * update, for the averaging trick
    bias, bias_accumulated = [0.0] * classes, [0.0] * classes
    order = list(range(len(examples)))
    step = 1
    for _ in range(epochs):
        rng.shuffle(order)
        for index in order:
            vector, truth = examples[index]
            scores = list(bias)
            for feature, value in vector.items():
                row = weights.get(feature)
                if row is not None:
                    for label in range(classes):
                        scores[label] += row[label] * value
            rival = max((label for label in range(classes) if label != truth), key=scores.__getitem__, default=truth)
            loss = 1.0 - (scores[truth] - scores[rival]) if rival != truth else 0.0
            if loss > 0.0:
                squared = 2.0 * (sum(value * value for value in vector.values()) + 1.0)
                tau = min(aggressiveness, loss / squared)
                for feature, value in vector.items():
                    row = weights.setdefault(feature, [0.0] * classes)
                    sums = accumulated.setdefault(feature, [0.0] * classes)
                    row[truth] += tau * value
                    row[rival] -= tau * value
                    sums[truth] += step * tau * value
                    sums[rival] -= step * tau * value
                bias[truth] += tau
                bias[rival] -= tau
                bias_accumulated[truth] += step * tau
                bias_accumulated[rival] -= step * tau
            step += 1
    averaged = {
        feature: tuple(w - s / step for w, s in zip(row, accumulated[feature], strict=True))
        for feature, row in weights.items()
    }
    return averaged, [b - s / step for b, s in zip(bias, bias_accumulated, strict=True)]
