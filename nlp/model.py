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
from itertools import accumulate, chain, islice, pairwise, repeat
from operator import add
from pathlib import Path

import numpy as np

from nlp.classification import Evidence

FORMAT = "huiyin-keywords/1"


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


# `Scorer.totals` scales the rows of features counted fewer times than this by a precomputed factor.
SCALED_COUNTS = 64
# A message's column sums of a `Scorer`'s table (per model, Σ v² and Σ v × weight per label), as `totals` gives them.
Totals = list[float]


class Scorer:
    """Scores of models that read the same features: `vector_scores(vectorise(counts, idf))` up to rounding.

    One dense table holds, per feature, each model's idf² and idf × weight per label side by side (zeros for a
    model that does not know the feature; row 0, all zeros, for a feature no model knows). A message costs one
    dict lookup per feature, one gather of its rows and one sum over them for all the models (`totals`), then a
    few operations per label (`scores`): score = bias + Σ v × weight / ‖v‖, with v = (1 + log count) × idf.
    The gather and the sums run in numpy, over one contiguous array, instead of the interpreter.
    """

    def __init__(self, *models: KeywordModel) -> None:
        self._models = models
        starts = list(accumulate((1 + len(model.labels) for model in models), initial=0))
        self._columns = list(pairwise(starts))
        features = dict.fromkeys(feature for model in models for feature in model.idf)
        self._index = {feature: number for number, feature in enumerate(features, 1)}
        self._table = np.zeros((1 + len(features), starts[-1]))
        for feature, number in self._index.items():
            self._table[number] = list(chain.from_iterable(_model_row(model, feature) for model in models))
        # Per column, the power of a feature's term frequency that scales it: 2 for idf², 1 for the products.
        self._powers = np.ones(starts[-1])
        self._powers[starts[:-1]] = 2.0
        # Row `count` scales a feature counted that often (row 0: a feature counted 0 times adds nothing).
        self._scales = np.vstack((np.zeros(starts[-1]), self._scale(np.arange(1, SCALED_COUNTS))))

    def totals(self, counts: Mapping[str, int]) -> Totals:
        """The sums of the features' rows, in the order of `counts`, each scaled for how often it was counted."""
        rows = self._table.take(list(map(self._index.get, counts, repeat(0))), 0)
        if sum(counts.values()) != len(counts):
            repeats = list(counts.values())
            try:
                rows *= self._scales.take(repeats, 0)
            except IndexError:  # a feature counted `SCALED_COUNTS` times or more
                rows *= self._scale(np.array(repeats))
        return np.add.reduce(rows, axis=0).tolist()

    def extended(self, totals: Totals, features: Iterable[str]) -> Totals:
        """`totals` with the rows of `features` (each counted once) added one after the other, as `totals` sums
        a message's rows: the same figures as the totals of the message with those features at its end."""
        for feature in features:
            totals = list(map(add, totals, self._table[self._index.get(feature, 0)].tolist()))
        return totals

    def _scale(self, counts: np.ndarray) -> np.ndarray:
        """Each count's factors for a row: tf² for the idf² columns, tf for the others (tf = 1 + log count)."""
        return (1.0 + np.log(counts))[:, None] ** self._powers

    def scores(self, totals: Totals, model: int = 0) -> list[float]:
        """Each label of the `model`-th model, its score from a message's `totals` (its bias without a feature it
        knows)."""
        bias = self._models[model].bias
        squares, *products = islice(totals, *self._columns[model])
        if not squares:
            return list(bias)
        norm = math.sqrt(squares)
        return [b + product / norm for b, product in zip(bias, products, strict=True)]


def _model_row(model: KeywordModel, feature: str) -> tuple[float, ...]:
    """idf² and idf × weight per label for `feature` (zeros when the model does not know it)."""
    idf = model.idf.get(feature)
    if idf is None:
        return (0.0,) * (1 + len(model.labels))
    weights = model.weights.get(feature, (0.0,) * len(model.labels))
    return (idf * idf, *(idf * weight for weight in weights))


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
