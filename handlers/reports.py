"""A resident's message that is not a command: chatter is ignored, a problem becomes (or joins) a ticket."""

from __future__ import annotations

import datetime as dt

from handlers import faq, texts
from handlers.context import Context
from ledger.deadlines import describe_minutes, resolution_due, response_due, shift_windows
from ledger.lifecycle import Action, Status
from ledger.messages import Outgoing
from ledger.rota import Duty, escalation_chain
from nlp import texts as nlp_texts
from nlp.classification import Classification, Intent
from nlp.similarity import facts, similarity
from settings.models import Category
from storage.models import Ticket
from storage.tickets import BOT, active_reporters, add_reporter, apply_action, open_ticket, open_tickets_since

_RESCUE_WORDS = ("火", "烟", "煤气", "燃气", "困", "被关")
_MEDICAL_WORDS = ("摔", "晕", "倒地", "受伤", "流血", "不省人事")


def handle_report(ctx: Context) -> list[Outgoing]:
    classification = ctx.classifier.classify(ctx.incoming.text)
    if not classification.is_ticket:
        return []
    if classification.intent is Intent.INQUIRY:
        answered = faq.answer(ctx)
        if answered is not None:
            return [answered]
    category = ctx.settings.category(classification.category) or ctx.settings.fallback_category
    uncertain = classification.intent is Intent.REPORT and (
        classification.confidence < ctx.settings.nlp.min_confidence or category == ctx.settings.fallback_category
    )
    if uncertain:
        category = ctx.settings.fallback_category
    duplicate = _duplicate(ctx, classification, category)
    if duplicate is not None:
        return _join(ctx, duplicate, ctx.settings.category(duplicate.category) or ctx.settings.fallback_category)
    return _open(ctx, classification, category, uncertain=uncertain)


def _duplicate(ctx: Context, classification: Classification, category: Category) -> Ticket | None:
    """The open ticket most similar to this report (`nlp.similarity`), if it reaches the threshold.

    Tickets of another grid are not compared; ties go to the oldest ticket.
    """
    window_start = ctx.now - dt.timedelta(hours=ctx.settings.tickets.merge_window_hours)
    grid_id = _grid_for(ctx, classification)
    new = facts(ctx.incoming.text, category.id, classification.location)
    threshold = ctx.settings.nlp.duplicate_threshold
    best, best_score = None, 0.0
    for ticket in open_tickets_since(ctx.session, since=window_start):  # newest first
        if grid_id and ticket.grid_id and grid_id != ticket.grid_id:
            continue
        score = similarity(new, facts(ticket.description, ticket.category, ticket.location))
        if score >= threshold and score >= best_score:
            best, best_score = ticket, score
    return best


def _grid_for(ctx: Context, classification: Classification) -> str | None:
    """The place's grid; else the group's grid when the group covers exactly one."""
    if classification.grid_id:
        return classification.grid_id
    group = ctx.settings.group(ctx.incoming.chat_id, ctx.incoming.chat_name)
    return group.grids[0] if group and len(group.grids) == 1 else None


def _open(ctx: Context, classification: Classification, category: Category, *, uncertain: bool) -> list[Outgoing]:
    grid_id = _grid_for(ctx, classification)
    duty = ctx.duty(grid_id)
    windows = shift_windows(ctx.settings, category, grid_id)
    incoming = ctx.incoming
    guess = ctx.settings.category(classification.category) if uncertain else None
    guess = guess if guess is not None and guess != category else None
    ticket = open_ticket(
        ctx.session, now=ctx.now, reporter=ctx.sender, note=_uncertain_note(classification, guess) if uncertain else "",
        fields={
            "category": category.id, "description": incoming.text, "location": classification.location,
            "grid_id": grid_id, "chat_id": incoming.chat_id, "chat_name": incoming.chat_name,
            "chat_is_private": incoming.is_private, "urgent": classification.urgent,
            "confidence": round(classification.confidence, 3),
            "response_due_at": response_due(category, ctx.now, windows),
            "resolution_due_at": resolution_due(category, ctx.now, windows),
        },
    )
    apply_action(ctx.session, ticket, Action.ASSIGN, actor=BOT, now=ctx.now, changes={"assignee_id": duty.cadre.id})
    fields = {
        "number": ticket.id, "category": category.name, "place": texts.place_text(classification.location),
        "assignee": duty.cadre.name, "duty": texts.DUTY_LABELS[duty.source.value],
        "response": _response_promise(ctx, category, ticket.response_due_at, paused=windows is not None),
    }
    if classification.urgent:
        return _urgent(ctx, ticket.id, duty, grid_id, fields)
    template = texts.INQUIRY_OPENED if classification.intent is Intent.INQUIRY else texts.TICKET_OPENED
    replies = [_public_reply(ctx, template.format(**fields), duty, ticket.id)]
    if uncertain:
        alert = nlp_texts.UNCERTAIN_ALERT.format(
            number=ticket.id, fallback=category.name, text=incoming.text,
            guess_text=nlp_texts.UNCERTAIN_GUESS.format(guess=guess.name) if guess else "",
        )
        replies.append(Outgoing(duty.cadre.chat_id, alert, duty.cadre.name, is_private=True, ticket_id=ticket.id))
    return replies


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


def _public_reply(ctx: Context, text: str, duty: Duty, ticket_id: int | None) -> Outgoing:
    """The reply in the group, mentioning the reporter and the cadre who now owns the ticket."""
    incoming = ctx.incoming
    if incoming.is_private:
        return ctx.reply(text, ticket_id=ticket_id)
    prefix = texts.mention_prefix([incoming.sender_name, duty.cadre.name])
    mentions = tuple(dict.fromkeys([incoming.sender_id, duty.cadre.chat_id]))
    return Outgoing(incoming.chat_id, prefix + text, incoming.chat_name, mentions, ticket_id=ticket_id)


def _emergency_numbers(text: str) -> str:
    numbers = []
    if any(word in text for word in _RESCUE_WORDS):
        numbers.append(texts.EMERGENCY_NUMBERS["rescue"])
    if any(word in text for word in _MEDICAL_WORDS):
        numbers.append(texts.EMERGENCY_NUMBERS["medical"])
    numbers.append(texts.EMERGENCY_NUMBERS["police"])
    return " / ".join(dict.fromkeys(numbers))


def _urgent(ctx: Context, ticket_id: int, duty: Duty, grid_id: str | None, fields: dict) -> list[Outgoing]:
    """Tell the resident to call emergency services first, and ping the on-duty cadre and the chain at once."""
    chain = [c for c in escalation_chain(ctx.settings, grid_id) if c.id != duty.cadre.id]
    secretaries = [c for c in chain if c.role.value == "secretary"] or chain[:1]
    text = texts.URGENT_OPENED.format(
        **fields, emergency=_emergency_numbers(ctx.incoming.text), chain="、".join(c.name for c in secretaries)
    )
    replies = [_public_reply(ctx, text, duty, ticket_id)]
    alert = texts.URGENT_ALERT.format(**fields, reporter=ctx.incoming.sender_name, text=ctx.incoming.text)
    for cadre in [duty.cadre, *secretaries]:
        replies.append(Outgoing(cadre.chat_id, alert, cadre.name, is_private=True, ticket_id=ticket_id))
    cadres_group = ctx.settings.cadres_group()
    if cadres_group is not None:
        replies.append(Outgoing(cadres_group.id or cadres_group.name, alert, cadres_group.name, ticket_id=ticket_id))
    return replies


def _join(ctx: Context, ticket, category: Category) -> list[Outgoing]:
    added = add_reporter(ctx.session, ticket, ctx.sender, now=ctx.now)
    fields = {
        "number": ticket.id, "category": category.name, "place": texts.place_text(ticket.location),
        "assignee": ctx.cadre_name(ticket.assignee_id), "status": texts.STATUS_NAMES[Status(ticket.status)],
    }
    if not added:
        return [ctx.reply(texts.TICKET_ALREADY_REPORTED.format(**fields), ticket_id=ticket.id)]
    count = len(active_reporters(ctx.session, ticket.id))
    return [ctx.reply(texts.TICKET_JOINED.format(**fields, count=count), ticket_id=ticket.id)]
