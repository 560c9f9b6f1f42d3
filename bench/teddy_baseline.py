"""Our learned keyword model against a TF-IDF + LinearSVC baseline on the shared government-message split.

`python bench/teddy_baseline.py [--shared DIR]` trains both on `train.csv` and scores both on
`dev.csv` of `DIR/data/teddy2020c` (default: `$HUIYIN_SHARED`, else the `shared` folder next to
the repository), in one run, and prints them side by side. Skips (exit 0) when the data is absent:
a fresh clone does not have it. Needs scikit-learn (a dev-only dependency) for the baseline.

Both read the same jieba tokens, those the bot's classifier reads (`nlp.weighted.message_tokens`).
"ours, categories" is the model's category alone, comparable with the baseline; "ours, full" is
what `huiyin eval --model` reports: a row the intent rules call chatter counts as the label `none`,
so it also pays for messages the bot would have ignored.

Our training setting (the SVM's cost C) is chosen by `huiyin train --cv`'s stratified
k-fold cross-validation on `train.csv` alone (default 3 folds, 2 processes), never by a dev score;
the fold table and the chosen setting are printed before the dev figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp.evaluation import evaluate  # noqa: E402
from nlp.model import features  # noqa: E402
from nlp.training import cross_validate, macro_f1, read_labelled, stratified_folds, train  # noqa: E402
from nlp.weighted import WeightedClassifier, message_tokens  # noqa: E402
from settings import load_settings  # noqa: E402

SEED = 13  # shuffles the folds; the same for our cross-validation and the baseline's


def accuracy(truth: list[str], predicted: list[str]) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def baseline(train_tokens: list[list[str]], train_labels: list[str], test_tokens: list[list[str]]) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectoriser = TfidfVectorizer(
        analyzer=lambda tokens: tokens, sublinear_tf=True, min_df=2, token_pattern=None, lowercase=False
    )
    features = vectoriser.fit_transform([_with_bigrams(tokens) for tokens in train_tokens])
    model = LinearSVC(C=1.0).fit(features, train_labels)
    return list(model.predict(vectoriser.transform([_with_bigrams(tokens) for tokens in test_tokens])))


def baseline_folds(train_tokens: list[list[str]], train_labels: list[str], folds: int, seed: int) -> list[float]:
    """The baseline's macro-F1 on each held-out fold of the split our cross-validation uses."""
    assignment = stratified_folds(train_labels, folds, seed)
    scores = []
    for held_out in range(folds):
        inside = [index for index, fold in enumerate(assignment) if fold != held_out]
        outside = [index for index, fold in enumerate(assignment) if fold == held_out]
        predicted = baseline([train_tokens[i] for i in inside], [train_labels[i] for i in inside],
                             [train_tokens[i] for i in outside])  # fmt: skip
        scores.append(macro_f1([train_labels[i] for i in outside], predicted))
    return scores


def _with_bigrams(tokens: list[str]) -> list[str]:
    """The same words and word pairs our model reads, with repeats (the vectoriser counts them)."""
    return list(features(tokens).elements())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("HUIYIN_SHARED") or str(REPO.parent / "shared")
    parser.add_argument("--shared", default=default)
    parser.add_argument("--folds", type=int, default=3, help="cross-validation folds on train.csv")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the cross-validation")
    args = parser.parse_args()
    data = Path(args.shared) / "data" / "teddy2020c"
    if not (data / "train.csv").is_file() or not (data / "dev.csv").is_file():
        print(f"skipped: {data} has no train.csv/dev.csv (the shared data is not on this machine)")
        return 0
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("skipped: scikit-learn is not installed (pip install -e '.[dev]')")
        return 0

    train_rows, dev_rows = read_labelled(data / "train.csv"), read_labelled(data / "dev.csv")
    truth = [row.label for row in dev_rows]
    print(f"split: train {len(train_rows)} rows, dev {len(dev_rows)} rows, {len(set(truth))} labels")

    start = time.perf_counter()
    chosen = cross_validate(train_rows, folds=args.folds, jobs=args.jobs, seed=SEED)
    cv_seconds = time.perf_counter() - start
    print(f"{args.folds}-fold stratified cross-validation on train.csv only ({cv_seconds:.0f} s, "
          f"{args.jobs} processes), macro-F1 of the category per held-out fold:")
    print(chosen.table())
    print(f"chosen: C {chosen.best:g}")
    start = time.perf_counter()
    model = train(train_rows, cost=chosen.best)
    ours_train = time.perf_counter() - start
    dev_tokens = [message_tokens(row.text) for row in dev_rows]
    ours = []
    for tokens in dev_tokens:
        scores = model.scores(tokens)
        ours.append(max(scores, key=scores.__getitem__))
    settings = load_settings(REPO / "config.yaml")
    classifier = WeightedClassifier(settings, model)
    full = evaluate(classifier, dev_rows)
    verdicts = [classifier.classify(row.text) for row in dev_rows]
    unsure = [v.category == row.label for v, row in zip(verdicts, dev_rows, strict=True)
              if v.confidence < settings.nlp.min_confidence]  # fmt: skip

    start = time.perf_counter()
    train_tokens = [message_tokens(row.text) for row in train_rows]
    train_labels = [row.label for row in train_rows]
    theirs = baseline(train_tokens, train_labels, dev_tokens)
    theirs_train = time.perf_counter() - start
    theirs_folds = baseline_folds(train_tokens, train_labels, args.folds, SEED)

    print(f"{'':34}{'macro-F1':>9}{'accuracy':>10}{'train s':>9}")
    print(f"{'ours, categories (keyword model)':34}{macro_f1(truth, ours):>9.4f}{accuracy(truth, ours):>10.4f}"
          f"{ours_train:>9.1f}")
    print(f"{'ours, full (huiyin eval --model)':34}{full['macro_f1']:>9.4f}{full['accuracy']:>10.4f}{'':>9}")
    print(f"{'TF-IDF + LinearSVC (scikit-learn)':34}{macro_f1(truth, theirs):>9.4f}{accuracy(truth, theirs):>10.4f}"
          f"{theirs_train:>9.1f}")
    ours_folds = chosen.scores[chosen.best]
    print(f"paired, on the same {args.folds} folds of train.csv: ours (C {chosen.best:g}) "
          + " ".join(f"{score:.4f}" for score in ours_folds) + f" mean {sum(ours_folds) / len(ours_folds):.4f}"
          + "; TF-IDF + LinearSVC " + " ".join(f"{score:.4f}" for score in theirs_folds)
          + f" mean {sum(theirs_folds) / len(theirs_folds):.4f}")
    print(f"model: {len(model.weights)} weighted words; rows the intent rules would ignore (predicted none): "
          f"{sum(row.get('none', 0) for row in full['confusion'].values())}")
    print(f"confidence scale {model.confidence_scale:g}: {len(unsure)} of {len(dev_rows)} dev rows below "
          f"nlp.min_confidence {settings.nlp.min_confidence} (the bot would file them under 其他), "
          f"{sum(unsure)} of those right; right among the others: "
          f"{sum(v.category == row.label for v, row in zip(verdicts, dev_rows, strict=True)) - sum(unsure)}"
          f" of {len(dev_rows) - len(unsure)}")
    print("per label, ours (full): " + ", ".join(
        f"{label} F1 {figures['f1']:.3f}" for label, figures in full["per_label"].items()
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
