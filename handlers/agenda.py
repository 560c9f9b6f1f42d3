"""Cadre commands for the meeting agenda (议事): 议题 lists the candidates, 立项 12 marks a ticket as an item."""

from __future__ import annotations

from handlers import texts
from handlers.commands import Command
from handlers.context import Context
from handlers.views import find_ticket
from ledger.agenda import candidates
from ledger.lifecycle import Action, Status, is_open
from ledger.messages import Outgoing
from storage.tickets import Actor, apply_action
from storage.views import ticket_views


def list_candidates(ctx: Context, command: Command) -> list[Outgoing]:
    found = candidates(ctx.settings, ticket_views(ctx.session), ctx.now)
    if not found:
        return [ctx.reply(texts.AGENDA_EMPTY)]
    return [ctx.reply("\n".join([texts.AGENDA_HEADER, *(c.line for c in found)]))]


def mark(ctx: Context, command: Command) -> list[Outgoing]:
    """Any cadre may put an open ticket on the agenda; it stays in the digest until it is resolved."""
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach this handler
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    if ticket.agenda:
        return [ctx.reply(texts.AGENDA_ALREADY.format(number=ticket.id), ticket_id=ticket.id)]
    status = Status(ticket.status)
    if not is_open(status):
        return [ctx.reply(texts.AGENDA_NOT_OPEN.format(number=ticket.id, status=texts.STATUS_NAMES[status]))]
    apply_action(
        ctx.session, ticket, Action.AGENDA, actor=Actor(cadre.id, cadre.name), now=ctx.now, changes={"agenda": True}
    )
    return [ctx.reply(texts.AGENDA_MARKED.format(number=ticket.id, cadre=cadre.name), ticket_id=ticket.id)]
