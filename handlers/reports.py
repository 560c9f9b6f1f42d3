"""A resident's message that is not a command: chatter is ignored, a problem becomes (or joins) a ticket.

A message about a ticket already in the ledger (a progress question, "still not fixed", a thanks after 办结)
is answered from that ticket first (handlers/followup.py). Otherwise what the classifier says decides, except
that

- an addressed message (an @-mention of the bot, a private message to it, or one starting with a report word
  such as 报修) is never lost: a problem in it becomes a ticket however unsure the classifier is, and one
  without a problem (`@回音 在吗`) gets a one-line introduction;
- a message the classifier is unsure about (`needs_triage`) opens nothing in public: it is held as a triage
  item (`P7`) and the cadre on duty is asked privately to 登记 or 忽略 it (handlers/triage.py, jobs/triage.py).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace

from handlers import emergency, faq, followup, notices, texts, units
from handlers.context import Context
from ledger.deadlines import describe_minutes, resolution_due, response_due, shift_windows
from ledger.lifecycle import Status
from ledger.messages import Outgoing
from nlp import texts as nlp_texts
from nlp.classification import Classification, Intent
from nlp.faq import states_problem
from nlp.similarity import (
    NESTED_PLACE,
    ReportFacts,
    best_possible,
    facts,
    other_category_may_match,
    similarity,
    stored_facts,
)  # fmt: skip
from settings.models import Category
from storage.incident_presence import incident_since
from storage.models import Ticket, TriageItem
from storage.tickets import Actor, MergeCandidate, join_found, merge_candidates, open_ticket
from storage.triage import hold

# A message starting with one of these is addressed to the bot: the resident means to report.
REPORT_WORDS = ("报事", "报修", "上报", "反映", "投诉")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Source:
    """Who reported what, where: the message being handled, or a held triage item a cadre registered."""

    text: str
    chat_id: str
    chat_name: str
    is_private: bool
    sender: Actor


def handle_report(ctx: Context) -> list[Outgoing]:
    classification = ctx.classifier.classify(ctx.incoming.text)
    followed = followup.answer(ctx, classification)
    if followed is not None:  # about a ticket already in the ledger: answered from it, nothing opens
        return followed
    during = _incident_answer(ctx, classification)  # a known incident (通知): joins it, or a report after 恢复
    if isinstance(during, list):
        return during
    classification = during
    spoken_to = is_addressed(ctx)
    if not classification.is_ticket:
        if not spoken_to:
            return []
        if not _reports_something(ctx.text):
            return [ctx.reply(texts.INTRODUCTION.format(bot=ctx.settings.community.bot_name))]
        classification = replace(classification, intent=Intent.REPORT)  # 报修 … : the resident says it is a problem
    if classification.intent is Intent.INQUIRY:
        answered = faq.answer(ctx)
        if answered is not None:
            return [answered]
        if states_problem(ctx.incoming.text):  # 低保还没到账呢？ a problem to follow up, not a question
            classification = replace(classification, intent=Intent.REPORT)
    if classification.needs_triage and not spoken_to:
        return _hold(ctx, classification)
    category, uncertain = categorised(ctx, classification)
    source = _source(ctx)
    new = facts(source.text, category.id, classification.location)
    joined = _join_duplicate(ctx, source, classification, new)
    if joined is not None:
        return joined[0]
    return _open(ctx, source, classification, category, uncertain=uncertain, features=new)[0]


def _incident_answer(ctx: Context, classification: Classification) -> list[Outgoing] | Classification:
    """`notices.answer`, asked only when an incident is going on or ended within its recheck window (else it
    returns `classification` as it is, after two queries every report would pay)."""
    if not incident_since(ctx.session, since=ctx.now - notices.RECHECK_WINDOW):
        return classification
    return notices.answer(ctx, classification)


def is_addressed(ctx: Context) -> bool:
    """Spoken to the bot: an @-mention of it, a private message, or a report word first (`报修 3号楼…`)."""
    incoming = ctx.incoming
    return incoming.addressed or incoming.is_private or _starts_with_report_word(ctx.text)


def _starts_with_report_word(text: str) -> bool:
    return unicodedata.normalize("NFKC", text).lstrip().startswith(REPORT_WORDS)


def _reports_something(text: str) -> bool:
    """A report word followed by some words: `报修 厨房水管` is a report even when the classifier shrugs."""
    folded = unicodedata.normalize("NFKC", text).lstrip()
    word = next((w for w in REPORT_WORDS if folded.startswith(w)), None)
    return word is not None and _LETTER.search(folded[len(word) :]) is not None


def _source(ctx: Context) -> Source:
    incoming = ctx.incoming
    return Source(incoming.text, incoming.chat_id, incoming.chat_name, incoming.is_private, ctx.sender)


def _hold(ctx: Context, classification: Classification) -> list[Outgoing]:
    """Keep the message as a triage item and ask the cadre on duty, privately, whether it is a problem."""
    incoming = ctx.incoming
    category = ctx.settings.category(classification.category) or ctx.settings.fallback_category
    grid_id = _grid_for(ctx, _source(ctx), classification)
    duty = ctx.duty(grid_id)
    number = hold(
        ctx.session, now=ctx.now,
        fields={
            "text": incoming.text, "chat_id": incoming.chat_id, "chat_name": incoming.chat_name,
            "chat_is_private": incoming.is_private, "sender_id": incoming.sender_id,
            "sender_name": incoming.sender_name, "intent": classification.intent.value, "category": category.id,
            "confidence": round(classification.confidence, 3), "location": classification.location,
            "grid_id": grid_id, "asked_id": duty.cadre.id,
            "response_due_at": response_due(category, ctx.now, shift_windows(ctx.settings, category, grid_id)),
        },
    )
    chat = texts.TRIAGE_PRIVATE_CHAT if incoming.is_private else incoming.chat_name
    text = texts.TRIAGE_ASK.format(item=number, chat=chat, sender=incoming.sender_name, text=incoming.text)
    return [Outgoing(duty.cadre.chat_id, text, duty.cadre.name, is_private=True)]


def register(ctx: Context, item: TriageItem, category: Category, note: str) -> tuple[list[Outgoing], int, bool]:
    """Open (or join) the ticket of a triage item a cadre registered, as if it had just been reported:
    the reply goes to the item's group, mentioning its sender. Returns the replies, the ticket's number, and
    whether the item joined an open ticket."""
    sender = Actor(item.sender_id, item.sender_name)
    source = Source(item.text, item.chat_id, item.chat_name, item.chat_is_private, sender)
    intent = Intent.INQUIRY if item.intent == Intent.INQUIRY.value else Intent.REPORT
    classification = Classification(intent, category.id, item.location, item.grid_id, False, item.confidence)
    new = facts(source.text, category.id, classification.location)
    joined = _join_duplicate(ctx, source, classification, new)
    if joined is not None:
        return *joined, True
    replies, ticket = _open(ctx, source, classification, category, uncertain=False, note=note, features=new)
    return replies, ticket.id, False


def _join_duplicate(
    ctx: Context, source: Source, classification: Classification, new: ReportFacts
) -> tuple[list[Outgoing], int] | None:
    """The reply of a report joined to the open ticket it duplicates (`_duplicate`), and that ticket's number; None
    when it duplicates none, or the ticket closed before it could be joined: the report then opens one of its own."""
    duplicate = _duplicate(ctx, source, classification, new)
    return None if duplicate is None else _join(ctx, source, duplicate)


def _duplicate(
    ctx: Context, source: Source, classification: Classification, new: ReportFacts
) -> MergeCandidate | None:
    """The open ticket most similar to the report `new` (`nlp.similarity`), if it reaches the threshold.

    Tickets of another grid or another place are not compared, nor, when the report's grid is unknown (no place, a
    group of several grids), tickets that name a place (`storage.tickets.merge_candidates`); ties go to the oldest
    ticket. Only the tickets that can reach the threshold are read (those of another category only where one could),
    each with its stored features: no ticket's text is segmented again, except a ticket's stored before they were.
    """
    window_start = ctx.now - dt.timedelta(hours=ctx.settings.tickets.merge_window_hours)
    grid_id = _grid_for(ctx, source, classification)
    threshold = ctx.settings.nlp.duplicate_threshold
    category, place = _candidate_filter(new, threshold)
    best, best_score = None, 0.0
    candidates = merge_candidates(
        ctx.session, since=window_start, grid_id=grid_id, near=new.location, category=category, place=place
    )
    for candidate in candidates:  # newest first
        if best_possible(new, candidate.category, candidate.location) < threshold:
            continue  # another place, or another category with no place in common: not read further
        old = stored_facts(candidate.features, candidate.description, candidate.category, candidate.location)
        score = similarity(new, old)
        if score >= threshold and score >= best_score:
            best, best_score = candidate, score
    return best


def _candidate_filter(new: ReportFacts, threshold: float) -> tuple[str | None, str | None]:
    """Which open tickets may reach `threshold` (as `merge_candidates` takes it): every category (None, None); the
    report's category, or another at exactly its place (category, place); or the report's category only."""
    if other_category_may_match(0.0, threshold) or (new.location and other_category_may_match(NESTED_PLACE, threshold)):
        return None, None
    if new.location and other_category_may_match(1.0, threshold):
        return new.category, new.location
    return new.category, None


def _grid_for(ctx: Context, source: Source, classification: Classification) -> str | None:
    """The place's grid; else the group's grid when the group covers exactly one."""
    if classification.grid_id:
        return classification.grid_id
    group = ctx.settings.group(source.chat_id, source.chat_name)
    return group.grids[0] if group and len(group.grids) == 1 else None


def categorised(ctx: Context, classification: Classification) -> tuple[Category, bool]:
    """The category a report is filed under, and whether the classifier was unsure of it: a report below
    `nlp.min_confidence`, or one no category claims, is filed under the fallback (其他) for a cadre to 改类."""
    category = ctx.settings.category(classification.category) or ctx.settings.fallback_category
    uncertain = classification.intent is Intent.REPORT and (
        classification.confidence < ctx.settings.nlp.min_confidence or category == ctx.settings.fallback_category
    )
    return (ctx.settings.fallback_category if uncertain else category), uncertain


def uncertain_guess(ctx: Context, classification: Classification, category: Category) -> Category | None:
    """The classifier's best guess of an uncertain report's category, when it is not the one filed under."""
    guess = ctx.settings.category(classification.category)
    return guess if guess is not None and guess != category else None


def uncertain_alert(ticket: Ticket, category: Category, guess: Category | None, text: str) -> str:
    """What the assignee is told privately about a ticket filed under the fallback: the guess, and 改类."""
    return nlp_texts.UNCERTAIN_ALERT.format(
        number=ticket.id, fallback=category.name, text=text,
        guess_text=nlp_texts.UNCERTAIN_GUESS.format(guess=guess.name) if guess else "",
    )


def open_report(
    ctx: Context, source: Source, classification: Classification, category: Category, *, grid_id: str | None,
    assignee_id: str, uncertain: bool, note: str = "", fields: dict | None = None, features: ReportFacts | None = None,
) -> Ticket:
    """Open the ticket of a report, assigned to `assignee_id` at once, with the time limits of its category (an
    urgent one: the emergency's response limit). A resident's report (`_open`) and a cadre's patrol finding
    (handlers/patrol.py: `fields={"source": "patrol"}`) both open here; `fields` adds to or overrides the rest.
    `features`: the report's facts (`nlp.similarity.facts` of its text) when already read, stored with the ticket."""
    windows = shift_windows(ctx.settings, category, grid_id)
    guess = uncertain_guess(ctx, classification, category) if uncertain else None
    return open_ticket(
        ctx.session, now=ctx.now, reporter=source.sender, assignee_id=assignee_id, features=features,
        note=_uncertain_note(classification, guess) if uncertain else note,
        fields={
            "category": category.id, "description": source.text, "location": classification.location,
            "grid_id": grid_id, "chat_id": source.chat_id, "chat_name": source.chat_name,
            "chat_is_private": source.is_private, "urgent": classification.urgent,
            "confidence": round(classification.confidence, 3),
            "response_due_at": (
                emergency.response_due(ctx.settings, ctx.now) if classification.urgent
                else response_due(category, ctx.now, windows)
            ),
            "resolution_due_at": resolution_due(category, ctx.now, windows),
            **(fields or {}),
        },
    )


def _open(
    ctx: Context, source: Source, classification: Classification, category: Category, *, uncertain: bool,
    note: str = "", features: ReportFacts | None = None,
) -> tuple[list[Outgoing], Ticket]:
    grid_id = _grid_for(ctx, source, classification)
    duty = ctx.duty(grid_id)
    windows = shift_windows(ctx.settings, category, grid_id)
    guess = uncertain_guess(ctx, classification, category) if uncertain else None
    ticket = open_report(
        ctx, source, classification, category, grid_id=grid_id, assignee_id=duty.cadre.id, uncertain=uncertain,
        note=note, features=features,
    )
    fields = {
        "number": ticket.id, "category": category.name, "place": texts.place_text(classification.location),
        "assignee": duty.cadre.name, "duty": texts.DUTY_LABELS[duty.source.value],
        "response": _response_promise(ctx, category, ticket.response_due_at, paused=windows is not None),
    }
    if classification.urgent:
        opened = emergency.urgent_messages(
            ctx.settings, ticket_id=ticket.id, text=source.text, reporter=source.sender.name, duty=duty,
            grid_id=grid_id, fields=fields,
        )
        reply = _public_reply(source, opened.reply, [duty.cadre.name], [duty.cadre.chat_id], ticket.id)
        return [reply, *opened.alerts], ticket
    template = texts.INQUIRY_OPENED if classification.intent is Intent.INQUIRY else texts.TICKET_OPENED
    text, orders = template.format(**fields), []
    dispatched = units.auto_dispatch(ctx, ticket) if classification.intent is Intent.REPORT and not uncertain else None
    if dispatched is not None:
        unit, orders = dispatched
        text += texts.AUTO_DISPATCHED.format(unit=unit.name)
    replies = [_public_reply(source, text, [duty.cadre.name], [duty.cadre.chat_id], ticket.id), *orders]
    if uncertain:
        alert = uncertain_alert(ticket, category, guess, source.text)
        replies.append(Outgoing(duty.cadre.chat_id, alert, duty.cadre.name, is_private=True, ticket_id=ticket.id))
    return replies, ticket


def _uncertain_note(classification: Classification, guess: Category | None) -> str:
    """The ticket's note when the classifier was unsure: its best guess and how sure it was."""
    if guess is None:
        return nlp_texts.UNCERTAIN_NOTE_NO_GUESS
    return nlp_texts.UNCERTAIN_NOTE.format(guess=guess.name, confidence=classification.confidence)


def _response_promise(ctx: Context, category: Category, due: dt.datetime, *, paused: bool) -> str:
    """`1小时内`, or the due time itself when the category's clock pauses outside the grid's shifts."""
    if paused:
        return texts.BY_TIME.format(time=texts.format_time(due, ctx.tz))
    return texts.WITHIN.format(duration=describe_minutes(category.first_response_minutes))


def _public_reply(
    source: Source, text: str, names: list[str], ids: list[str], ticket_id: int | None
) -> Outgoing:
    """The reply where the report was made, mentioning the reporter (and, in a group, `names` with `ids`)."""
    if source.is_private:
        return Outgoing(source.chat_id, text, source.chat_name, is_private=True, ticket_id=ticket_id)
    prefix = texts.mention_prefix([source.sender.name, *names])
    mentions = tuple(dict.fromkeys([source.sender.id, *ids]))
    return Outgoing(source.chat_id, prefix + text, source.chat_name, mentions, ticket_id=ticket_id)


def _join(ctx: Context, source: Source, duplicate: MergeCandidate) -> tuple[list[Outgoing], int] | None:
    """Join the reporter to `duplicate` and say so (or that they had reported it already), with the ticket's number;
    None when the ticket is no longer open."""
    joined = join_found(ctx.session, duplicate.id, duplicate.status, source.sender, now=ctx.now, note=source.text)
    if joined is None:
        return None
    category = ctx.settings.category(joined.category) or ctx.settings.fallback_category
    fields = {
        "number": joined.id, "category": category.name, "place": texts.place_text(joined.location),
        "assignee": ctx.cadre_name(joined.assignee_id), "status": texts.STATUS_NAMES[Status(joined.status)],
    }
    if joined.reporters is None:
        text = texts.TICKET_ALREADY_REPORTED.format(**fields)
    else:
        text = texts.TICKET_JOINED.format(**fields, count=joined.reporters)
    return [_public_reply(source, text, [], [], joined.id)], joined.id
