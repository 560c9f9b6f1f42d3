"""Resident commands: 查询 我的反映 评价 没修好 撤销.

A reopened ticket (没修好, a 不满意 rating, or "not fixed" in a reporter's words: all through `reopen` and
`_reopen_changes`) gets a fresh resolution deadline; one dispatched to a partner unit also gets the unit's limits
afresh, counted from now as at 派单 (`ledger.deadlines.unit_due`), and the unit is told in its group.
"""

from __future__ import annotations

from handlers import cadre as cadre_commands
from handlers import emergency, texts
from handlers.commands import Command, Rating, rating_value
from handlers.context import Context
from handlers.units import limits_from_now
from handlers.views import category_name, find_ticket, latest_note, ticket_line
from ledger.deadlines import resolution_due, shift_windows
from ledger.lifecycle import Action, IllegalTransition, Status
from ledger.messages import Outgoing
from ledger.rota import escalation_chain
from ledger.wording import unit_messages
from settings.models import Cadre, Role
from storage.models import Ticket
from storage.tickets import active_reporters, apply_action, is_reporter, remove_reporter, tickets_reported_by


def query(ctx: Context, command: Command) -> list[Outgoing]:
    """Public status of any ticket: what the progress wall shows, with no reporter names."""
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    text = texts.TICKET_PUBLIC.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        status=texts.STATUS_NAMES[Status(ticket.status)], assignee=ctx.cadre_name(ticket.assignee_id),
        created=texts.format_time(ticket.created_at, ctx.tz), latest=latest_note(ctx, ticket),
    )  # fmt: skip
    return [ctx.reply(text, ticket_id=ticket.id)]


def my_reports(ctx: Context, command: Command) -> list[Outgoing]:
    tickets = tickets_reported_by(ctx.session, ctx.incoming.sender_id)
    if not tickets:
        return [ctx.reply(texts.MY_REPORTS_EMPTY)]
    return [ctx.reply("\n".join([texts.MY_REPORTS_HEADER, *(ticket_line(ctx, t) for t in tickets)]))]


def _own_ticket(ctx: Context, command: Command, verb: str) -> Ticket | Outgoing:
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return ticket
    if not is_reporter(ctx.session, ticket.id, ctx.incoming.sender_id):
        return ctx.reply(texts.NOT_REPORTER.format(number=ticket.id, verb=verb))
    return ticket


def _refusal(ctx: Context, ticket: Ticket, refused: IllegalTransition, verb: str) -> list[Outgoing]:
    if refused.action is Action.RATE and ticket.rating:
        return [ctx.reply(texts.ALREADY_RATED.format(number=ticket.id))]
    status = texts.STATUS_NAMES[refused.status]
    return [ctx.reply(texts.ILLEGAL_TRANSITION.format(number=ticket.id, status=status, verb=verb))]


def _reopen_changes(ctx: Context, ticket: Ticket) -> dict:
    """A reopened ticket gets a fresh resolution deadline, counted from now (and its unit's limits, if dispatched)."""
    category = ctx.settings.category(ticket.category) or ctx.settings.fallback_category
    windows = shift_windows(ctx.settings, category, ticket.grid_id)
    return {"resolution_due_at": resolution_due(category, ctx.now, windows), **_unit_changes(ctx, ticket)}


def _unit_changes(ctx: Context, ticket: Ticket) -> dict:
    """The unit's limits from now, as at 派单, with its first answer cleared so that its response clock runs again.

    `dispatched_at` moves to now too: jobs/sla.py chases a unit's limits only when the dispatch is not older than the
    ticket's current resolution deadline, and a member's 接单 counts the signings since the dispatch.
    """
    unit = ctx.settings.unit(ticket.unit_id)
    return {} if unit is None else limits_from_now(ctx, ticket, unit)


def _assignee(ctx: Context, ticket: Ticket) -> tuple[Cadre, ...]:
    cadre = ctx.settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    return (cadre,) if cadre else ()


def _assignee_and_grid_leader(ctx: Context, ticket: Ticket) -> tuple[Cadre, ...]:
    """Who hears that a resident says it is not fixed: the assignee and the grid's leader."""
    leaders = [c for c in escalation_chain(ctx.settings, ticket.grid_id) if c.role is Role.GRID_LEADER]
    return tuple({c.id: c for c in [*_assignee(ctx, ticket), *leaders[:1]]}.values())


def rate(ctx: Context, command: Command) -> list[Outgoing]:
    verb = texts.ACTION_VERBS["rate"]
    ticket = _own_ticket(ctx, command, verb)
    if isinstance(ticket, Outgoing):
        return [ticket]
    rating = rating_value(command.argument)
    try:
        apply_action(ctx.session, ticket, Action.RATE, actor=ctx.sender, now=ctx.now, changes={"rating": rating.value})
        if rating is Rating.DISSATISFIED:
            apply_action(
                ctx.session, ticket, Action.REOPEN, actor=ctx.sender, now=ctx.now, note=rating.value,
                changes=_reopen_changes(ctx, ticket),
            )  # fmt: skip
            return _announce_reopened(ctx, ticket, texts.REOPENED_BY_RATING, rating.value)
        apply_action(ctx.session, ticket, Action.CLOSE, actor=ctx.sender, now=ctx.now, note=rating.value)
    except IllegalTransition as refused:
        return _refusal(ctx, ticket, refused, verb)
    return [ctx.reply(texts.CLOSED_WITH_RATING.format(number=ticket.id, rating=rating.value), ticket_id=ticket.id)]


def not_fixed(ctx: Context, command: Command) -> list[Outgoing]:
    verb = texts.ACTION_VERBS["reopen"]
    ticket = _own_ticket(ctx, command, verb)
    if isinstance(ticket, Outgoing):
        return [ticket]
    return reopen(ctx, ticket, note=command.argument)


def reopen(ctx: Context, ticket: Ticket, *, note: str) -> list[Outgoing]:
    """A reporter says it is not fixed (`没修好 N`, or in their own words): the ticket is worked on again, with a
    fresh resolution deadline, and its assignee and grid leader are told in the group."""
    verb = texts.ACTION_VERBS["reopen"]
    try:
        apply_action(
            ctx.session, ticket, Action.REOPEN, actor=ctx.sender, now=ctx.now, note=note,
            changes=_reopen_changes(ctx, ticket),
        )  # fmt: skip
    except IllegalTransition as refused:
        return _refusal(ctx, ticket, refused, verb)
    return _announce_reopened(ctx, ticket, texts.REOPENED, note)


def _announce_reopened(ctx: Context, ticket: Ticket, template: str, note: str) -> list[Outgoing]:
    """Tell the group, mentioning the assignee and the grid leader; an urgent ticket stays urgent and alerts the
    cadre on duty, the grid leader and the secretary again at once."""
    text = template.format(number=ticket.id, assignee=ctx.cadre_name(ticket.assignee_id))
    replies = ctx.announce(ticket, text, also_mention=_assignee_and_grid_leader(ctx, ticket))
    replies += _tell_unit(ctx, ticket)
    if ticket.urgent:
        replies += emergency.reopen_alerts(
            ctx.settings, ticket_id=ticket.id, category=category_name(ctx, ticket),
            place=texts.place_text(ticket.location), assignee_id=ticket.assignee_id, grid_id=ticket.grid_id,
            text=ticket.description, note=note,
        )  # fmt: skip
    return replies


def _tell_unit(ctx: Context, ticket: Ticket) -> list[Outgoing]:
    """The unit a reopened ticket is dispatched to hears it is to be worked on again, by its new limits."""
    unit = ctx.settings.unit(ticket.unit_id)
    if unit is None or ticket.unit_response_due_at is None or ticket.unit_resolution_due_at is None:
        return []
    text = texts.UNIT_REOPENED.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        response_due=texts.format_time(ticket.unit_response_due_at, ctx.tz),
        resolution_due=texts.format_time(ticket.unit_resolution_due_at, ctx.tz),
        cadre=ctx.cadre_name(ticket.assignee_id),
    )  # fmt: skip
    return unit_messages(ctx.settings, unit, text, ticket.id)


def thank(ctx: Context, ticket: Ticket, text: str) -> list[Outgoing]:
    """A reporter's clear thanks after 办结 answers the 回访: rated 满意 and closed (`nlp.followup` says what
    counts as clear)."""
    note = texts.EVENT_THANKS.format(text=text)
    apply_action(ctx.session, ticket, Action.RATE, actor=ctx.sender, now=ctx.now, note=note,
                 changes={"rating": Rating.SATISFIED.value})  # fmt: skip
    apply_action(ctx.session, ticket, Action.CLOSE, actor=ctx.sender, now=ctx.now, note=Rating.SATISFIED.value)
    return [ctx.reply(texts.THANKS_RATED.format(number=ticket.id), ticket_id=ticket.id)]


def withdraw(ctx: Context, command: Command) -> list[Outgoing]:
    """A reporter withdraws: the ticket is cancelled when they were its only reporter.

    A cadre who may handle the ticket cancels it instead (误报 / duplicate).
    """
    cadre = ctx.sender_cadre
    if cadre is not None:
        found = find_ticket(ctx, command.ticket)
        if isinstance(found, Ticket) and ctx.may_act(cadre, found):
            return cadre_commands.cancel(ctx, command)
    verb = texts.ACTION_VERBS["cancel"]
    ticket = _own_ticket(ctx, command, verb)
    if isinstance(ticket, Outgoing):
        return [ticket]
    try:
        if len(active_reporters(ctx.session, ticket.id)) > 1:
            remove_reporter(ctx.session, ticket, ctx.sender, now=ctx.now)
            return [ctx.reply(texts.REPORTER_LEFT.format(number=ticket.id), ticket_id=ticket.id)]
        apply_action(ctx.session, ticket, Action.CANCEL, actor=ctx.sender, now=ctx.now, note=command.argument)
    except IllegalTransition as refused:
        return _refusal(ctx, ticket, refused, verb)
    return ctx.announce(ticket, texts.WITHDRAWN.format(number=ticket.id), also_mention=_assignee(ctx, ticket))
