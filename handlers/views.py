"""Looking up a ticket by number and describing it, for cadre and resident commands."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from handlers import texts
from handlers.context import Context
from ledger.dates import format_day
from ledger.lifecycle import Action, Status
from ledger.messages import Outgoing
from ledger.privacy import mask_text
from settings.models import GroupKind
from storage.models import Member, Ticket
from storage.tickets import active_reporters, get_ticket, ticket_events


def find_ticket(ctx: Context, number: int | None) -> Ticket | Outgoing:
    """The ticket, or the reply that says it does not exist."""
    ticket = get_ticket(ctx.session, number) if number is not None else None
    return ticket if ticket is not None else ctx.reply(texts.UNKNOWN_TICKET.format(number=number))


def category_name(ctx: Context, ticket: Ticket) -> str:
    category = ctx.settings.category(ticket.category)
    return category.name if category else ticket.category


def ticket_line(ctx: Context, ticket: Ticket) -> str:
    return texts.TICKET_LINE.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        status=texts.STATUS_NAMES[Status(ticket.status)], assignee=ctx.cadre_name(ticket.assignee_id),
        when=texts.format_time(ticket.created_at, ctx.tz),
    )


def latest_note(ctx: Context, ticket: Ticket) -> str:
    """The last progress or resolution note cadres wrote, as residents saw it announced."""
    note = _latest_note_text(ctx, ticket)
    return texts.LATEST_PREFIX.format(note=note) if note else ""


def _latest_note_text(ctx: Context, ticket: Ticket) -> str:
    notes = [e.note for e in ticket_events(ctx.session, ticket.id) if e.note and e.action in ("progress", "resolve")]
    return notes[-1] if notes else ""


def seen_by_residents(ctx: Context) -> bool:
    """Whether residents read the chat the message came from: any group but the cadres' own."""
    if ctx.incoming.is_private:
        return False
    group = ctx.settings.group(ctx.incoming.chat_id, ctx.incoming.chat_name)
    return group is None or group.kind is not GroupKind.CADRES


def _commitment(ctx: Context, ticket: Ticket) -> str:
    if not ticket.commitment_date:
        return ""
    return texts.COMMITMENT_SUFFIX.format(day=format_day(ticket.commitment_date, ctx.now.date()))


def ticket_detail(ctx: Context, ticket: Ticket) -> str:
    """Everything about the ticket, reporters by their real names: for cadres only."""
    reporters = "、".join(r.member_name for r in active_reporters(ctx.session, ticket.id)) or "—"
    return texts.TICKET_DETAIL.format(
        number=ticket.id, category=category_name(ctx, ticket), status=texts.STATUS_NAMES[Status(ticket.status)],
        place=ticket.location or "—", description=ticket.description, reporters=reporters,
        assignee=ctx.cadre_name(ticket.assignee_id), created=texts.format_time(ticket.created_at, ctx.tz),
        response_due=texts.format_time(ticket.response_due_at, ctx.tz),
        resolution_due=texts.format_time(ticket.resolution_due_at, ctx.tz), commitment=_commitment(ctx, ticket),
        voices=_voices(ctx, ticket),
    )


def _voices(ctx: Context, ticket: Ticket, mask: Callable[[str], str] | None = None) -> str:
    """Each co-reporter's own words (their `join` note), newest last; with `mask`, names and text masked."""
    lines = []
    for event in ticket_events(ctx.session, ticket.id):
        if event.action == Action.JOIN.value and event.note:
            name, text = event.actor_name, event.note
            if mask is not None:
                name, text = texts.mask_name(name), mask(text)
            lines.append(texts.VOICE_LINE.format(name=name, text=text))
    return texts.VOICES_HEADER + "".join(lines) if lines else ""


def public_detail(ctx: Context, ticket: Ticket) -> str:
    """The ticket as the progress wall shows it (ledger/privacy.py): residents' names and phone numbers
    masked, also inside the text. A ticket reported in private shows no text and no reporter at all."""
    fields = {
        "number": ticket.id, "category": category_name(ctx, ticket), "place": ticket.location or "—",
        "status": texts.STATUS_NAMES[Status(ticket.status)],
    }
    if ticket.chat_is_private:
        return texts.TICKET_DETAIL_PRIVATE_REPORT.format(**fields)
    reporters = [r.member_name for r in active_reporters(ctx.session, ticket.id)]
    cadres = {c.name for c in ctx.settings.cadres}
    names = frozenset({*ctx.session.exec(select(Member.name)), *reporters} - cadres)
    note = _latest_note_text(ctx, ticket)
    return texts.TICKET_DETAIL_PUBLIC.format(
        **fields, description=mask_text(ticket.description, names),
        reporters="、".join(texts.mask_name(name) for name in reporters) or "—",
        assignee=ctx.cadre_name(ticket.assignee_id), created=texts.format_time(ticket.created_at, ctx.tz),
        resolution_due=texts.format_time(ticket.resolution_due_at, ctx.tz), commitment=_commitment(ctx, ticket),
        voices=_voices(ctx, ticket, lambda text: mask_text(text, names)),
        latest="\n" + texts.LATEST_PREFIX.format(note=mask_text(note, names)) if note else "",
    )
