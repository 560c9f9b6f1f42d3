"""Partner units (社区点单、部门响应): 派单 / 改派 by a cadre, and 接单 进度 办结 退单 by a unit's members.

A cadre who may act on a ticket (`Context.may_act`) dispatches it to a unit of config `units:` — named by short
name, name or id, or else the category's `default_unit`. The unit is told in its own group (each member privately
when it has none): the problem, the place, the residents' words masked, its deadlines by its own limits, and how
to answer. The cadre stays the ticket's assignee and its deadlines keep chasing them (督办).

The photos attached to the ticket (residents' after their report, a cadre's with a patrol finding, a duplicate's
folded in by 合并: `inbound_message.ticket_id`) follow the order to the same chat(s), each as a forward of the
original message (`Outgoing.forward_message_id`), at most MAX_FORWARDED_PHOTOS of them; the order says how many
follow. A photo attached once the ticket is dispatched (a category with `auto_dispatch` is dispatched before any photo
can come) goes to the unit as it comes, after a line naming the ticket, up to the same limit (`photo_for_unit`). A
photo the platform can no longer forward is replaced by a line saying so (bot/wechaty_transport).

A unit's members write the cadres' words — 接单 12, 进度 12 …, 办结 12 … — and act as the unit, on the tickets
dispatched to it only; the residents' group hears the progress naming the unit (`#12 已由 幸福里物业 张师傅 签收`).
退单 12 原因 hands the ticket back: the unit is taken off and the assignee is told privately.

Every change goes through `storage.tickets.apply_action`: `dispatch`, `redispatch` and `unit_return` are updates
that keep the ticket's state and record `unit_id` / `dispatched_at` in the event's changes.

The unit's own limits (`ledger.deadlines.unit_due`: its limits else the category's, counted from the dispatch, in
its `working_hours` only when it has them) are set at 派单 and 改派 (`unit_response_due_at`,
`unit_resolution_due_at`, with `unit_first_response_at` cleared: a new unit answers afresh) and cleared at 退单;
the unit's first answer (接单 进度 办结 退单 by a member) stamps `unit_first_response_at` once. jobs/sla.py chases them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import select

from handlers import texts
from handlers.commands import COMMANDS, Command, CommandName
from handlers.context import Context, UnitSender
from handlers.router import CommandHandler
from handlers.views import category_name, find_ticket
from ledger.deadlines import unit_due
from ledger.lifecycle import Action, IllegalTransition, Status, next_status
from ledger.messages import MessageKind, Outgoing
from ledger.privacy import mask_text
from ledger.wording import unit_messages
from settings.models import Cadre, Unit
from storage.messages import attachments
from storage.models import Member, Ticket
from storage.tickets import BOT, Actor, active_reporters, apply_action, get_ticket, ticket_events


def by_sender(cadre_handler: CommandHandler, unit_handler: CommandHandler) -> CommandHandler:
    """The handler of a command both cadres and units' members use: a unit's member (never a cadre: config keeps
    their chat ids apart) gets `unit_handler`."""

    def handle(ctx: Context, command: Command) -> list[Outgoing]:
        if ctx.sender_cadre is None and ctx.unit_member is not None:
            return unit_handler(ctx, command)
        return cadre_handler(ctx, command)

    return handle


# Cadres: 派单 and 改派.


def dispatch(ctx: Context, command: Command) -> list[Outgoing]:
    """派单 12 [单位]: send ticket 12 to a unit (without one, its category's default unit)."""
    found = _cadre_ticket(ctx, command, Action.DISPATCH)
    if isinstance(found, list):
        return found
    cadre, ticket = found
    if ticket.unit_id is not None:
        return [ctx.reply(texts.UNIT_ALREADY.format(number=ticket.id, unit=_unit_name(ctx, ticket.unit_id)))]
    unit = _named_unit(ctx, command, ticket)
    if isinstance(unit, Outgoing):
        return [unit]
    return _send(ctx, cadre, ticket, unit, Action.DISPATCH, texts.UNIT_DISPATCHED)


def redispatch(ctx: Context, command: Command) -> list[Outgoing]:
    """改派 12 单位: the dispatched ticket goes to another unit; the first one is told it need not act."""
    found = _cadre_ticket(ctx, command, Action.REDISPATCH)
    if isinstance(found, list):
        return found
    cadre, ticket = found
    if ticket.unit_id is None:
        return [ctx.reply(texts.UNIT_NOT_YET.format(number=ticket.id))]
    unit = _named_unit(ctx, command, ticket)
    if isinstance(unit, Outgoing):
        return [unit]
    if unit.id == ticket.unit_id:
        return [ctx.reply(texts.UNIT_SAME.format(number=ticket.id, unit=unit.name))]
    old = ctx.settings.unit(ticket.unit_id)
    replies = _send(ctx, cadre, ticket, unit, Action.REDISPATCH, texts.UNIT_REDISPATCHED)
    if old is not None:  # the first unit may stop
        withdrawn = texts.UNIT_WITHDRAWN.format(number=ticket.id, unit=unit.name, old=old.name)
        replies += unit_messages(ctx.settings, old, withdrawn, ticket.id)
    return replies


def _cadre_ticket(ctx: Context, command: Command, action: Action) -> tuple[Cadre, Ticket] | list[Outgoing]:
    """The cadre and the ticket they may dispatch, or the reply that says why not."""
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach 派单 and 改派
    if not ctx.settings.units:
        return [ctx.reply(texts.UNIT_NONE_CONFIGURED)]
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    verb = texts.UNIT_VERBS[action.value]
    if not ctx.may_act(cadre, ticket):
        assignee = ctx.cadre_name(ticket.assignee_id)
        return [ctx.reply(texts.NOT_YOUR_TICKET.format(number=ticket.id, assignee=assignee, verb=verb))]
    try:
        next_status(action, Status(ticket.status))
    except IllegalTransition as refused:
        status = texts.STATUS_NAMES[refused.status]
        return [ctx.reply(texts.ILLEGAL_TRANSITION.format(number=ticket.id, status=status, verb=verb))]
    return cadre, ticket


def _named_unit(ctx: Context, command: Command, ticket: Ticket) -> Unit | Outgoing:
    """The unit the command names, else (派单 without one) the category's default unit, or the reply why none."""
    units = "、".join(u.short or u.name for u in ctx.settings.units)
    example = ctx.settings.units[0].short or ctx.settings.units[0].name
    word = COMMANDS[command.name].word
    if command.argument:
        unit = ctx.settings.unit_by_name(command.argument)
        if unit is None:
            return ctx.reply(texts.UNIT_UNKNOWN.format(
                name=command.argument, units=units, word=word, number=ticket.id, example=example,
            ))  # fmt: skip
        return unit
    category = ctx.settings.category(ticket.category)
    unit = ctx.settings.unit(category.default_unit) if category is not None else None
    if unit is None or command.name is not CommandName.DISPATCH:
        name = category_name(ctx, ticket)
        return ctx.reply(texts.UNIT_NO_DEFAULT.format(category=name, units=units, number=ticket.id, example=example))
    return unit


def auto_dispatch(ctx: Context, ticket: Ticket) -> tuple[Unit, list[Outgoing]] | None:
    """A new report of a category with `auto_dispatch`: sent to its default unit at once by the bot (the assignee
    stays responsible and is named in the order); the unit and its order, or None when the category has none."""
    category = ctx.settings.category(ticket.category)
    chosen = category.default_unit if category is not None and category.auto_dispatch else None
    unit = ctx.settings.unit(chosen) if chosen else None
    if unit is None:
        return None
    _record(ctx, ticket, unit, Action.DISPATCH, BOT)
    orders, photos = _to_unit(ctx, ticket, unit)
    return unit, [*orders, *photos]


def _record(ctx: Context, ticket: Ticket, unit: Unit, action: Action, actor: Actor) -> None:
    """The dispatch, with the unit's own deadlines from now, through the single writer."""
    changes = {"unit_id": unit.id, **limits_from_now(ctx, ticket, unit)}
    apply_action(ctx.session, ticket, action, actor=actor, now=ctx.now, note=unit.name, changes=changes)


def limits_from_now(ctx: Context, ticket: Ticket, unit: Unit) -> dict[str, dt.datetime | None]:
    """The ticket's changes that start `unit`'s own limits now (`ledger.deadlines.unit_due`), its first answer not
    given yet: at 派单 and 改派, and again when a dispatched ticket is reopened."""
    response_due, resolution_due = unit_due(ctx.settings, unit, ctx.settings.category(ticket.category), ctx.now)
    return {
        "dispatched_at": ctx.now, "unit_response_due_at": response_due, "unit_resolution_due_at": resolution_due,
        "unit_first_response_at": None,
    }  # fmt: skip


def _send(
    ctx: Context, cadre: Cadre, ticket: Ticket, unit: Unit, action: Action, announcement: str
) -> list[Outgoing]:
    """Record the dispatch, tell the residents' group and send the order to the unit."""
    _record(ctx, ticket, unit, action, Actor(cadre.id, cadre.name))
    text = announcement.format(number=ticket.id, unit=unit.name, cadre=cadre.name)
    to_unit, photos = _to_unit(ctx, ticket, unit)
    public, *elsewhere = ctx.announce(ticket, text)
    if elsewhere:  # the cadre wrote in another chat: their copy also says where the order went
        where = "、".join(
            o.chat_name if not o.is_private else texts.UNIT_PRIVATE_CHAT.format(name=o.chat_name) for o in to_unit
        )
        elsewhere = [ctx.reply(text + texts.UNIT_SENT_TO.format(where=where), ticket_id=ticket.id)]
    return [public, *to_unit, *photos, *elsewhere]


PHOTO_KINDS = (MessageKind.IMAGE.value,)
"""What is forwarded: photos, and videos (the wechaty transport reads both as images); not voice notes or files."""
MAX_FORWARDED_PHOTOS = 9
"""At most this many of a ticket's photos follow its order (the first ones received; WeChat shows nine to a post)."""


def _to_unit(ctx: Context, ticket: Ticket, unit: Unit) -> tuple[list[Outgoing], list[Outgoing]]:
    """The order to the unit, and the forwards of the ticket's photos that follow it to the same chat(s)."""
    assert ticket.id is not None
    photos = attachments(ctx.session, ticket.id, PHOTO_KINDS)
    cadre = ctx.cadre_name(ticket.assignee_id)
    chosen = photos[:MAX_FORWARDED_PHOTOS]
    orders = unit_messages(ctx.settings, unit, _order(ctx, ticket, unit, photos_line(len(photos), cadre)), ticket.id)
    unavailable = [
        texts.UNIT_PHOTO_UNAVAILABLE.format(number=ticket.id, index=index, cadre=cadre)
        for index in range(1, len(chosen) + 1)
    ]
    return orders, forwards(orders, list(zip(chosen, unavailable, strict=True)))


def photo_for_unit(ctx: Context, ticket: Ticket) -> list[Outgoing]:
    """The photo just attached to `ticket` (`ctx.incoming`), for the unit the ticket is dispatched to: a line naming
    the ticket, then the photo, to the order's chat(s); nothing when the ticket is with no unit, the attachment is not
    a photo or video, or the ticket's photos are past MAX_FORWARDED_PHOTOS."""
    unit = ctx.settings.unit(ticket.unit_id) if ticket.unit_id else None
    if unit is None or ctx.incoming.kind.value not in PHOTO_KINDS:
        return []
    assert ticket.id is not None
    index = len(attachments(ctx.session, ticket.id, PHOTO_KINDS))
    if index > MAX_FORWARDED_PHOTOS:
        return []
    lines = unit_messages(ctx.settings, unit, texts.UNIT_PHOTO_ADDED.format(number=ticket.id, index=index), ticket.id)
    cadre = ctx.cadre_name(ticket.assignee_id)
    unavailable = texts.UNIT_PHOTO_UNAVAILABLE.format(number=ticket.id, index=index, cadre=cadre)
    return [*lines, *forwards(lines, [(ctx.incoming.message_id, unavailable)])]


def photos_line(total: int, cadre: str, limit: int = MAX_FORWARDED_PHOTOS) -> str:
    """The order's line on the photos that follow it: none, all `total`, or the first `limit` of them."""
    if total == 0:
        return ""
    if total > limit:
        return texts.UNIT_ORDER_PHOTOS_CAPPED.format(total=total, count=limit, cadre=cadre)
    return texts.UNIT_ORDER_PHOTOS.format(count=total)


def forwards(orders: Sequence[Outgoing], photos: Sequence[tuple[str, str]]) -> list[Outgoing]:
    """A forward of each photo (message id, the text sent in its place if it can no longer be forwarded) to the
    chat of each order, in order: the photos follow the order wherever it went."""
    return [
        Outgoing(
            order.chat_id, unavailable, order.chat_name, is_private=order.is_private, ticket_id=order.ticket_id,
            forward_message_id=message_id,
        )
        for order in orders
        for message_id, unavailable in photos
    ]  # fmt: skip


def _order(ctx: Context, ticket: Ticket, unit: Unit, photos: str) -> str:
    """What the unit reads: the problem, the place, the residents' words masked, how many photos follow, its
    deadlines and how to answer."""
    category = ctx.settings.category(ticket.category)
    response_due, resolution_due = ticket.unit_response_due_at, ticket.unit_resolution_due_at
    if response_due is None or resolution_due is None:  # always set by _send; computed again to be safe
        response_due, resolution_due = unit_due(ctx.settings, unit, category, ticket.dispatched_at or ctx.now)
    reporters = [r.member_name for r in active_reporters(ctx.session, ticket.id)]
    staff = {c.name for c in ctx.settings.cadres} | {m.name for u in ctx.settings.units for m in u.members}
    names = frozenset({*ctx.session.exec(select(Member.name)), *reporters} - staff)
    return texts.UNIT_ORDER.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        text=mask_text(ticket.description, names), photos=photos,
        response_due=texts.format_time(response_due, ctx.tz),
        resolution_due=texts.format_time(resolution_due, ctx.tz),
        cadre=ctx.cadre_name(ticket.assignee_id),
    )


def _unit_name(ctx: Context, unit_id: str) -> str:
    unit = ctx.settings.unit(unit_id)
    return unit.name if unit else unit_id


# Units' members: 接单 进度 办结 退单, on the tickets dispatched to their unit.


def accept(ctx: Context, command: Command) -> list[Outgoing]:
    """The unit signs for the ticket: 签收 when nobody has yet (the cadre stays the assignee), else a progress
    note, as the cadre may have signed before dispatching. Once per dispatch."""
    found = _unit_ticket(ctx, command, Action.ACCEPT)
    if isinstance(found, list):
        return found
    sender, ticket = found
    if _signed_since_dispatch(ctx, ticket, sender.unit):
        return [ctx.reply(texts.UNIT_SIGNED_ALREADY.format(number=ticket.id, unit=sender.unit.name))]
    try:
        next_status(Action.ACCEPT, Status(ticket.status))
        action, note = Action.ACCEPT, ""
    except IllegalTransition:
        action, note = Action.PROGRESS, texts.UNIT_ACCEPT_NOTE.format(unit=sender.unit.name)
    return _unit_act(ctx, sender, ticket, action, texts.ACCEPTED, note=note)


def progress(ctx: Context, command: Command) -> list[Outgoing]:
    found = _unit_ticket(ctx, command, Action.PROGRESS)
    if isinstance(found, list):
        return found
    sender, ticket = found
    return _unit_act(ctx, sender, ticket, Action.PROGRESS, texts.PROGRESS, note=command.argument)


def resolve(ctx: Context, command: Command) -> list[Outgoing]:
    """The unit resolves: residents are asked to rate, and the assignee (still responsible) is told privately."""
    found = _unit_ticket(ctx, command, Action.RESOLVE)
    if isinstance(found, list):
        return found
    sender, ticket = found
    replies = _unit_act(ctx, sender, ticket, Action.RESOLVE, texts.RESOLVED, note=command.argument)
    if ticket.status == Status.RESOLVED.value:
        text = texts.UNIT_RESOLVED.format(number=ticket.id, actor=sender.actor.name, note=command.argument)
        replies += _to_assignee(ctx, ticket, text)
    return replies


def unit_return(ctx: Context, command: Command) -> list[Outgoing]:
    """退单 12 原因: the unit hands the ticket back; the assignee is told privately and stays responsible."""
    found = _unit_ticket(ctx, command, Action.UNIT_RETURN)
    if isinstance(found, list):
        return found
    sender, ticket = found
    verb = texts.UNIT_VERBS[Action.UNIT_RETURN.value]
    try:
        apply_action(
            ctx.session, ticket, Action.UNIT_RETURN, actor=sender.actor, now=ctx.now, note=command.argument,
            changes={
                "unit_id": None, "dispatched_at": None, "unit_response_due_at": None, "unit_resolution_due_at": None,
                **_first_answer(ctx, ticket),
            },
        )
    except IllegalTransition as refused:
        status = texts.STATUS_NAMES[refused.status]
        return [ctx.reply(texts.ILLEGAL_TRANSITION.format(number=ticket.id, status=status, verb=verb))]
    returned = texts.UNIT_RETURNED.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        actor=sender.actor.name, note=command.argument,
    )
    assignee = ctx.cadre_name(ticket.assignee_id)
    confirm = ctx.reply(texts.UNIT_RETURN_CONFIRM.format(number=ticket.id, assignee=assignee), ticket_id=ticket.id)
    return [confirm, *_to_assignee(ctx, ticket, returned)]


def _unit_ticket(ctx: Context, command: Command, action: Action) -> tuple[UnitSender, Ticket] | list[Outgoing]:
    """The sender's unit and the ticket, when it is dispatched to that unit; else the polite refusal (which says
    the same for a ticket that does not exist: a unit learns nothing of the tickets that are not its own)."""
    sender = ctx.unit_member
    assert sender is not None  # the router lets only units' members reach these handlers
    ticket = get_ticket(ctx.session, command.ticket) if command.ticket is not None else None
    if ticket is None or ticket.unit_id != sender.unit.id:
        verb = texts.UNIT_VERBS.get(action.value) or texts.ACTION_VERBS[action.value]
        return [ctx.reply(texts.UNIT_NOT_DISPATCHED.format(number=command.ticket, unit=sender.unit.name, verb=verb))]
    return sender, ticket


def _unit_act(
    ctx: Context, sender: UnitSender, ticket: Ticket, action: Action, announcement: str, *, note: str
) -> list[Outgoing]:
    """Apply the unit's action (a public response, as a cadre's is) and announce it naming the unit."""
    try:
        apply_action(
            ctx.session, ticket, action, actor=sender.actor, now=ctx.now, note=note, responding=True,
            changes=_first_answer(ctx, ticket),
        )
    except IllegalTransition as refused:
        status, verb = texts.STATUS_NAMES[refused.status], texts.ACTION_VERBS[action.value]
        return [ctx.reply(texts.ILLEGAL_TRANSITION.format(number=ticket.id, status=status, verb=verb))]
    text = announcement.format(number=ticket.id, cadre=sender.actor.name, note=note)
    public, *elsewhere = ctx.announce(ticket, text)
    if elsewhere:  # the unit's group hears that the residents were told, not the residents' own instructions
        told = texts.UNIT_TOLD_PRIVATELY if ticket.chat_is_private else texts.UNIT_TOLD
        elsewhere = [ctx.reply(told.format(number=ticket.id, chat=ticket.chat_name), ticket_id=ticket.id)]
    return [public, *elsewhere]


def _first_answer(ctx: Context, ticket: Ticket) -> dict[str, object]:
    """The change that stamps the unit's first answer since the dispatch, once."""
    return {"unit_first_response_at": ctx.now} if ticket.unit_first_response_at is None else {}


def _signed_since_dispatch(ctx: Context, ticket: Ticket, unit: Unit) -> bool:
    """Whether a member of `unit` has signed (or acted on) the ticket since it was dispatched to the unit."""
    members = {m.chat_id for m in unit.members}
    since = ticket.dispatched_at
    return any(
        e.actor_id in members and (since is None or e.at >= since)
        for e in ticket_events(ctx.session, ticket.id)
        if e.action in (Action.ACCEPT.value, Action.PROGRESS.value, Action.RESOLVE.value)
    )


def _to_assignee(ctx: Context, ticket: Ticket, text: str) -> list[Outgoing]:
    """`text` privately to the ticket's assignee (the cadre who stays responsible)."""
    cadre = ctx.settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    if cadre is None:
        return []
    return [Outgoing(cadre.chat_id, text, cadre.name, is_private=True, ticket_id=ticket.id)]


def help_lines(sender: UnitSender) -> list[str]:
    """What a unit's member may use: the commands marked for units."""
    header = texts.HELP_UNIT_HEADER.format(unit=sender.unit.name)
    return [header, *(spec.usage for spec in COMMANDS.values() if spec.units)]
