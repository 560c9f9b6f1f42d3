"""The community classifier: jieba tokens, weighted keywords (hand-written and learned), cue words.

The decision, in order:

1. No letters at all (empty, emoji, punctuation, `[图片]`-style placeholders) -> chatter.
2. A danger term that is not negated (`没有着火`) or hypothetical (`容易着火`) -> urgent.
3. A question about a public service -> inquiry.
4. Without a problem cue (`坏了`, `堵了`, ... at a word boundary, not negated: `没坏`): an inquiry
   cue -> inquiry; a greeting, thanks, ack or notice -> chatter; a long message -> report; too
   little keyword weight for any category (`我也是`) -> chatter; keywords in a question -> inquiry.
5. Otherwise -> report.

The category: each category's score is the sum of the weights of its keywords among the tokens
(`config.yaml`, `categories[].keywords` and `weights`), or, when a trained model is given, the
model's linear score. Ties go to the earlier category in the configuration; no evidence at all
to the fallback category. `explain` shows the words behind the verdict.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from nlp import cues
from nlp.classification import Classification, Evidence, Intent, normalise_message
from nlp.lexicon import Lexicon
from nlp.model import KeywordModel
from nlp.places import PlaceIndex
from nlp.segment import raw_tokens
from settings.models import Settings

log = logging.getLogger(__name__)

# Longer messages are pasted articles; their start is enough to classify them.
MAX_CHARS = 4000
# Confidence of a lexicon verdict in its category: best / (best + runner-up + PRIOR).
PRIOR = 0.5
NO_EVIDENCE = 0.3
# Without a cue, keywords open a ticket only when one category has at least this weight (`邻居` alone does not).
MIN_WEIGHT_WITHOUT_CUE = 1.0
URGENT_CONFIDENCE = 0.9
MAX_CONFIDENCE = 0.95

_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,8}\]")
_LETTER = re.compile(r"[^\W\d_]")


def _core(message: str) -> str:
    """What is read of a normalised message: placeholders such as `[图片]` blanked, case folded."""
    return _PLACEHOLDER.sub(" ", message).casefold().strip()


def message_core(text: str) -> str:
    """The text the classifier reads of a message: normalised, placeholders blanked, case folded."""
    return _core(normalise_message(text[:MAX_CHARS]))


def message_tokens(text: str) -> list[str]:
    """The tokens the classifier reads from a message: `huiyin train` learns from exactly these."""
    return [token for token in raw_tokens(message_core(text)) if not token.isspace()]


@dataclass(frozen=True)
class Explanation:
    """Why a message got its verdict: the cue that decided the intent and the words behind each score."""

    classification: Classification
    tokens: tuple[str, ...]
    reason: str
    scores: dict[str, float]
    evidence: tuple[Evidence, ...] = field(default=())


@dataclass(frozen=True)
class _Reading:
    message: str
    core: str
    tokens: tuple[str, ...]
    starts: frozenset[int]


class WeightedClassifier:
    """Weighted-keyword classifier over the categories of `settings`, optionally with a trained model.

    With `model`, categories come from the model (its labels need not be the community's
    categories: `huiyin eval` uses this on other taxonomies); the intent rules are the same.
    Confidence is a heuristic in 0..1: 0.95 for text without letters, 0.8 for chatter decided by a
    cue, 0.6 for chatter without evidence, 0.9 for urgent; for reports and inquiries, how sure the
    category is: best / (best + runner-up + 0.5) of the keyword weights (one keyword alone 0.67, a
    tie 0.4) or the softmax probability of the model's scores; 0.3 when nothing points to a category.
    """

    def __init__(self, settings: Settings, model: KeywordModel | None = None) -> None:
        self._settings = settings
        self._fallback = settings.fallback_category.id
        self._lexicon = Lexicon(settings)
        self._places = PlaceIndex(settings)
        self._model = model
        self._danger = {
            term: category if category in self._lexicon.order else None
            for term, category in cues.DANGER_CATEGORY.items()
        }

    @property
    def model(self) -> KeywordModel | None:
        return self._model

    @property
    def lexicon(self) -> Lexicon:
        return self._lexicon

    def categorise(
        self, text: str, intent: Intent, prefer: str | None = None, raw: Sequence[str] | None = None
    ) -> tuple[Classification, Explanation]:
        """The verdict for an intent decided elsewhere (`nlp.learned`): category, place and confidence as here.

        `prefer` is the category to take when no keyword points anywhere (a danger's category); `raw`
        the jieba tokens of `message_core(text)` when the caller has them, so the text is segmented once.
        """
        reading = self._read(text, raw)
        if reading is None:
            verdict = Classification(intent, prefer or self._fallback, None, None, intent is Intent.URGENT, NO_EVIDENCE)
            return verdict, Explanation(verdict, (), "no letters", {})
        scores, evidence = self._scores(reading.tokens)
        if prefer is not None and not any(score > 0 for score in scores.values()):
            scores = {**scores, prefer: 1.0}
        verdict = self._verdict(reading, intent, scores, prefer=prefer)
        return verdict, Explanation(verdict, reading.tokens, "category keywords", scores, evidence)

    def classify(self, text: str) -> Classification:
        return self.explain(text).classification

    def explain(self, text: str) -> Explanation:
        """The verdict on `text` with the reasons behind it (what `huiyin explain` prints)."""
        reading = self._read(text)
        if reading is None:
            return Explanation(self._chatter(0.95), (), "no letters: emoji, punctuation or a placeholder", {})
        core = reading.core
        scores, evidence = self._scores(reading.tokens)
        danger = cues.live_danger(core)
        if danger is not None:
            category = self._danger.get(danger)
            if category is not None and self._model is None:
                scores[category] = scores.get(category, 0.0) + 1.0
                evidence = (*evidence, Evidence(danger, category, 1.0))
            prefer = None if any(score > 0 for score in scores.values()) else category
            verdict = self._verdict(reading, Intent.URGENT, scores, prefer=prefer)
            return Explanation(verdict, reading.tokens, f"danger term {danger!r}", scores, evidence)

        if cues.is_service_question(core):
            verdict = self._verdict(reading, Intent.INQUIRY, scores)
            return Explanation(verdict, reading.tokens, "a question about a public service", scores, evidence)
        problems = cues.problem_cues(core, reading.starts)
        if problems:
            verdict = self._verdict(reading, Intent.REPORT, scores)
            return Explanation(verdict, reading.tokens, f"problem cue {problems[0]!r}", scores, evidence)
        if cues.is_inquiry(core):
            verdict = self._verdict(reading, Intent.INQUIRY, scores)
            return Explanation(verdict, reading.tokens, "inquiry cue", scores, evidence)
        if cues.is_ack_or_notice(core):
            return Explanation(self._chatter(0.8), reading.tokens, "greeting, thanks, ack or notice", scores, evidence)
        if len(core) >= cues.LONG_MESSAGE:
            verdict = self._verdict(reading, Intent.REPORT, scores)
            return Explanation(verdict, reading.tokens, "a long message that is no notice", scores, evidence)
        if not self._has_evidence(reading.tokens, scores):
            reason = "no cue and too little keyword weight"
            return Explanation(self._chatter(0.6), reading.tokens, reason, scores, evidence)
        if cues.is_question(core):
            verdict = self._verdict(reading, Intent.INQUIRY, scores)
            return Explanation(verdict, reading.tokens, "a question about a category's matter", scores, evidence)
        verdict = self._verdict(reading, Intent.REPORT, scores)
        return Explanation(verdict, reading.tokens, "category keywords without a cue", scores, evidence)

    def _read(self, text: str, raw: Sequence[str] | None = None) -> _Reading | None:
        """The message as read; `raw`: jieba's tokens of its core when the caller has segmented it already."""
        message = normalise_message(text[:MAX_CHARS])
        core = _core(message)
        if _LETTER.search(core) is None:
            return None
        if raw is None:
            raw = raw_tokens(core)
        return _Reading(message, core, tuple(t for t in raw if not t.isspace()), cues.token_starts(raw))

    def _scores(self, tokens: tuple[str, ...]) -> tuple[dict[str, float], tuple[Evidence, ...]]:
        if self._model is not None:
            scores = self._model.scores(tokens)
            best = max(scores, key=scores.__getitem__)
            contributions = self._model.contributions(tokens, best)[:8]
            return scores, tuple(contributions)
        return self._lexicon_scores(tokens)

    def _lexicon_scores(self, tokens: tuple[str, ...]) -> tuple[dict[str, float], tuple[Evidence, ...]]:
        scores: dict[str, float] = defaultdict(float)
        evidence = []
        for hit in self._lexicon.hits(tokens):
            scores[hit.category] += hit.weight
            evidence.append(Evidence(hit.keyword, hit.category, hit.weight))
        return dict(scores), tuple(evidence)

    def _has_evidence(self, tokens: tuple[str, ...], scores: dict[str, float]) -> bool:
        """Enough keyword weight to call a message without any cue a report.

        Always the config's keywords, also when a model gives the categories: a model learns which
        category a problem belongs to, not whether a message is a problem at all.
        """
        if self._model is not None:
            scores = self._lexicon_scores(tokens)[0]
        return any(score >= MIN_WEIGHT_WITHOUT_CUE for score in scores.values())

    def _chatter(self, confidence: float) -> Classification:
        return Classification(Intent.CHATTER, self._fallback, None, None, urgent=False, confidence=confidence)

    def _verdict(
        self, reading: _Reading, intent: Intent, scores: dict[str, float], *, prefer: str | None = None
    ) -> Classification:
        place = self._places.extract(reading.message)
        location, grid_id = (place.text, place.grid_id) if place else (None, None)
        urgent = intent is Intent.URGENT
        category, confidence = self._category(scores, prefer)
        if category is None:
            return Classification(intent, self._fallback, location, grid_id, urgent, NO_EVIDENCE)
        if urgent:
            confidence = URGENT_CONFIDENCE
        confidence = round(min(max(confidence, 0.0), MAX_CONFIDENCE), 2)
        return Classification(intent, category, location, grid_id, urgent, confidence)

    def _category(self, scores: dict[str, float], prefer: str | None) -> tuple[str | None, float]:
        """The winning category and the share of the evidence behind it; None without evidence."""
        if self._model is not None:
            best = max(scores, key=scores.__getitem__)
            top = scores[best]
            scale = self._model.confidence_scale
            total = sum(math.exp(scale * (score - top)) for score in scores.values())
            return best, 1.0 / total
        positive = {category: score for category, score in scores.items() if score > 0}
        if not positive:
            return (prefer, 0.0) if prefer else (None, 0.0)
        order = self._lexicon.order
        ranked = sorted(positive, key=lambda c: (-positive[c], c != prefer, order.get(c, len(order))))
        best = positive[ranked[0]]
        runner_up = positive[ranked[1]] if len(ranked) > 1 else 0.0
        return ranked[0], best / (best + runner_up + PRIOR)


def build_classifier(settings: Settings) -> WeightedClassifier:
    """The classifier `config.yaml` asks for: the lexicon, or the trained model named by `nlp.model`.

    A relative model path is read from the working directory, like the SQLite database. A model that
    cannot be read is logged as an error and the bot reads messages with the category keywords
    instead: residents keep getting answers while an admin fixes the file.
    """
    model = None
    if settings.nlp.model:
        try:
            model = KeywordModel.load(settings.nlp.model)
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.error(
                "nlp.model: cannot use %s (%s); classifying with the keywords of config.yaml", settings.nlp.model, error
            )
    return WeightedClassifier(settings, model)


def format_explanation(explanation: Explanation, settings: Settings, top: int = 8) -> str:
    """What `huiyin explain` prints: the verdict, the deciding cue and the top contributing words."""
    verdict = explanation.classification
    category = settings.category(verdict.category)
    lines = [
        f"intent {verdict.intent.value}  category {verdict.category}"
        f"{f' ({category.name})' if category else ''}  confidence {verdict.confidence}"
        f"  urgent {'yes' if verdict.urgent else 'no'}  place {verdict.location or '—'}"
        f"{f' (grid {verdict.grid_id})' if verdict.grid_id else ''}",
        f"why: {explanation.reason}",
        "tokens: " + " / ".join(explanation.tokens),
    ]
    ranked = sorted(explanation.scores.items(), key=lambda item: -item[1])[:5]
    if ranked:
        lines.append("scores: " + ", ".join(f"{label} {score:.3f}" for label, score in ranked))
    if explanation.evidence:
        lines.append("top words:")
        strongest = sorted(explanation.evidence, key=lambda e: -abs(e.weight))[:top]
        lines.extend(f"  {e.word:<12} → {e.category:<14} {e.weight:+.3f}" for e in strongest)
    return "\n".join(lines)
