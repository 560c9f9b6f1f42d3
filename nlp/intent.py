"""The learned intent model: report, inquiry, urgent or chatter, from words, character n-grams and cues.

A message becomes one bag of features, TF-IDF weighted like `nlp.model`:

- jieba words and neighbouring word pairs (`nlp.model.features` over the classifier's tokens);
- character 1- and 2-grams of each run of letters and digits (digits read as 0), written `c:困了`, so
  dialect and unseen spellings (`莫得水`, `咋`, `困了个人`) still share features with known ones (3-grams
  took a tenth of the classifier's time and added nothing in 5-fold cross-validation over the training files);
- emoji and other symbols (`c:🔥`);
- today's cue lists (`nlp.cues`) and the danger detector as features the model weighs, not rules:
  `cue:problem`, `cue:inquiry`, `cue:ack`, `cue:notice`, `cue:question`, `danger:fire`,
  `danger:defused`, ..., plus `lex:strong` / `lex:some` for category keyword weight, the length
  bucket and a leading @mention.

The estimate is the NBSVM of `nlp.training` (one intent against the rest), so the model is still a
readable list of weighted features per intent. Its scores become probabilities by softmax(scale ×
scores), the scale fitted on out-of-fold scores (`fit_confidence_scale`). Two decisions sit on the
probabilities, both tuned on out-of-fold predictions of the training rows:

- the triage band: P(ticket) = 1 − P(chatter) below `low` is chatter, at or above `high` a ticket,
  in between a ticket that a cadre confirms privately first (`needs_triage`);
- the urgent threshold: the model calls a message urgent when P(urgent) reaches it (the danger
  detector can call it urgent too, see `nlp.learned`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, _count_elements  # type: ignore[attr-defined]
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from itertools import compress, filterfalse, pairwise
from operator import add
from pathlib import Path

from nlp import cues, danger
from nlp.category import CategoryModel, keyword_features
from nlp.classification import Intent
from nlp.lexicon import Lexicon
from nlp.model import KeywordModel, Scorer, Totals, is_word, softmax, vectorise
from nlp.segment import raw_tokens
from nlp.training import fit_confidence_scale, fit_counts, stratified_folds
from nlp.weighted import MIN_WEIGHT_WITHOUT_CUE, message_core

FORMAT = "huiyin-intent/1"
LABELS = tuple(sorted(intent.value for intent in Intent))
TICKET_LABELS = tuple(label for label in LABELS if label != Intent.CHATTER.value)
NGRAM = 2
# Character n-gram features are written `c:<gram>`.
_PREFIX = "c:"
_RUN = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
_LONG_NUMBER = re.compile(r"\d{7,}")
_SYMBOL = re.compile(r"[^\w\s]")
# Length buckets (characters of the read text): a sticker, a reply, a sentence, a letter.
_LENGTH_LIMITS = (4, 12, 40)
_LENGTH_NAMES = ("len:tiny", "len:short", "len:sentence", "len:long")
# The features `_cue_features` sets when its flags (in this order) hold.
_FLAGS = (
    "cue:problem", "cue:inquiry", "cue:ack", "cue:notice", "cue:question", "danger:any", "danger:defused", "mention",
)  # fmt: skip
# The labels as strings (an enum's `.value` is a property, and these are read for every message).
_CHATTER, _INQUIRY, _REPORT, _URGENT = (i.value for i in (Intent.CHATTER, Intent.INQUIRY, Intent.REPORT, Intent.URGENT))


@dataclass(frozen=True)
class Reading:
    """A message as the models read it: jieba's tokens (`raw` with spaces), live dangers, features, and the
    community's keyword weight per category (empty without a lexicon)."""

    raw: tuple[str, ...]
    tokens: tuple[str, ...]
    dangers: tuple[danger.Danger, ...]
    features: Counter[str]
    keywords: dict[str, float]


def read(text: str, lexicon: Lexicon | None = None) -> Reading:
    """The features of one message (`lexicon`: the community's category keywords, for `lex:` features)."""
    core = message_core(text)
    raw = tuple(raw_tokens(core))
    tokens = tuple(filterfalse(str.isspace, raw))
    found = danger.read(core)
    keywords = keyword_weights(lexicon, tokens) if lexicon is not None else {}
    names = _word_features(tokens)
    names += _char_grams(core)
    names += _cue_features(text, core, raw, found, keywords)
    features: Counter[str] = Counter()
    _count_elements(features, names)  # what `Counter(names)` does, without its check for a mapping
    return Reading(raw, tokens, found.live, features, keywords)


def keyword_weights(lexicon: Lexicon, tokens: Sequence[str]) -> dict[str, float]:
    """The summed weight of the community's keywords per category among the tokens."""
    weights: dict[str, float] = {}
    for hit in lexicon.hits(tokens):
        weights[hit.category] = weights.get(hit.category, 0.0) + hit.weight
    return weights


@lru_cache(maxsize=65536)
def _is_word(token: str) -> bool:
    return is_word(token)


def _word_features(tokens: Sequence[str]) -> list[str]:
    """What `nlp.model.features` counts (words and neighbouring pairs), as a list."""
    words = list(filter(_is_word, tokens))
    return [*words, *map(" ".join, pairwise(words))]


def char_ngrams(core: str, n: int = NGRAM) -> Counter[str]:
    """Character 1..n-grams of each run of letters and digits, and each symbol (emoji) alone.

    Digits count as `0`, and a number of seven digits or more (a phone or ID number) as one `0`: a phone
    number left in a report must not weigh like eleven characters of an advert."""
    return Counter(_char_grams(core, n))


def _char_grams(core: str, n: int = NGRAM) -> list[str]:
    """`char_ngrams` as a list, each run's 1-grams first, then its 2-grams, ...: each size's grams are the previous
    size's plus the character after them, one string concatenation each in C (`map(add, ...)`)."""
    names: list[str] = []
    for run in _RUN.findall(_DIGIT.sub("0", _LONG_NUMBER.sub("0", core))):
        grams = list(map(_PREFIX.__add__, run))
        names += grams
        for size in range(2, n + 1):
            grams = list(map(add, grams, run[size - 1 :]))
            names += grams
    names += [_PREFIX + ch for ch in _SYMBOL.findall(core) if unicodedata.category(ch) == "So"]
    return names


def _cue_features(
    text: str, core: str, raw: Sequence[str], found: danger.Reading, keywords: dict[str, float]
) -> list[str]:
    flags = (
        *cues.flags(core, raw),
        found.live,
        found.defused,
        unicodedata.normalize("NFKC", text).lstrip().startswith("@"),
    )
    names = list(compress(_FLAGS, flags))
    names += [f"danger:{hit.concept}" for hit in found.live]
    names.append(_LENGTH_NAMES[bisect_left(_LENGTH_LIMITS, len(core))])
    strongest = max(keywords.values(), default=0.0)
    if strongest >= MIN_WEIGHT_WITHOUT_CUE:
        names.append("lex:strong")
    elif strongest > 0:
        names.append("lex:some")
    return names


@dataclass(frozen=True)
class Decision:
    """The intent model's verdict on one message."""

    intent: Intent
    probabilities: dict[str, float]
    needs_triage: bool
    urgent: bool

    @property
    def ticket_probability(self) -> float:
        return 1.0 - self.probabilities[Intent.CHATTER.value]


@dataclass(frozen=True)
class IntentModel:
    """A linear model over intent features, with its calibrated scale, triage band and urgent threshold."""

    linear: KeywordModel
    triage_low: float
    triage_high: float
    urgent_threshold: float
    notes: tuple[str, ...] = ()
    # The ticket's category (`nlp.category`); without it, the community's keywords alone decide.
    category: CategoryModel | None = None

    @cached_property
    def _scorer(self) -> Scorer:
        """The intent model's and the category model's weights, one row per feature (built on first use)."""
        return Scorer(self.linear) if self.category is None else Scorer(self.linear, self.category.linear)

    def lookup(self, counts: Mapping[str, int]) -> Totals:
        """A message's features summed in the table of both models: `decide` and `category_probabilities` read them."""
        return self._scorer.totals(counts)

    def scores(self, counts: Mapping[str, int], totals: Totals | None = None) -> list[float]:
        """Each label's score, as `KeywordModel.vector_scores(vectorise(counts, idf))` gives it."""
        return self._scorer.scores(self.lookup(counts) if totals is None else totals)

    def probabilities(self, counts: Mapping[str, int], totals: Totals | None = None) -> dict[str, float]:
        scores = self.scores(counts, totals)
        return dict(zip(self.linear.labels, softmax(scores, self.linear.confidence_scale), strict=True))

    def decide(
        self, counts: Mapping[str, int], *, danger_found: bool = False, totals: Totals | None = None
    ) -> Decision:
        """Intent, triage and urgency from the features (`totals`: their `lookup`, when the caller has it);
        `danger_found`: the detector saw a live danger."""
        probabilities = self.probabilities(counts, totals)
        urgent = danger_found or probabilities[_URGENT] >= self.urgent_threshold
        intent, triage = decide(probabilities, urgent, self.triage_low, self.triage_high)
        return Decision(intent, probabilities, triage, urgent)

    def category_probabilities(self, totals: Totals, keywords: Mapping[str, float]) -> dict[str, float]:
        """`CategoryModel.probabilities` from the `lookup` of a message's features (the model must have a category
        part): only the keyword features are added, last, as in `with_keywords`."""
        assert self.category is not None
        totals = self._scorer.extended(totals, keyword_features(keywords))
        return self.category.blended(self._scorer.scores(totals, 1), keywords)

    def contributions(self, counts: Counter[str], label: str) -> list[tuple[str, float]]:
        """The features that pushed `label`'s score, strongest (in either direction) first."""
        index = self.linear.labels.index(label)
        vector = vectorise(counts, self.linear.idf)
        pushed = [(feature, self.linear.weights[feature][index] * value) for feature, value in vector.items()]
        return sorted(((f, round(w, 4)) for f, w in pushed if w), key=lambda item: -abs(item[1]))

    def to_json(self) -> dict:
        data = {
            "format": FORMAT,
            "notes": list(self.notes),
            "triage": {"low": self.triage_low, "high": self.triage_high},
            "urgent_threshold": self.urgent_threshold,
            "linear": self.linear.to_json(),
        }
        if self.category is not None:
            data["category"] = self.category.to_json()
        return data

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")

    @classmethod
    def from_json(cls, data: dict) -> IntentModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a Huiyin intent model (expected format {FORMAT!r})")
        linear = KeywordModel.from_json(data["linear"])
        if set(linear.labels) != set(LABELS):
            raise ValueError(f"an intent model must score the intents {LABELS}, found {linear.labels}")
        return cls(
            linear=linear,
            triage_low=float(data["triage"]["low"]),
            triage_high=float(data["triage"]["high"]),
            urgent_threshold=float(data["urgent_threshold"]),
            notes=tuple(data.get("notes", ())),
            category=CategoryModel.from_json(data["category"]) if "category" in data else None,
        )

    @classmethod
    def load(cls, path: Path | str) -> IntentModel:
        with open(path, encoding="utf-8") as file:
            return cls.from_json(json.load(file))


def decide(probabilities: dict[str, float], urgent: bool, low: float, high: float) -> tuple[Intent, bool]:
    """The intent and whether a cadre confirms it first: urgent always opens; otherwise the band on P(ticket)."""
    if urgent:
        return Intent.URGENT, False
    ticket = 1.0 - probabilities[_CHATTER]
    if ticket < low:
        return Intent.CHATTER, False
    best = Intent.REPORT if probabilities[_REPORT] >= probabilities[_INQUIRY] else Intent.INQUIRY
    return best, ticket < high


# --- training ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A training row: features, intent, where it comes from (`groupchat`, `chitchat`), the detector's say,
    the keyword weight per category and the true category (`none` for chatter)."""

    text: str
    counts: Counter[str]
    intent: str
    source: str
    danger_found: bool
    keywords: dict[str, float]
    label: str = "none"


def example(text: str, intent: str, source: str, lexicon: Lexicon | None = None, label: str = "none") -> Example:
    reading = read(text, lexicon)
    return Example(text, reading.features, intent, source, bool(reading.dangers), reading.keywords, label)


@dataclass(frozen=True)
class Limits:
    """What the tuned decisions must keep to on out-of-fold predictions (with margin below the targets)."""

    triage_groupchat: float = 0.08
    triage_chitchat: float = 0.02
    # Share of non-urgent group-chat rows the model alone may call urgent.
    false_urgent: float = 0.03


DEFAULT_COST = 1.0
DEFAULT_FOLDS = 5
_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


def out_of_fold(examples: Sequence[Example], *, folds: int, cost: float, min_df: int, seed: int) -> list[list[float]]:
    """Each row's scores (in `LABELS` order) from a model fitted on the other folds."""
    assignment = stratified_folds([f"{e.source}/{e.intent}" for e in examples], folds, seed)
    scores: list[list[float]] = [[] for _ in examples]
    for fold in range(folds):
        training = [(e.counts, e.intent) for e, f in zip(examples, assignment, strict=True) if f != fold]
        model = fit_counts(training, LABELS, cost, min_df, seed)
        for index, (e, f) in enumerate(zip(examples, assignment, strict=True)):
            if f == fold:
                scores[index] = model.vector_scores(vectorise(e.counts, model.idf))
    return scores


def tune(
    examples: Sequence[Example], probabilities: Sequence[dict[str, float]], limits: Limits = Limits()
) -> tuple[float, float, float]:
    """The urgent threshold and the triage band (low, high) from out-of-fold probabilities.

    Urgent: the lowest threshold whose model-only false alarms stay within `limits.false_urgent`
    (recall first). Band: of the bands within the triage limits, the one with the fewest errors
    counted as missed tickets + false tickets in group chat + 2 × tickets on chit-chat (every rate
    a share of its own rows), then the narrowest.
    """
    calm = [p for e, p in zip(examples, probabilities, strict=True)
            if e.source == "groupchat" and e.intent != Intent.URGENT.value]  # fmt: skip
    urgent_threshold = next(
        (t for t in _GRID if _share(calm, lambda p, t=t: p[Intent.URGENT.value] >= t) <= limits.false_urgent), 0.95
    )
    rows = [(e, p, e.danger_found or p[Intent.URGENT.value] >= urgent_threshold)
            for e, p in zip(examples, probabilities, strict=True)]  # fmt: skip
    best: tuple[float, float, float, float] | None = None
    for low in _GRID:
        for high in (h for h in _GRID if h >= low):
            verdicts = [(e, *decide(p, urgent, low, high)) for e, p, urgent in rows]
            figures = band_figures(verdicts)
            if (figures["triage_groupchat"] > limits.triage_groupchat
                    or figures["triage_chitchat"] > limits.triage_chitchat):
                continue
            cost = figures["missed"] + figures["false_ticket_groupchat"] + 2 * figures["ticket_chitchat"]
            candidate = (cost, high - low, low, high)
            if best is None or candidate < best:
                best = candidate
    low, high = (best[2], best[3]) if best else (0.5, 0.5)
    return urgent_threshold, low, high


def band_figures(verdicts: Sequence[tuple[Example, Intent, bool]]) -> dict[str, float]:
    """Shares of missed tickets, public false tickets and triage, per source, for decided rows."""
    group = [(e, i, t) for e, i, t in verdicts if e.source == "groupchat"]
    chit = [(e, i, t) for e, i, t in verdicts if e.source == "chitchat"]
    tickets = [(e, i, t) for e, i, t in group if e.intent != Intent.CHATTER.value]
    chatter = [(e, i, t) for e, i, t in group if e.intent == Intent.CHATTER.value]
    opened = lambda row: row[1] is not Intent.CHATTER and not row[2]  # noqa: E731
    return {
        "missed": _share(tickets, lambda row: row[1] is Intent.CHATTER),
        "false_ticket_groupchat": _share(chatter, opened),
        "ticket_chitchat": _share(chit, opened),
        "triage_groupchat": _share(group, lambda row: row[2]),
        "triage_chitchat": _share(chit, lambda row: row[2]),
    }


def _share(rows: Sequence, predicate) -> float:
    return sum(1 for row in rows if predicate(row)) / len(rows) if rows else 0.0


def train_intent(
    examples: Sequence[Example], *, cost: float = DEFAULT_COST, folds: int = DEFAULT_FOLDS, min_df: int = 2,
    seed: int = 13, limits: Limits = Limits(), notes: Sequence[str] = (),
) -> tuple[IntentModel, list[list[float]]]:
    """The model fitted on all rows, with scale, band and threshold tuned on out-of-fold predictions.

    Returns the out-of-fold scores as well, so a caller can report cross-validated figures without
    fitting again. Deterministic for a given `seed`.
    """
    if {e.intent for e in examples} != set(LABELS):
        raise ValueError(f"training rows must cover every intent {LABELS}")
    scores = out_of_fold(examples, folds=folds, cost=cost, min_df=min_df, seed=seed)
    scale = fit_confidence_scale(scores, [LABELS.index(e.intent) for e in examples])
    probabilities = [dict(zip(LABELS, softmax(row, scale), strict=True)) for row in scores]
    urgent_threshold, low, high = tune(examples, probabilities, limits)
    linear = fit_counts([(e.counts, e.intent) for e in examples], LABELS, cost, min_df, seed)
    model = IntentModel(replace(linear, confidence_scale=scale), low, high, urgent_threshold, tuple(notes))
    return model, scores
