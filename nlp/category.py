"""The learned category of a ticket: NBSVM over the intent features, with the community's keywords in the blend.

A ticket's category comes from two sources:

- the community's keywords (`config.yaml`, `categories[].keywords` and `weights`, read by `nlp.lexicon`):
  their weight per category;
- a linear model (the NBSVM of `nlp.training`, one category against the rest) over the same features
  the intent model reads (`nlp.intent.read`: jieba words and pairs, character n-grams, cues), plus
  `kw:<category>` for each category holding at least half of the message's keyword weight. So the
  model learns how far to trust the keywords, and a word a community adds to `config.yaml` later
  still pushes its category through that feature.

The blend: P(category) = softmax(scale × model scores), plus `keyword_weight` × each category's share of
the keyword weight, renormalised. `keyword_weight`, like the SVM's cost, is chosen by k-fold
cross-validation over the training rows only (`train_category`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from nlp.model import KeywordModel, Scorer, softmax, vectorise
from nlp.training import fit_confidence_scale, fit_counts, macro_f1, stratified_folds

FORMAT = "huiyin-category/1"
KEYWORD_FEATURE = "kw:"
# A category's keywords become a feature when they hold at least this share of the message's keyword weight.
KEYWORD_SHARE = 0.5
# Never 0: a word a community adds after training must keep a direct say, beside its `kw:` feature.
KEYWORD_WEIGHTS = (0.25, 0.5, 0.75, 1.0)
COSTS = (0.3, 1.0, 3.0)
DEFAULT_FOLDS = 5


def keyword_features(keywords: Mapping[str, float]) -> list[str]:
    """`kw:<category>` for each category with at least `KEYWORD_SHARE` of the keyword weight."""
    total = sum(weight for weight in keywords.values() if weight > 0)
    return [f"{KEYWORD_FEATURE}{c}" for c, weight in keywords.items() if total and weight / total >= KEYWORD_SHARE]


def with_keywords(counts: Counter[str], keywords: Mapping[str, float]) -> Counter[str]:
    """The intent features of a message plus its keyword features: what the category model reads."""
    found = keyword_features(keywords)
    if not found:
        return counts
    extended = Counter(counts)
    extended.update(found)
    return extended


def blend(probabilities: Mapping[str, float], keywords: Mapping[str, float], weight: float) -> dict[str, float]:
    """Model probabilities plus `weight` × each category's share of the keyword weight, renormalised."""
    combined = dict(probabilities)
    total = sum(value for value in keywords.values() if value > 0)
    if total and weight:
        for category, value in keywords.items():
            if value > 0:
                combined[category] = combined.get(category, 0.0) + weight * value / total
    norm = sum(combined.values())
    return {category: value / norm for category, value in combined.items()}


@dataclass(frozen=True)
class CategoryModel:
    """A linear model over category features, its calibrated scale, and the keywords' share in the blend."""

    linear: KeywordModel
    keyword_weight: float

    @cached_property
    def _scorer(self) -> Scorer:
        return Scorer(self.linear)

    def probabilities(self, counts: Counter[str], keywords: Mapping[str, float]) -> dict[str, float]:
        """P(category) for a message's intent features and keyword weights, keywords blended in."""
        totals = self._scorer.extended(self._scorer.totals(counts), keyword_features(keywords))
        return self.blended(self._scorer.scores(totals), keywords)

    def blended(self, scores: Sequence[float], keywords: Mapping[str, float]) -> dict[str, float]:
        """P(category) from the model's scores, keywords blended in."""
        return blend(self.model_probabilities(scores), keywords, self.keyword_weight)

    def model_probabilities(self, scores: Sequence[float]) -> dict[str, float]:
        return dict(zip(self.linear.labels, softmax(scores, self.linear.confidence_scale), strict=True))

    def contributions(self, counts: Counter[str], keywords: Mapping[str, float], label: str) -> list[tuple[str, float]]:
        """The features that pushed `label`'s model score, strongest (in either direction) first."""
        if label not in self.linear.labels:
            return []
        index = self.linear.labels.index(label)
        vector = vectorise(with_keywords(counts, keywords), self.linear.idf)
        pushed = [(feature, self.linear.weights[feature][index] * value) for feature, value in vector.items()]
        return sorted(((f, round(w, 4)) for f, w in pushed if w), key=lambda item: -abs(item[1]))

    def to_json(self) -> dict:
        return {"format": FORMAT, "keyword_weight": self.keyword_weight, "linear": self.linear.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> CategoryModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a Huiyin category model (expected format {FORMAT!r})")
        return cls(KeywordModel.from_json(data["linear"]), float(data["keyword_weight"]))


@dataclass(frozen=True)
class CategoryRow:
    """A ticket row for training: its intent features, keyword weights per category and true category."""

    counts: Counter[str]
    keywords: Mapping[str, float]
    label: str


@dataclass(frozen=True)
class Choice:
    """What cross-validation chose, and the out-of-fold macro-F1 of every (cost, keyword weight) tried."""

    cost: float
    keyword_weight: float
    scores: dict[tuple[float, float], float]

    def table(self) -> str:
        lines = ["cost  " + "".join(f"{f'kw {w:g}':>9}" for w in KEYWORD_WEIGHTS)]
        for cost in COSTS:
            marks = "".join(
                f"{self.scores[(cost, w)]:>8.4f}{'*' if (cost, w) == (self.cost, self.keyword_weight) else ' '}"
                for w in KEYWORD_WEIGHTS
            )
            lines.append(f"{cost:<6g}{marks}")
        return "\n".join(lines)


def out_of_fold(
    rows: Sequence[CategoryRow], labels: tuple[str, ...], *, cost: float, folds: int, seed: int, min_df: int = 2
) -> list[list[float]]:
    """Each row's model scores (in `labels` order) from a model fitted on the other folds."""
    assignment = stratified_folds([row.label for row in rows], folds, seed)
    features = [with_keywords(row.counts, row.keywords) for row in rows]
    scores: list[list[float]] = [[] for _ in rows]
    for fold in range(folds):
        training = [(f, row.label) for f, row, a in zip(features, rows, assignment, strict=True) if a != fold]
        model = fit_counts(training, labels, cost, min_df, seed)
        for index, a in enumerate(assignment):
            if a == fold:
                scores[index] = model.vector_scores(vectorise(features[index], model.idf))
    return scores


def train_category(
    rows: Sequence[CategoryRow], *, folds: int = DEFAULT_FOLDS, seed: int = 13, min_df: int = 2
) -> tuple[CategoryModel, Choice, list[dict[str, float]]]:
    """The category model with cost and keyword weight chosen by `folds`-fold cross-validation over `rows`.

    Returns the model fitted on all rows, the choice with its table, and each row's out-of-fold
    blended probabilities (for reporting cross-validated figures). Deterministic for a given `seed`.
    """
    labels = tuple(sorted({row.label for row in rows}))
    truth = [row.label for row in rows]
    results: dict[tuple[float, float], float] = {}
    calibrated: dict[float, tuple[float, list[list[float]]]] = {}
    for cost in COSTS:
        scores = out_of_fold(rows, labels, cost=cost, folds=folds, seed=seed, min_df=min_df)
        scale = fit_confidence_scale(scores, [labels.index(label) for label in truth])
        calibrated[cost] = (scale, scores)
        for weight in KEYWORD_WEIGHTS:
            predicted = [
                _best(_oof(labels, s, scale, row.keywords, weight)) for s, row in zip(scores, rows, strict=True)
            ]
            results[(cost, weight)] = macro_f1(truth, predicted)
    cost, weight = max(results, key=lambda key: (results[key], -key[1]))  # on a tie, less weight on keywords
    scale, scores = calibrated[cost]
    linear = fit_counts([(with_keywords(r.counts, r.keywords), r.label) for r in rows], labels, cost, min_df, seed)
    model = CategoryModel(replace(linear, confidence_scale=scale), weight)
    oof = [_oof(labels, s, scale, row.keywords, weight) for s, row in zip(scores, rows, strict=True)]
    return model, Choice(cost, weight, results), oof


def _oof(
    labels: tuple[str, ...], scores: Sequence[float], scale: float, keywords: Mapping[str, float], weight: float
) -> dict[str, float]:
    return blend(dict(zip(labels, softmax(scores, scale), strict=True)), keywords, weight)


def _best(probabilities: Mapping[str, float]) -> str:
    return max(probabilities, key=probabilities.__getitem__)
