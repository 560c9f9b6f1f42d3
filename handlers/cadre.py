"""Cadre commands: 接单 进度 办结 转派 退回 撤销 承诺 我的 值班 换班 查 帮助 (partner units: handlers/units.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from handlers import texts, units
from handlers.commands import COMMANDS, Command
from handlers.context import Context
from handlers.views import find_ticket, public_detail, seen_by_residents, ticket_detail, ticket_line
from ledger.dates import COMMITMENT_DAYS, SWAP_DAYS, format_day, last_day, parse_day
from ledger.lifecycle import Action, IllegalTransition
from ledger.messages import Outgoing
from ledger.rota import on_duty, shifts_of
from settings.models import Cadre, RotaOverride, Settings
from storage.directory import add_swap, swaps
from storage.tickets import (
    Actor,
    apply_action,
    get_ticket,
    open_tickets_assigned_to,
)  # fmt: skip


def _act(
    ctx: Context, command: Command, action: Action, announcement: str, *, changes: dict | None = None,
    note: str = "", also_mention: tuple[Cadre, ...] = (), take_over: bool = False,
) -> list[Outgoing]:
    """Check the cadre may act on the ticket, apply the action, announce it in the ticket's group.

    `take_over`: the acting cadre becomes the assignee (签收 by the cadre on duty of a ticket still with the night
    cadre: reminders and escalations then chase whoever signed)."""
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach these handlers
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    verb = texts.ACTION_VERBS[action.value]
    if not ctx.may_act(cadre, ticket):
        assignee = ctx.cadre_name(ticket.assignee_id)
        return [ctx.reply(texts.NOT_YOUR_TICKET.format(number=ticket.id, assignee=assignee, verb=verb))]
    if take_over and ticket.assignee_id != cadre.id:
        changes = {**(changes or {}), "assignee_id": cadre.id}
    try:
        apply_action(
            ctx.session, ticket, action, actor=Actor(cadre.id, cadre.name), now=ctx.now, note=note,
            changes=changes, responding=True,
        )
    except IllegalTransition as refused:
        status = texts.STATUS_NAMES[refused.status]
        return [ctx.reply(texts.ILLEGAL_TRANSITION.format(number=ticket.id, status=status, verb=verb))]
    text = announcement.format(
        number=ticket.id, cadre=cadre.name, note=note, assignee=ctx.cadre_name(ticket.assignee_id)
    )
    return ctx.announce(ticket, text, also_mention=also_mention)


def accept(ctx: Context, command: Command) -> list[Outgoing]:
    return _act(ctx, command, Action.ACCEPT, texts.ACCEPTED, take_over=True)


def progress(ctx: Context, command: Command) -> list[Outgoing]:
    return _act(ctx, command, Action.PROGRESS, texts.PROGRESS, note=command.argument)


def resolve(ctx: Context, command: Command) -> list[Outgoing]:
    """办结; residents are asked to rate — except for a patrol finding (上报), which no resident reported."""
    ticket = get_ticket(ctx.session, command.ticket) if command.ticket is not None else None
    template = texts.RESOLVED_FINDING if ticket is not None and ticket.source == "patrol" else texts.RESOLVED
    return _act(ctx, command, Action.RESOLVE, template, note=command.argument)


def return_ticket(ctx: Context, command: Command) -> list[Outgoing]:
    return _act(ctx, command, Action.RETURN, texts.RETURNED, note=command.argument)


def cancel(ctx: Context, command: Command) -> list[Outgoing]:
    """A cadre's 撤销, with the cadre's reason if they give one: nothing calls the report 误报 unless the cadre
    writes it (a duplicate is merged with 合并 instead)."""
    template = texts.WITHDRAWN_BY_CADRE if command.argument else texts.WITHDRAWN_BY_CADRE_NO_REASON
    return _act(ctx, command, Action.CANCEL, template, note=command.argument)


def transfer(ctx: Context, command: Command) -> list[Outgoing]:
    target = _mentioned_cadre(ctx, command)
    if target is None:
        return [ctx.reply(texts.UNKNOWN_CADRE.format(name=command.mention or ""))]
    ticket = get_ticket(ctx.session, command.ticket) if command.ticket is not None else None
    if ticket is not None and ticket.assignee_id == target.id:
        return [ctx.reply(texts.TRANSFER_TO_SELF.format(number=ticket.id, assignee=target.name))]
    return _act(
        ctx, command, Action.TRANSFER, texts.TRANSFERRED, changes={"assignee_id": target.id},
        note=command.argument, also_mention=(target,),
    )


def _future_day(ctx: Context, text: str, days: int, too_far: str) -> dt.date | Outgoing:
    """The day `text` names, from today to `days` days ahead, or the reply that says why it is not one
    (`too_far` for a day beyond that)."""
    today = ctx.now.date()
    day = parse_day(text, today)
    if day is None:
        return ctx.reply(texts.BAD_DATE.format(text=text))
    if day < today:
        return ctx.reply(texts.PAST_DATE.format(day=format_day(day, today)))
    last = last_day(today, days)
    if day > last:
        return ctx.reply(too_far.format(day=format_day(day, today), last=format_day(last, today), days=days))
    return day


def commit(ctx: Context, command: Command) -> list[Outgoing]:
    day = _future_day(ctx, command.argument, COMMITMENT_DAYS, texts.COMMITMENT_TOO_FAR)
    if isinstance(day, Outgoing):
        return [day]
    announcement = texts.COMMITTED.replace("{day}", format_day(day, ctx.now.date()))
    return _act(ctx, command, Action.COMMIT, announcement, changes={"commitment_date": day}, note=command.argument)


def _mentioned_cadre(ctx: Context, command: Command) -> Cadre | None:
    """The cadre named after @: by a real mention id when the transport gave one, else by name or alias."""
    for chat_id in ctx.incoming.mentions:
        cadre = ctx.settings.cadre_by_chat_id(chat_id)
        if cadre is not None:
            return cadre
    return ctx.settings.cadre_by_name(command.mention) if command.mention else None


def my_queue(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None
    tickets = open_tickets_assigned_to(ctx.session, cadre.id)
    if not tickets:
        return [ctx.reply(texts.MY_QUEUE_EMPTY.format(cadre=cadre.name))]
    lines = [texts.MY_QUEUE_HEADER.format(cadre=cadre.name, count=len(tickets))]
    lines += [ticket_line(ctx, t) for t in tickets]
    return [ctx.reply("\n".join(lines))]


def on_duty_now(ctx: Context, command: Command) -> list[Outgoing]:
    group = ctx.settings.group(ctx.incoming.chat_id, ctx.incoming.chat_name)
    grid_ids = group.grids if group and group.grids else [g.id for g in ctx.settings.grids]
    overrides = swaps(ctx.session, since=ctx.now.date() - dt.timedelta(days=1))
    header = texts.ON_DUTY_HEADER.format(time=texts.format_time(ctx.now, ctx.tz))
    lines = [header, *duty_lines(ctx.settings, grid_ids, ctx.now, overrides)]
    return [ctx.reply("\n".join(lines), mention_sender=False)]


def duty_lines(
    settings: Settings, grid_ids: Sequence[str], now: dt.datetime, overrides: Sequence[RotaOverride]
) -> list[str]:
    """Who is on duty for each grid at `now`, and why (`第一网格：王芳（网格值班）`)."""
    lines = []
    for grid_id in grid_ids:
        duty = on_duty(settings, grid_id, now, overrides)
        grid = settings.grid(grid_id)
        name, source = grid.name if grid else grid_id, texts.DUTY_SOURCES[duty.source.value]
        lines.append(texts.ON_DUTY_LINE.format(grid=name, cadre=duty.cadre.name, source=source))
    return lines


def swap(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None
    day = _future_day(ctx, command.argument, SWAP_DAYS, texts.SWAP_TOO_FAR)
    if isinstance(day, Outgoing):
        return [day]
    today = ctx.now.date()
    target = _mentioned_cadre(ctx, command)
    if target is None or target.id == cadre.id:
        return [ctx.reply(texts.UNKNOWN_CADRE.format(name=command.mention or ""))]
    if not shifts_of(ctx.settings, cadre.id, day, swaps(ctx.session)):
        return [ctx.reply(texts.NO_SHIFT.format(day=format_day(day, today)))]
    add_swap(ctx.session, date=day, cadre_id=cadre.id, replacement_id=target.id, by=ctx.incoming.sender_id, now=ctx.now)
    text = texts.SWAPPED.format(day=format_day(day, today), cadre=cadre.name, replacement=target.name)
    return [ctx.reply(text, mention_sender=False)]


def show(ctx: Context, command: Command) -> list[Outgoing]:
    """Full details, reporters' real names included, in private and in the cadres' group. In a residents'
    group the group sees only what the progress wall shows and the cadre gets the full details privately."""
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    detail = ticket_detail(ctx, ticket)
    if not seen_by_residents(ctx):
        return [ctx.reply(detail, ticket_id=ticket.id)]
    incoming = ctx.incoming
    return [
        ctx.reply(public_detail(ctx, ticket) + texts.DETAIL_SENT_PRIVATELY, ticket_id=ticket.id),
        Outgoing(incoming.sender_id, detail, incoming.sender_name, is_private=True, ticket_id=ticket.id),
    ]


def help_text(ctx: Context, command: Command) -> list[Outgoing]:
    """The usages from the command table: residents see theirs, cadres see both."""
    resident = [texts.HELP_REPORTING, texts.HELP_RESIDENT_HEADER]
    resident += [spec.usage for spec in COMMANDS.values() if not spec.cadre_only]
    if ctx.sender_cadre is None:
        partner = ctx.unit_member
        if partner is not None:  # a partner unit's member: the unit's commands first
            return [ctx.reply("\n".join([*units.help_lines(partner), *resident]))]
        return [ctx.reply("\n".join(resident))]
    cadre = [texts.HELP_CADRE_HEADER]
    cadre += [spec.usage for spec in COMMANDS.values() if spec.cadre_only and not spec.unit_only]
    return [ctx.reply("\n".join([*cadre, *resident]))]
