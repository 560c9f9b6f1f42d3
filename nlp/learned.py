"""The learned classifier: intent from the trained intent model, urgency from it or the danger detector.

Beside `nlp.weighted` (which the bot uses today) and built on the same parts:

- intent, calibrated confidence and triage from `nlp.intent.IntentModel` (the shipped
  `nlp/intent_model.json` unless another is given);
- urgent when the danger detector (`nlp.danger`) finds a live danger or the model's P(urgent)
  reaches its threshold — a missed emergency costs more than a false alarm;
- category from the model's category part (`nlp.category`: NBSVM over the same features, blended
  with the community's keywords, so words added to `config.yaml` still count), restricted to the
  community's categories; an urgent message without keywords counts the danger's category as its
  keyword. A model without a category part leaves category, place and category confidence to
  `nlp.weighted` (the community's keywords, or the keyword model `nlp.model` names);
- `needs_triage`: P(ticket) falls inside the model's band, so a cadre confirms it privately before
  anything is said in public. Urgent messages are never triaged.

`confidence` is P(chatter) for chatter and, for tickets, P(category) (0.9 for urgent messages, as in
`nlp.weighted`; the figure the loop compares with `nlp.min_confidence`); `explain` shows the intent
probabilities and the features behind the category.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

from nlp.category import CategoryModel
from nlp.classification import Classification, Evidence, Intent, normalise_message
from nlp.intent import Decision, IntentModel, Reading, decide, read
from nlp.lexicon import Lexicon
from nlp.model import KeywordModel, Totals
from nlp.places import PlaceIndex
from nlp.weighted import MAX_CHARS, URGENT_CONFIDENCE, Explanation, WeightedClassifier, build_classifier
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
        self._places = PlaceIndex(settings)
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
        totals = self._model.lookup(reading.features)
        decision = self._model.decide(reading.features, danger_found=bool(reading.dangers), totals=totals)
        return self._verdict(text, decision, reading, totals=totals)[0]

    def explain(self, text: str, top: int = 8) -> Explanation:
        """The verdict, the features that pushed the intent and the words behind the category."""
        reading = read(text, self._categories.lexicon)
        decision = self._model.decide(reading.features, danger_found=bool(reading.dangers))
        verdict, categories = self._verdict(text, decision, reading, explain=True)
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

    def with_probabilities(
        self, text: str, probabilities: dict[str, float], categories: dict[str, float] | None = None
    ) -> Classification:
        """The verdict for intent (and category) probabilities from elsewhere (cross-validation: models that
        never saw `text`)."""
        reading = read(text, self._categories.lexicon)
        urgent = bool(reading.dangers) or probabilities[Intent.URGENT.value] >= self._model.urgent_threshold
        intent, triage = decide(probabilities, urgent, self._model.triage_low, self._model.triage_high)
        decision = Decision(intent, probabilities, triage, urgent)
        return self._verdict(text, decision, reading, categories)[0]

    def _verdict(
        self, text: str, decision: Decision, reading: Reading, categories: dict[str, float] | None = None,
        explain: bool = False, totals: Totals | None = None,
    ) -> tuple[Classification, Explanation | None]:
        """The verdict, and with `explain` the words behind its category (`totals`: the model's `lookup` of the
        features, when the caller has it)."""
        if decision.intent is Intent.CHATTER:
            confidence = round(min(decision.probabilities[Intent.CHATTER.value], MAX_CONFIDENCE), 2)
            return Classification(Intent.CHATTER, self._fallback, None, None, False, confidence), None
        danger = reading.dangers[0].category if reading.dangers else None
        prefer = danger if decision.intent is Intent.URGENT and danger != "other" else None
        model = self._model.category
        if model is None:
            verdict, explanation = self._categories.categorise(text, decision.intent, prefer, reading.raw)
            return Classification(
                verdict.intent, verdict.category, verdict.location, verdict.grid_id, verdict.urgent,
                verdict.confidence, needs_triage=decision.needs_triage,
            ), explanation  # fmt: skip
        keywords = reading.keywords or ({prefer: 1.0} if prefer else {})
        if categories is None:
            categories = (
                model.probabilities(reading.features, keywords) if totals is None
                else self._model.category_probabilities(totals, keywords)
            )  # fmt: skip
        return self._learned_category(text, decision, reading, model, keywords, categories, explain)

    def _learned_category(
        self, text: str, decision: Decision, reading: Reading, model: CategoryModel, keywords: dict[str, float],
        probabilities: dict[str, float], explain: bool,
    ) -> tuple[Classification, Explanation | None]:
        """Category by the category model's `probabilities` of the message and its `keywords` (the danger's
        category when no keyword points anywhere)."""
        order = self._categories.lexicon.order
        known = {c: p for c, p in probabilities.items() if c in order}
        category = max(known, key=known.__getitem__) if known else self._fallback
        urgent = decision.intent is Intent.URGENT
        confidence = URGENT_CONFIDENCE if urgent else round(min(known.get(category, 0.0), MAX_CONFIDENCE), 2)
        place = self._places.extract(normalise_message(text[:MAX_CHARS]))
        verdict = Classification(
            decision.intent, category, place.text if place else None, place.grid_id if place else None, urgent,
            confidence, needs_triage=decision.needs_triage,
        )
        if not explain:
            return verdict, None
        pushed = tuple(Evidence(f, category, w) for f, w in model.contributions(reading.features, keywords, category))
        hits = tuple(Evidence(h.keyword, h.category, h.weight) for h in self._categories.lexicon.hits(reading.tokens))
        return verdict, Explanation(verdict, reading.tokens, "category model", known, (*pushed[:8], *hits))


def build_learned_classifier(settings: Settings) -> LearnedClassifier:
    """The learned classifier on the shipped intent model, with the keyword model `nlp.model` names, if any."""
    return LearnedClassifier(settings, default_model(), build_classifier(settings).model)
