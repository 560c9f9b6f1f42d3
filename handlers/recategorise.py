"""改类 12 给排水: a cadre corrects a ticket's category; the correction becomes a labelled example.

The category may be given by name (给排水) or id (drainage). The ticket's time limits follow the new
category, counted from when the ticket was opened; a first response already given keeps its time.
The old category is the event's note, so `storage.examples` can export the correction for training.
"""

from __future__ import annotations

from handlers.commands import Command
from handlers.context import Context
from handlers.views import category_name, find_ticket
from ledger.deadlines import resolution_due, response_due, shift_windows
from ledger.lifecycle import Action, IllegalTransition
from ledger.messages import Outgoing
from ledger.wording import STATUS_NAMES
from nlp import texts
from storage.tickets import Actor, apply_action


def recategorise(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach cadre commands
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    name = command.argument.split()[0] if command.argument.split() else ""
    category = ctx.settings.category_by_name(name.strip("【】[]「」"))
    if category is None:
        names = "、".join(c.name for c in ctx.settings.categories)
        return [ctx.reply(texts.RECATEGORISE_UNKNOWN.format(name=name, names=names, number=ticket.id))]
    if not ctx.may_act(cadre, ticket):
        assignee = ctx.cadre_name(ticket.assignee_id)
        return [ctx.reply(texts.RECATEGORISE_NOT_YOURS.format(number=ticket.id, assignee=assignee))]
    if category.id == ticket.category:
        return [ctx.reply(texts.RECATEGORISE_SAME.format(number=ticket.id, new=category.name))]
    old = category_name(ctx, ticket)
    windows = shift_windows(ctx.settings, category, ticket.grid_id)
    changes: dict = {"category": category.id, "resolution_due_at": resolution_due(category, ticket.created_at, windows)}
    if ticket.first_response_at is None:
        changes["response_due_at"] = response_due(category, ticket.created_at, windows)
    try:
        apply_action(
            ctx.session, ticket, Action.RECATEGORISE, actor=Actor(cadre.id, cadre.name), now=ctx.now,
            note=ticket.category, changes=changes,
        )
    except IllegalTransition as refused:
        return [ctx.reply(texts.RECATEGORISE_CLOSED.format(number=ticket.id, status=STATUS_NAMES[refused.status]))]
    return [ctx.reply(texts.RECATEGORISED.format(number=ticket.id, old=old, new=category.name), ticket_id=ticket.id)]
