"""`huiyin train`: learn keyword weights from a labelled ledger (CSV columns `text,label`).

The estimate is NBSVM (Wang & Manning 2012): for each category, a linear SVM (L2-regularised
squared hinge, one category against the rest) over the sublinear TF-IDF words of `nlp.model`, each
word first scaled by its naive-Bayes log-count ratio for that category (how much more often the
word appears in that category's rows than in the others'). The SVM is trained by dual coordinate
descent (Hsieh et al. 2008, the method of liblinear) in pure Python, so a community needs no
numeric library. Scaling and SVM weight multiply into one number per word and category, so the
result is still a readable keyword list. Rows whose label is `none` (chatter) carry no category
and are skipped.

`cross_validate` chooses the SVM's cost of a margin violation (C) by stratified k-fold
cross-validation on the training file alone; each fold learns its own IDF and ratios from its
training part.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from nlp.model import KeywordModel, document_frequencies, features, vectorise
from nlp.weighted import message_tokens

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


DEFAULT_COST = 1.0
DEFAULT_COSTS = (0.3, 1.0, 3.0)


def train(rows: Iterable[LabelledRow], *, cost: float = DEFAULT_COST, min_df: int = 2, seed: int = 13) -> KeywordModel:
    """Learn a `KeywordModel` from labelled rows; `cost` is the SVM's C. Deterministic for a given `seed`."""
    _check_costs((cost,))
    labelled = _featurised(rows)
    if not labelled:
        raise ValueError("no labelled rows to learn from")
    labels = tuple(sorted({label for _, label in labelled}))
    scale = _calibrated_scale(labelled, labels, cost, min_df, seed)
    return replace(fit_counts(labelled, labels, cost, min_df, seed), confidence_scale=scale)


# Share of the rows held out, by a stratified split, to calibrate the confidence: one fold of three.
CALIBRATION_FOLDS = 3


def _calibrated_scale(
    labelled: Sequence[Featurised], labels: tuple[str, ...], cost: float, min_df: int, seed: int
) -> float:
    """The confidence scale fitted on rows a model learnt from the other rows has not seen."""
    if len(labels) < 2 or len(labelled) < CALIBRATION_FOLDS:
        return 1.0
    folds = stratified_folds([label for _, label in labelled], CALIBRATION_FOLDS, seed)
    training = [example for example, fold in zip(labelled, folds, strict=True) if fold]
    learnt = fit_counts(training, labels, cost, min_df, seed)
    held_out = [example for example, fold in zip(labelled, folds, strict=True) if not fold]
    scores = [learnt.vector_scores(vectorise(counts, learnt.idf)) for counts, _ in held_out]
    return fit_confidence_scale(scores, [labels.index(label) for _, label in held_out])


def fit_confidence_scale(scores: Sequence[Sequence[float]], truths: Sequence[int]) -> float:
    """The s for which softmax(s × scores) gives the true labels the highest likelihood (Platt-style scaling).

    SVM scores are margins, not probabilities: unscaled, their softmax calls most right answers
    unsure. The negative log-likelihood is convex in s, so a ternary search on log s finds it.
    """
    def loss(scale: float) -> float:
        total = 0.0
        for row, truth in zip(scores, truths, strict=True):
            top = max(row)
            total += math.log(sum(math.exp(scale * (score - top)) for score in row)) - scale * (row[truth] - top)
        return total

    low, high = math.log(0.1), math.log(100.0)
    for _ in range(60):
        left, right = low + (high - low) / 3, high - (high - low) / 3
        if loss(math.exp(left)) <= loss(math.exp(right)):
            high = right
        else:
            low = left
    return round(math.exp((low + high) / 2), 4)


@dataclass(frozen=True)
class CrossValidation:
    """Each cost's macro-F1 per held-out fold, and the cost with the best mean (first on a tie)."""

    folds: int
    scores: dict[float, tuple[float, ...]]
    best: float

    def table(self) -> str:
        """One line per cost: its fold scores and their mean; the chosen one is starred."""
        header = f"{'cost':10}" + "".join(f"{f'fold {i + 1}':>9}" for i in range(self.folds)) + f"{'mean':>9}"
        lines = [header]
        for cost, scores in self.scores.items():
            mark = "  *" if cost == self.best else ""
            folds = "".join(f"{score:>9.4f}" for score in scores)
            lines.append(f"{f'C {cost:g}':10}{folds}{_mean(scores):>9.4f}{mark}")
        return "\n".join(lines)


def cross_validate(
    rows: Iterable[LabelledRow], *, folds: int = 3, costs: Sequence[float] = DEFAULT_COSTS, min_df: int = 2,
    seed: int = 13, jobs: int = 1,
) -> CrossValidation:
    """Stratified `folds`-fold cross-validation of every cost on these rows only.

    A cost's score is the macro-F1 of the model's category over a held-out fold's labelled rows,
    averaged over folds. `jobs` > 1 runs the (fold, cost) pairs in that many processes.
    """
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    _check_costs(costs)
    labelled = _featurised(rows)
    if not labelled:
        raise ValueError("no labelled rows to learn from")
    labels = tuple(sorted({label for _, label in labelled}))
    assignment = stratified_folds([label for _, label in labelled], folds, seed)
    grid = tuple(dict.fromkeys(costs))
    tasks = [
        ([example for example, fold in zip(labelled, assignment, strict=True) if fold != held_out],
         [example for example, fold in zip(labelled, assignment, strict=True) if fold == held_out],
         labels, cost, min_df, seed)
        for held_out in range(folds) for cost in grid
    ]  # fmt: skip
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_score_fold, *zip(*tasks, strict=True)))
    else:
        results = [_score_fold(*task) for task in tasks]
    per_cost: dict[float, list[float]] = defaultdict(list)
    for (_, _, _, cost, _, _), score in zip(tasks, results, strict=True):
        per_cost[cost].append(score)
    scores = {cost: tuple(per_cost[cost]) for cost in grid}
    best = max(scores, key=lambda cost: _mean(scores[cost]))  # max keeps the first of equals
    return CrossValidation(folds=folds, scores=scores, best=best)


def _check_costs(costs: Iterable[float]) -> None:
    if not all(cost > 0 for cost in costs):
        raise ValueError("the SVM's cost C must be a positive number (e.g. --cost 1)")


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[int]:
    """A fold number for each row: each label's rows shuffled (seeded) and dealt round-robin."""
    rng = random.Random(seed)
    assignment = [0] * len(labels)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    dealt = 0
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        for index in indices:
            assignment[index] = dealt % folds
            dealt += 1
    return assignment


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """F1 averaged over the labels present in `truth`."""
    present = sorted(set(truth))
    scores = []
    for label in present:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return _mean(scores)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


Featurised = tuple[Counter[str], str]


def _featurised(rows: Iterable[LabelledRow]) -> list[Featurised]:
    return [(Counter(features(message_tokens(row.text))), row.label) for row in rows if row.label != NO_LABEL]


def _score_fold(
    training: list[Featurised], held_out: list[Featurised], labels: tuple[str, ...], cost: float, min_df: int,
    seed: int,
) -> float:
    """Macro-F1 on the held-out part of a model learnt from the training part."""
    model = fit_counts(training, labels, cost, min_df, seed)
    predicted = [_best_label(model, vectorise(counts, model.idf)) for counts, _ in held_out]
    return macro_f1([label for _, label in held_out], predicted)


def _best_label(model: KeywordModel, vector: dict[str, float]) -> str:
    """What `model.scores` picks, from a message's vector (its counts are already at hand)."""
    totals = model.vector_scores(vector)
    return model.labels[max(range(len(totals)), key=totals.__getitem__)]


Sparse = tuple[list[int], list[float]]  # feature numbers and their values


def fit_counts(
    labelled: Sequence[Featurised], labels: tuple[str, ...], cost: float, min_df: int, seed: int
) -> KeywordModel:
    """NBSVM over the rows: per label, log-count ratios, then the SVM on the ratio-scaled vectors.

    The rows are feature counts, so any featurisation works: `nlp.intent` passes words, character
    n-grams and cue features.
    """
    frequencies, total = document_frequencies(counts for counts, _ in labelled)
    idf = {
        feature: math.log((1 + total) / (1 + count)) + 1.0 for feature, count in frequencies.items() if count >= min_df
    }
    number = {feature: index for index, feature in enumerate(idf)}
    vectors: list[Sparse] = []
    for counts, _ in labelled:
        vector = vectorise(counts, idf)
        vectors.append(([number[feature] for feature in vector], list(vector.values())))
    columns: list[list[float]] = []
    bias = []
    for label in labels:
        signs = [1.0 if truth == label else -1.0 for _, truth in labelled]
        ratios = log_count_ratios(vectors, signs, len(number))
        scaled = [(indices, [value * ratios[j] for j, value in zip(indices, values, strict=True)])
                  for indices, values in vectors]  # fmt: skip
        weights, intercept = squared_hinge_svm(scaled, signs, len(number), cost, random.Random(seed))
        columns.append([weight * ratio for weight, ratio in zip(weights, ratios, strict=True)])
        bias.append(intercept)
    kept = {
        feature: row for feature, row in zip(idf, zip(*columns, strict=True), strict=True)
        if any(abs(weight) >= 1e-4 for weight in row)
    }  # fmt: skip
    return KeywordModel(labels=labels, bias=tuple(bias), idf={f: idf[f] for f in kept}, weights=kept)


def log_count_ratios(vectors: Sequence[Sparse], signs: Sequence[float], dimension: int) -> list[float]:
    """log(p/|p| ÷ q/|q|), p and q counting the rows of the label and of the others that hold each word, plus 1."""
    inside, outside = [1.0] * dimension, [1.0] * dimension
    for (indices, _), sign in zip(vectors, signs, strict=True):
        counts = inside if sign > 0 else outside
        for index in indices:
            counts[index] += 1.0
    inside_total, outside_total = sum(inside), sum(outside)
    return [math.log((p / inside_total) / (q / outside_total)) for p, q in zip(inside, outside, strict=True)]


def squared_hinge_svm(
    vectors: Sequence[Sparse], signs: Sequence[float], dimension: int, cost: float, rng: random.Random,
    tolerance: float = 0.1, max_passes: int = 1000,
) -> tuple[list[float], float]:
    """L2-regularised squared-hinge SVM by dual coordinate descent; a constant 1 feature plays the bias.

    Stops when the projected gradients' spread falls below `tolerance` (liblinear's criterion).
    """
    weights, bias = [0.0] * dimension, 0.0
    diagonal = 0.5 / cost
    squared_norms = [sum(value * value for value in values) + 1.0 + diagonal for _, values in vectors]
    alpha = [0.0] * len(vectors)
    order = list(range(len(vectors)))
    for _ in range(max_passes):
        rng.shuffle(order)
        highest, lowest = -math.inf, math.inf
        for i in order:
            indices, values = vectors[i]
            sign = signs[i]
            margin = sum([weights[j] * value for j, value in zip(indices, values, strict=True)]) + bias
            gradient = sign * margin - 1.0 + diagonal * alpha[i]
            projected = gradient if alpha[i] > 0.0 else min(gradient, 0.0)
            highest, lowest = max(highest, projected), min(lowest, projected)
            if projected != 0.0:
                previous = alpha[i]
                alpha[i] = max(previous - gradient / squared_norms[i], 0.0)
                step = (alpha[i] - previous) * sign
                for j, value in zip(indices, values, strict=True):
                    weights[j] += step * value
                bias += step
        if highest - lowest < tolerance:
            break
    return weights, bias
