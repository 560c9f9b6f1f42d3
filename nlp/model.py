"""A learned keyword model: per category, a weight for each word and word pair, in a reviewable file.

A message's words (jieba tokens and pairs of neighbouring tokens, written `下水道 堵了`) are
weighted like TF-IDF: (1 + log count) × idf, scaled to unit length. A category's score is its bias
plus the sum of weight × word value; the highest score wins. So the model is a weighted keyword
list that a cadre can read: `huiyin explain` prints the words that pushed a message into its
category, and the JSON file lists each category's words from the strongest down.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice, pairwise
from pathlib import Path

from nlp.classification import Evidence

FORMAT = "huiyin-keywords/1"
# One zero for every empty cell of a `Scorer`'s table: fewer objects, fewer cache lines.
_ZERO = 0.0


def is_word(token: str) -> bool:
    """A token with a letter or digit (punctuation and emoji are no words)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def features(tokens: Sequence[str]) -> Counter[str]:
    """Word and neighbouring-pair counts of a tokenised message (punctuation and emoji dropped)."""
    words = [token for token in tokens if is_word(token)]
    counts = Counter(words)
    counts.update(f"{a} {b}" for a, b in pairwise(words))
    return counts


def vectorise(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    """Sublinear TF-IDF of the known features, L2-normalised. Unknown features are ignored."""
    values = {feature: (1.0 + math.log(count)) * idf[feature] for feature, count in counts.items() if feature in idf}
    norm = math.sqrt(sum(value * value for value in values.values()))
    return {feature: value / norm for feature, value in values.items()} if norm else {}


@dataclass(frozen=True)
class KeywordModel:
    labels: tuple[str, ...]
    bias: tuple[float, ...]
    idf: dict[str, float]
    weights: dict[str, tuple[float, ...]]  # feature -> one weight per label
    # A category's confidence is its share of softmax(confidence_scale × scores), the scale fitted at training.
    confidence_scale: float = 1.0

    def scores(self, tokens: Sequence[str]) -> dict[str, float]:
        """Each label's score for a tokenised message."""
        return dict(zip(self.labels, self.vector_scores(vectorise(features(tokens), self.idf)), strict=True))

    def vector_scores(self, vector: dict[str, float]) -> list[float]:
        """Each label's score, in label order, for a message already vectorised with this model's idf."""
        totals = list(self.bias)
        for feature, value in vector.items():
            row = self.weights.get(feature)
            if row is not None:
                for index, weight in enumerate(row):
                    totals[index] += weight * value
        return totals

    def contributions(self, tokens: Sequence[str], label: str) -> list[Evidence]:
        """The features of a message that score for `label`, strongest first (weights rounded for reading)."""
        index = self.labels.index(label)
        scored = sorted(
            (
                (feature, self.weights[feature][index] * value)
                for feature, value in vectorise(features(tokens), self.idf).items()
                if feature in self.weights
            ),
            key=lambda item: -item[1],
        )
        return [Evidence(feature, label, round(score, 4)) for feature, score in scored]

    def to_json(self) -> dict:
        """The reviewable form: per label, its bias and its words from the strongest down."""
        per_label = {}
        for index, label in enumerate(self.labels):
            ranked = sorted(self.weights.items(), key=lambda item: -item[1][index])
            per_label[label] = {
                "bias": round(self.bias[index], 6),
                "keywords": {feature: round(row[index], 6) for feature, row in ranked if row[index] != 0.0},
            }
        return {
            "format": FORMAT,
            "labels": list(self.labels),
            "confidence_scale": self.confidence_scale,
            "categories": per_label,
            "idf": {feature: round(value, 6) for feature, value in sorted(self.idf.items())},
        }

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict) -> KeywordModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a Huiyin keyword model (expected format {FORMAT!r})")
        labels = tuple(data["labels"])
        scale = float(data.get("confidence_scale", 1.0))
        if not scale > 0:
            raise ValueError(f"confidence_scale must be a positive number (found {scale})")
        categories = data["categories"]
        weights: dict[str, list[float]] = {}
        for index, label in enumerate(labels):
            for feature, weight in categories[label]["keywords"].items():
                weights.setdefault(feature, [0.0] * len(labels))[index] = float(weight)
        return cls(
            labels=labels,
            bias=tuple(float(categories[label]["bias"]) for label in labels),
            idf={feature: float(value) for feature, value in data["idf"].items()},
            weights={feature: tuple(row) for feature, row in weights.items()},
            confidence_scale=scale,
        )

    @classmethod
    def load(cls, path: Path | str) -> KeywordModel:
        with open(path, encoding="utf-8") as file:
            return cls.from_json(json.load(file))


# A feature's row in a `Scorer`: per model, idf² and idf × weight per label, one flat tuple.
Row = tuple[float, ...]


class Scorer:
    """Scores of models that read the same features: `vector_scores(vectorise(counts, idf))` up to rounding.

    Each feature's row is computed once: per model idf² and idf × weight per label, side by side in one flat
    tuple (zeros for a model that does not know the feature, which leave every sum unchanged). So a message
    costs one dict lookup per feature for all the models (`rows`), and each model's sums run in C over its
    columns (`scores`): score = bias + Σ v × weight / ‖v‖, with v = (1 + log count) × idf.
    """

    def __init__(self, *models: KeywordModel) -> None:
        self._models = models
        widths = [1 + len(model.labels) for model in models]
        self._columns = [(sum(widths[:index]), sum(widths[: index + 1])) for index in range(len(models))]
        features = dict.fromkeys(feature for model in models for feature in model.idf)
        self._rows = {feature: self._row(feature, 1) for feature in features}

    def rows(self, counts: Mapping[str, int]) -> list[Row]:
        """The rows of the known features, in the order of `counts`."""
        return [
            row if count == 1 else self._row(feature, count)
            for (feature, count), row in zip(counts.items(), map(self._rows.get, counts), strict=True)
            if row is not None
        ]

    def scores(self, rows: Sequence[Row], model: int = 0) -> list[float]:
        """Each label of the `model`-th model, its score from `rows` (its bias without a feature it knows)."""
        bias = self._models[model].bias
        if not rows:
            return list(bias)
        squares, *products = map(sum, islice(zip(*rows, strict=True), *self._columns[model]))
        if not squares:
            return list(bias)
        norm = math.sqrt(squares)
        return [b + product / norm for b, product in zip(bias, products, strict=True)]

    def _row(self, feature: str, count: int) -> Row:
        return tuple(chain.from_iterable(_model_row(model, feature, count) for model in self._models))


def _model_row(model: KeywordModel, feature: str, count: int) -> tuple[float, ...]:
    """idf² and idf × weight per label for `count` times `feature` (zeros when the model does not know it)."""
    idf = model.idf.get(feature)
    if idf is None:
        return (_ZERO,) * (1 + len(model.labels))
    value = idf if count == 1 else (1.0 + math.log(count)) * idf
    weights = model.weights.get(feature, (_ZERO,) * len(model.labels))
    return (value * value, *(value * weight if weight else _ZERO for weight in weights))


def softmax(scores: Sequence[float], scale: float) -> list[float]:
    """softmax(scale × scores): a model's scores as probabilities (the scale fitted at training)."""
    top = max(scores)
    exps = [math.exp(scale * (score - top)) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def document_frequencies(documents: Iterable[Counter[str]]) -> tuple[Counter[str], int]:
    frequencies: Counter[str] = Counter()
    total = 0
    for counts in documents:
        frequencies.update(counts.keys())
        total += 1
    return frequencies, total
