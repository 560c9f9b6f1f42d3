"""Looking up a ticket by number and describing it in one line, for cadre and resident commands."""

from __future__ import annotations

from handlers import texts
from handlers.context import Context
from ledger.lifecycle import Status
from ledger.messages import Outgoing
from storage.models import Ticket
from storage.tickets import get_ticket, ticket_events


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
    notes = [e.note for e in ticket_events(ctx.session, ticket.id) if e.note and e.action in ("progress", "resolve")]
    return texts.LATEST_PREFIX.format(note=notes[-1]) if notes else ""
