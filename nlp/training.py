"""`huiyin train`: learn keyword weights from a labelled ledger (CSV columns `text,label`).

The estimate is a multi-class passive-aggressive linear classifier (PA-I, Crammer & al. 2006)
with averaged weights, over the sublinear TF-IDF words of `nlp.model`. It is the hinge-loss
family of a linear SVM, trained online in pure Python, so a community needs no numeric library
and every weight stays a readable number on a word. Rows whose label is `none` (chatter) carry
no category and are skipped.

`cross_validate` chooses the epochs and the aggressiveness (PA-I's C) by stratified k-fold
cross-validation on the training file alone: each fold learns its own IDF from its training part,
and one run of the most epochs gives every smaller epoch count of the grid on the way (the same
seed shuffles the same way, so a snapshot after 12 epochs is exactly the 12-epoch model).
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
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
    labelled = _featurised(rows)
    if not labelled:
        raise ValueError("no labelled rows to learn from")
    labels = tuple(sorted({label for _, label in labelled}))
    return _fit(labelled, labels, (epochs,), aggressiveness, min_df, seed)[epochs]


@dataclass(frozen=True)
class Setting:
    epochs: int
    aggressiveness: float

    def __str__(self) -> str:
        return f"epochs {self.epochs}, C {self.aggressiveness:g}"


@dataclass(frozen=True)
class CrossValidation:
    """Each setting's macro-F1 per held-out fold, and the setting with the best mean (first on a tie)."""

    folds: int
    scores: dict[Setting, tuple[float, ...]]
    best: Setting

    def table(self) -> str:
        """One line per setting: its fold scores and their mean; the chosen one is starred."""
        header = f"{'setting':22}" + "".join(f"{f'fold {i + 1}':>9}" for i in range(self.folds)) + f"{'mean':>9}"
        lines = [header]
        for setting, scores in self.scores.items():
            mark = "  *" if setting == self.best else ""
            lines.append(
                f"{setting!s:22}" + "".join(f"{score:>9.4f}" for score in scores) + f"{_mean(scores):>9.4f}{mark}"
            )
        return "\n".join(lines)


DEFAULT_EPOCHS = (12, 20, 30)
DEFAULT_AGGRESSIVENESS = (0.1, 0.5)


def cross_validate(
    rows: Iterable[LabelledRow], *, folds: int = 3, epochs: Sequence[int] = DEFAULT_EPOCHS,
    aggressiveness: Sequence[float] = DEFAULT_AGGRESSIVENESS, min_df: int = 2, seed: int = 13, jobs: int = 1,
) -> CrossValidation:
    """Stratified `folds`-fold cross-validation of every (epochs, aggressiveness) on these rows only.

    A setting's score is the macro-F1 of the model's category over a held-out fold's labelled rows,
    averaged over folds. `jobs` > 1 runs (fold, aggressiveness) pairs in that many processes.
    """
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    labelled = _featurised(rows)
    if not labelled:
        raise ValueError("no labelled rows to learn from")
    labels = tuple(sorted({label for _, label in labelled}))
    assignment = stratified_folds([label for _, label in labelled], folds, seed)
    epoch_grid, c_grid = tuple(sorted(set(epochs))), tuple(dict.fromkeys(aggressiveness))
    tasks = [
        ([example for example, fold in zip(labelled, assignment, strict=True) if fold != held_out],
         [example for example, fold in zip(labelled, assignment, strict=True) if fold == held_out],
         labels, epoch_grid, c, min_df, seed)
        for held_out in range(folds) for c in c_grid
    ]  # fmt: skip
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_score_fold, *zip(*tasks, strict=True)))
    else:
        results = [_score_fold(*task) for task in tasks]
    per_setting: dict[Setting, list[float]] = defaultdict(list)
    for (_, _, _, _, c, _, _), result in zip(tasks, results, strict=True):
        for count, score in result.items():
            per_setting[Setting(count, c)].append(score)
    ordered = {Setting(e, c): tuple(per_setting[Setting(e, c)]) for e in epoch_grid for c in c_grid}
    best = max(ordered, key=lambda setting: _mean(ordered[setting]))  # max keeps the first of equals
    return CrossValidation(folds=folds, scores=ordered, best=best)


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
    training: list[Featurised], held_out: list[Featurised], labels: tuple[str, ...], epochs: tuple[int, ...],
    aggressiveness: float, min_df: int, seed: int,
) -> dict[int, float]:
    """Macro-F1 on the held-out part of a model learnt from the training part, for each epoch count."""
    truth = [label for _, label in held_out]
    scored = {}
    for count, model in _fit(training, labels, epochs, aggressiveness, min_df, seed).items():
        predicted = []
        for counts, _ in held_out:
            predicted.append(_best_label(model, vectorise(counts, model.idf)))
        scored[count] = macro_f1(truth, predicted)
    return scored


def _best_label(model: KeywordModel, vector: dict[str, float]) -> str:
    """What `model.scores` picks, from a message's vector (its counts are already at hand)."""
    totals = list(model.bias)
    for feature, value in vector.items():
        for index, weight in enumerate(model.weights[feature]):
            totals[index] += weight * value
    return model.labels[max(range(len(totals)), key=totals.__getitem__)]


def _fit(
    labelled: Sequence[Featurised], labels: tuple[str, ...], epochs: Sequence[int], aggressiveness: float,
    min_df: int, seed: int,
) -> dict[int, KeywordModel]:
    """The model after each of `epochs` passes of one seeded run."""
    frequencies, total = document_frequencies(counts for counts, _ in labelled)
    idf = {
        feature: math.log((1 + total) / (1 + count)) + 1.0 for feature, count in frequencies.items() if count >= min_df
    }
    examples = [(vectorise(counts, idf), labels.index(label)) for counts, label in labelled]
    snapshots = _passive_aggressive(examples, len(labels), epochs, aggressiveness, random.Random(seed))
    models = {}
    for count, (weights, bias) in snapshots.items():
        kept = {feature: row for feature, row in weights.items() if any(abs(w) >= 1e-4 for w in row)}
        models[count] = KeywordModel(labels=labels, bias=tuple(bias), idf={f: idf[f] for f in kept}, weights=kept)
    return models


def _passive_aggressive(
    examples: Sequence[tuple[dict[str, float], int]], classes: int, epochs: Sequence[int], aggressiveness: float,
    rng: random.Random,
) -> dict[int, tuple[dict[str, tuple[float, ...]], list[float]]]:
    """Averaged multi-class PA-I: the averaged weights after each of `epochs` passes. A constant 1 plays the bias."""
    weights: dict[str, list[float]] = {}
    accumulated: dict[str, list[float]] = {}  # sum of step * update, for the averaging trick
    bias, bias_accumulated = [0.0] * classes, [0.0] * classes
    order = list(range(len(examples)))
    step = 1
    snapshots = {}
    for epoch in range(1, max(epochs) + 1):
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
        if epoch in epochs:
            averaged = {
                feature: tuple(w - s / step for w, s in zip(row, accumulated[feature], strict=True))
                for feature, row in weights.items()
            }
            snapshots[epoch] = averaged, [b - s / step for b, s in zip(bias, bias_accumulated, strict=True)]
    return snapshots
