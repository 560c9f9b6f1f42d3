"""Train the shipped model: `python -m nlp.train_default [--out nlp/intent_model.json]`.

The intent model (`nlp.intent`) and, inside the same file, the category model (`nlp.category`), from
data the repository ships (see `nlp/data/README.md`): the group-chat files `nlp/data/*.csv` without
their `_holdout` parts, `tests/data/groupchat.csv` and `tests/data/groupchat_more.csv` (never
`tests/data/groupchat_holdout.csv`), and the chit-chat lines of `nlp/data/chitchat_sample.txt` as
chatter. The category model learns from the group-chat rows that are tickets. Deterministic: the
folds and the SVM's visiting order are seeded.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from nlp.category import CategoryRow, Choice, train_category
from nlp.intent import DEFAULT_COST, DEFAULT_FOLDS, Example, IntentModel, example, train_intent
from nlp.lexicon import Lexicon
from nlp.training import read_labelled
from settings import load_settings

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
DATA = PACKAGE / "data"
OUT = PACKAGE / "intent_model.json"
CHITCHAT = DATA / "chitchat_sample.txt"
GROUPCHAT_EXTRA = (REPO / "tests" / "data" / "groupchat.csv", REPO / "tests" / "data" / "groupchat_more.csv")
HOLDOUT_SUFFIX = "_holdout"
SEED = 13
ATTRIBUTION = (
    "Chatter weights derive in part from the prompts of Tencent AI Lab's 'A Manually Annotated Chinese Corpus "
    "for Non-task-oriented Dialogue Systems' (Li, Song, Zhang, Shi 2018), CC BY 3.0; see nlp/data/README.md."
)


def groupchat_files() -> list[Path]:
    """The labelled group-chat files the default model learns from (holdouts excluded)."""
    own = sorted(path for path in DATA.glob("*.csv") if not path.stem.endswith(HOLDOUT_SUFFIX))
    return [*own, *GROUPCHAT_EXTRA]


def is_chitchat_holdout(line: str) -> bool:
    """The fixed fifth of the chit-chat corpus kept for measurement: never trained or tuned on."""
    return int(hashlib.md5(line.encode("utf-8")).hexdigest(), 16) % 5 == 0


def read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def training_examples(lexicon: Lexicon, files: Sequence[Path], chitchat: Sequence[str]) -> list[Example]:
    """Group-chat rows with an intent, then chit-chat lines as chatter."""
    rows = [row for path in files for row in read_labelled(path) if row.intent]
    found = [example(row.text, row.intent or "", "groupchat", lexicon, row.label) for row in rows]
    found.extend(example(line, "chatter", "chitchat", lexicon) for line in chitchat if not is_chitchat_holdout(line))
    return found


def is_ticket_row(row: Example) -> bool:
    """A group-chat row the category model learns from: a ticket with a category."""
    return row.source == "groupchat" and row.intent != "chatter" and row.label != "none"


@dataclass(frozen=True)
class Trained:
    """The default model, its training rows, their out-of-fold intent scores and (for tickets) category
    probabilities, and what cross-validation chose for the category model."""

    model: IntentModel
    examples: list[Example]
    scores: list[list[float]]
    categories: list[dict[str, float] | None]
    choice: Choice


def train_default(lexicon: Lexicon, *, folds: int = DEFAULT_FOLDS, cost: float = DEFAULT_COST) -> Trained:
    """The default model (intent and category) trained on the shipped data, with its cross-validated parts."""
    examples = training_examples(lexicon, groupchat_files(), read_lines(CHITCHAT))
    model, scores = train_intent(examples, cost=cost, folds=folds, seed=SEED, notes=(ATTRIBUTION,))
    tickets = [e for e in examples if is_ticket_row(e)]
    category, choice, oof = train_category(
        [CategoryRow(e.counts, e.keywords, e.label) for e in tickets], folds=folds, seed=SEED
    )
    by_row = iter(oof)
    categories = [next(by_row) if is_ticket_row(e) else None for e in examples]
    return Trained(replace(model, category=category), examples, scores, categories, choice)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="whose category keywords to read")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS)
    args = parser.parse_args(argv)
    trained = train_default(Lexicon(load_settings(args.config)), folds=args.folds)
    model = trained.model
    model.save(args.out)
    print(
        f"{len(trained.examples)} rows; urgent threshold {model.urgent_threshold}, triage band "
        f"{model.triage_low}–{model.triage_high}, scale {model.linear.confidence_scale}\n"
        f"category model: {args.folds}-fold macro-F1 over the ticket rows (* chosen)\n{trained.choice.table()}\n"
        f"wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
