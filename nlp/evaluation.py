"""`huiyin eval`: how well a classifier reproduces a labelled file.

A row's predicted label is `none` when its predicted intent is chatter, otherwise its predicted
category. `macro_f1` averages F1 over every label present in the file's `label` column (`none`
included when present). When the file has an `intent` column: `intent_accuracy`,
`false_ticket_rate` (share of the rows whose intent is chatter that would open a ticket in public:
a row sent to a cadre's private triage opens none) and `urgent_recall` (share of the rows whose
intent is urgent that are predicted urgent). `triage_rate` is the share of all rows that would go
to triage; a triaged row counts with its predicted category in `macro_f1`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from nlp.classification import Classification, Classifier, Intent
from nlp.training import NO_LABEL, LabelledRow


def predicted_label(classification: Classification) -> str:
    return NO_LABEL if classification.intent is Intent.CHATTER else classification.category


def opens_public_ticket(classification: Classification) -> bool:
    """A ticket announced in the group at once: not chatter, and not waiting for a cadre's triage."""
    return classification.is_ticket and not classification.needs_triage


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def evaluate(classifier: Classifier, rows: Sequence[LabelledRow]) -> dict:
    """The figures of `huiyin eval --json` for `rows`."""
    verdicts = [classifier.classify(row.text) for row in rows]
    truth = [row.label for row in rows]
    predicted = [predicted_label(verdict) for verdict in verdicts]
    labels = sorted(set(truth) | set(predicted))
    pairs = Counter(zip(truth, predicted, strict=True))
    per_label = {}
    for label in labels:
        tp = pairs[(label, label)]
        fp = sum(count for (t, p), count in pairs.items() if p == label and t != label)
        fn = sum(count for (t, p), count in pairs.items() if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": tp + fn,
        }  # fmt: skip
    present = sorted(set(truth))
    result: dict = {
        "rows": len(rows),
        "accuracy": _ratio(sum(t == p for t, p in zip(truth, predicted, strict=True)), len(rows)),
        "macro_f1": round(sum(per_label[label]["f1"] for label in present) / len(present), 4) if present else None,
        "per_label": per_label,
        "confusion": {t: {p: pairs[(t, p)] for p in labels if pairs[(t, p)]} for t in present},
        "triage_rate": _ratio(sum(verdict.needs_triage for verdict in verdicts), len(rows)),
    }
    with_intent = [(row, verdict) for row, verdict in zip(rows, verdicts, strict=True) if row.intent]
    if with_intent:
        chatter = [verdict for row, verdict in with_intent if row.intent == Intent.CHATTER.value]
        urgent = [verdict for row, verdict in with_intent if row.intent == Intent.URGENT.value]
        false_tickets = [verdict for verdict in chatter if opens_public_ticket(verdict)]
        agreed = sum(row.intent == verdict.intent.value for row, verdict in with_intent)
        result["intent_accuracy"] = _ratio(agreed, len(with_intent))
        result["false_ticket_rate"] = _ratio(len(false_tickets), len(chatter))
        result["urgent_recall"] = _ratio(sum(v.intent is Intent.URGENT for v in urgent), len(urgent))
        result["false_tickets_by_category"] = dict(Counter(v.category for v in false_tickets).most_common())
        result["intent_confusion"] = {
            intent.value: dict(Counter(v.intent.value for row, v in with_intent if row.intent == intent.value))
            for intent in Intent
            if any(row.intent == intent.value for row, _ in with_intent)
        }
    return result


def format_report(result: dict) -> str:
    """The human-readable form of `evaluate`'s figures."""
    lines = [f"rows {result['rows']}  accuracy {result['accuracy']}  macro-F1 {result['macro_f1']}"]
    if "intent_accuracy" in result:
        lines.append(
            f"intent accuracy {result['intent_accuracy']}  false-ticket rate {result['false_ticket_rate']}"
            f"  urgent recall {result['urgent_recall']}"
        )
        opened = result["false_tickets_by_category"]
        if opened:
            lines.append("false tickets by category: " + ", ".join(f"{label} {n}" for label, n in opened.items()))
    lines.append(f"{'label':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for label, figures in result["per_label"].items():
        lines.append(
            f"{label:<16}{figures['precision']:>10.3f}{figures['recall']:>8.3f}{figures['f1']:>8.3f}"
            f"{figures['support']:>9}"
        )
    lines.append("confusion (true → predicted: count)")
    for label, row in result["confusion"].items():
        lines.append(f"  {label}: " + ", ".join(f"{p} {n}" for p, n in sorted(row.items(), key=lambda i: -i[1])))
    return "\n".join(lines)
