"""The learned classifier: intent from the trained intent model, urgency from it or the danger detector.

Beside `nlp.weighted` (which the bot uses today) and built on the same parts:

- intent, calibrated confidence and triage from `nlp.intent.IntentModel` (the shipped
  `nlp/intent_model.json` unless another is given);
- urgent when the danger detector (`nlp.danger`) finds a live danger or the model's P(urgent)
  reaches its threshold — a missed emergency costs more than a false alarm;
- category, place and category confidence exactly as `nlp.weighted` gives them (the community's
  keywords, or the keyword model `nlp.model` names); an urgent message without keywords takes the
  danger's category;
- `needs_triage`: P(ticket) falls inside the model's band, so a cadre confirms it privately before
  anything is said in public. Urgent messages are never triaged.

`confidence` is P(chatter) for chatter and, for tickets, the category confidence of `nlp.weighted`
(the figure the loop compares with `nlp.min_confidence`); `explain` shows the intent probabilities.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

from nlp.classification import Classification, Evidence, Intent
from nlp.intent import Decision, IntentModel, Reading, decide, read
from nlp.lexicon import Lexicon
from nlp.model import KeywordModel
from nlp.weighted import Explanation, WeightedClassifier, build_classifier
from settings.models import Settings

DEFAULT_MODEL = "intent_model.json"
MAX_CONFIDENCE = 0.95


def default_model() -> IntentModel:
    """The intent model shipped with the package (trained by `python -m nlp.train_default`)."""
    with resources.files("nlp").joinpath(DEFAULT_MODEL).open(encoding="utf-8") as file:
        return IntentModel.from_json(json.load(file))


class LearnedClassifier:
    """`Classifier` with a learned intent, the danger detector and triage; categories as `WeightedClassifier`."""

    def __init__(
        self, settings: Settings, model: IntentModel | None = None, keywords: KeywordModel | None = None
    ) -> None:
        self._categories = WeightedClassifier(settings, keywords)
        self._fallback = settings.fallback_category.id
        self._model = model if model is not None else default_model()

    @property
    def model(self) -> IntentModel:
        return self._model

    @property
    def lexicon(self) -> Lexicon:
        return self._categories.lexicon

    def with_model(self, model: IntentModel) -> LearnedClassifier:
        """The same classifier on another intent model (same settings and category keywords)."""
        other = copy.copy(self)
        other._model = model
        return other

    def classify(self, text: str) -> Classification:
        reading = read(text, self._categories.lexicon)
        decision = self._model.decide(reading.features, danger_found=bool(reading.dangers))
        return self._verdict(text, decision, reading)[0]

    def explain(self, text: str, top: int = 8) -> Explanation:
        """The verdict, the features that pushed the intent and the words behind the category."""
        reading = read(text, self._categories.lexicon)
        decision = self._model.decide(reading.features, danger_found=bool(reading.dangers))
        verdict, categories = self._verdict(text, decision, reading)
        pushed = tuple(
            Evidence(feature, f"intent:{decision.intent.value}", weight)
            for feature, weight in self._model.contributions(reading.features, decision.intent.value)[:top]
        )
        ranked = sorted(decision.probabilities.items(), key=lambda item: -item[1])
        reason = "intent model " + ", ".join(f"{label} {p:.2f}" for label, p in ranked)
        reason += f"; P(ticket) {decision.ticket_probability:.2f}, triage band"
        reason += f" {self._model.triage_low:.2f}–{self._model.triage_high:.2f}"
        if reading.dangers:
            reason += f"; danger {reading.dangers[0].concept} ({reading.dangers[0].match!r})"
        if verdict.needs_triage:
            reason += "; unsure: a cadre confirms it privately"
        evidence = categories.evidence if categories else ()
        scores = categories.scores if categories else {}
        return Explanation(verdict, reading.tokens, reason, scores, (*pushed, *evidence))

    def with_probabilities(self, text: str, probabilities: dict[str, float]) -> Classification:
        """The verdict for intent probabilities from elsewhere (cross-validation: a model that never saw `text`)."""
        reading = read(text, self._categories.lexicon)
        urgent = bool(reading.dangers) or probabilities[Intent.URGENT.value] >= self._model.urgent_threshold
        intent, triage = decide(probabilities, urgent, self._model.triage_low, self._model.triage_high)
        decision = Decision(intent, probabilities, triage, urgent)
        return self._verdict(text, decision, reading)[0]

    def _verdict(self, text: str, decision: Decision, reading: Reading) -> tuple[Classification, Explanation | None]:
        if decision.intent is Intent.CHATTER:
            confidence = round(min(decision.probabilities[Intent.CHATTER.value], MAX_CONFIDENCE), 2)
            return Classification(Intent.CHATTER, self._fallback, None, None, False, confidence), None
        danger = reading.dangers[0].category if reading.dangers else None
        prefer = danger if decision.intent is Intent.URGENT and danger != "other" else None
        verdict, categories = self._categories.categorise(text, decision.intent, prefer, reading.raw)
        return Classification(
            verdict.intent, verdict.category, verdict.location, verdict.grid_id, verdict.urgent, verdict.confidence,
            needs_triage=decision.needs_triage,
        ), categories


def build_learned_classifier(settings: Settings) -> LearnedClassifier:
    """The learned classifier on the shipped intent model, with the keyword model `nlp.model` names, if any."""
    return LearnedClassifier(settings, default_model(), build_classifier(settings).model)
