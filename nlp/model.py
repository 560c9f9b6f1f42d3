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
from itertools import pairwise
from operator import mul
from pathlib import Path

from nlp.classification import Evidence

# Per feature: its idf and one weight per label (what `scoring_rows` builds for `count_scores`).
Rows = dict[str, tuple[float, tuple[float, ...]]]

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


def scoring_rows(model: KeywordModel) -> Rows:
    """Each feature's idf and weights (zeros for a feature the SVM dropped): one lookup per feature when scoring."""
    zero = (0.0,) * len(model.labels)
    return {feature: (idf, model.weights.get(feature, zero)) for feature, idf in model.idf.items()}


def count_scores(rows: Rows, bias: Sequence[float], counts: Mapping[str, int]) -> list[float]:
    """Each label's score, as `vector_scores(vectorise(counts, idf))` gives it, with one C-level pass per label."""
    known = [(rows[feature], count) for feature, count in counts.items() if feature in rows]
    if not known:
        return list(bias)
    values = [idf if count == 1 else (1.0 + math.log(count)) * idf for (idf, _), count in known]
    norm = math.sqrt(sum(map(mul, values, values)))
    columns = zip(*[weights for (_, weights), _ in known], strict=True)
    return [b + sum(map(mul, column, values)) / norm for b, column in zip(bias, columns, strict=True)]


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
