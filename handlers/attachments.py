"""Photos, voice notes, files, links and mini-programs: attach to the sender's open report, or ask for words.

A resident who reported a problem often sends the photo right after. Such a message is attached to the
latest open ticket they reported within the merge window: the reply names the ticket and @-mentions its
assignee, so the cadre sees the photo where it was posted (the ledger keeps the message id and kind in
`inbound_message`, with the ticket it was attached to; the reply row carries the ticket number). A dispatch to a
partner unit forwards the ticket's photos, and a photo attached to a ticket already dispatched goes to its unit too
(handlers/units.py). Without such a ticket, a private message
gets "请用文字描述问题"; in a group a photo alone stays chatter and gets no answer, like stickers.
A cadre's attachment goes with their patrol finding (`上报`, handlers/patrol.py) instead: a photo sent within
`PATROL_PHOTO_WINDOW` after their 上报, in the same chat, is attached to it (the reply carries its number); one sent
before any such 上报 waits, and the next 上报 from that chat within the window takes it (`waiting_attachments`); either
way it is attached to the finding's ticket.
Other cadre attachments are never answered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlmodel import col, select

from handlers import texts
from handlers.context import Context
from handlers.units import photo_for_unit
from ledger.lifecycle import Status, is_open
from ledger.messages import MessageKind, Outgoing
from storage.messages import attach
from storage.models import InboundMessage, Ticket
from storage.tickets import tickets_reported_by

KIND_NAMES = {
    MessageKind.IMAGE: "图片",
    MessageKind.VOICE: "语音",
    MessageKind.FILE: "文件",
    MessageKind.LINK: "链接",
    MessageKind.MINI_PROGRAM: "小程序",
}
ASK_FOR_TEXT = "请用文字描述问题（哪栋楼、什么位置、什么情况），{what}回音看不懂，谢谢！"
ATTACHED = "收到您发的{what}，已附在 #{number}【{category}】{location}下，负责人 {assignee} 会一并查看。"


def is_attachment(ctx: Context) -> bool:
    return ctx.incoming.kind in KIND_NAMES


def latest_open_report(ctx: Context) -> Ticket | None:
    """The newest open ticket the sender reported within the merge window."""
    since = ctx.now - dt.timedelta(hours=ctx.settings.tickets.merge_window_hours)
    for ticket in tickets_reported_by(ctx.session, ctx.incoming.sender_id):
        if is_open(Status(ticket.status)) and ticket.created_at >= since:
            return ticket
    return None


PATROL_PHOTO_WINDOW = dt.timedelta(minutes=10)
"""How far apart a cadre's photo and their 上报 may be, either way round, to go together."""
PATROL = "patrol"


def handle_attachment(ctx: Context) -> list[Outgoing]:
    if ctx.sender_cadre is not None:
        return _attach_to_patrol(ctx)
    what = KIND_NAMES[ctx.incoming.kind]
    ticket = latest_open_report(ctx)
    if ticket is None:
        return [ctx.reply(ASK_FOR_TEXT.format(what=what))] if ctx.incoming.is_private else []
    assert ticket.id is not None
    attach(ctx.session, [ctx.incoming.message_id], ticket.id)
    category = ctx.settings.category(ticket.category)
    assignee = ctx.settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    text = ATTACHED.format(
        what=what,
        number=ticket.id,
        category=category.name if category else ticket.category,
        location=ticket.location or "",
        assignee=assignee.name if assignee else ctx.cadre_name(None),
    )
    incoming = ctx.incoming
    if incoming.is_private or assignee is None:
        return [ctx.reply(text, ticket_id=ticket.id), *photo_for_unit(ctx, ticket)]
    names = [incoming.sender_name, assignee.name]
    ids = (incoming.sender_id, assignee.chat_id)
    return [
        Outgoing(incoming.chat_id, texts.mention_prefix(names) + text, incoming.chat_name, ids, ticket_id=ticket.id),
        *photo_for_unit(ctx, ticket),
    ]


def _patrol_tickets(ctx: Context) -> list[Ticket]:
    """The sender's patrol findings reported in this chat, newest first (the last few they reported)."""
    chat = ctx.incoming.chat_id
    reported = tickets_reported_by(ctx.session, ctx.incoming.sender_id)
    return [t for t in reported if t.source == PATROL and t.chat_id == chat]


def _taken_by(patrols: list[Ticket], at: dt.datetime) -> Ticket | None:
    """The patrol finding an attachment received `at` went with: the newest reported within the window before it."""
    return next((t for t in patrols if at - PATROL_PHOTO_WINDOW <= t.created_at <= at), None)


def _attach_to_patrol(ctx: Context) -> list[Outgoing]:
    """A cadre's photo right after their 上报 is attached to it; otherwise it waits for a 上报 (nothing is said)."""
    ticket = _taken_by(_patrol_tickets(ctx), ctx.now)
    if ticket is None or not is_open(Status(ticket.status)):
        return []
    assert ticket.id is not None
    attach(ctx.session, [ctx.incoming.message_id], ticket.id)
    category = ctx.settings.category(ticket.category)
    text = texts.PATROL_PHOTO_ATTACHED.format(
        what=KIND_NAMES[ctx.incoming.kind], number=ticket.id, category=category.name if category else ticket.category,
        place=texts.place_text(ticket.location),
    )
    incoming = ctx.incoming
    assignee = ctx.settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    if incoming.is_private or assignee is None or assignee.chat_id == incoming.sender_id:
        return [ctx.reply(text, ticket_id=ticket.id), *photo_for_unit(ctx, ticket)]
    names, ids = [incoming.sender_name, assignee.name], (incoming.sender_id, assignee.chat_id)
    return [
        Outgoing(incoming.chat_id, texts.mention_prefix(names) + text, incoming.chat_name, ids, ticket_id=ticket.id),
        *photo_for_unit(ctx, ticket),
    ]


def waiting_attachments(ctx: Context) -> list[tuple[str, MessageKind]]:
    """What the sender (a cadre writing 上报, asked before its ticket opens) sent in this chat within the window that
    no other 上报 took: the attachments (message id, kind) the new finding gets, oldest first."""
    since = ctx.now - PATROL_PHOTO_WINDOW
    rows = ctx.session.exec(
        select(InboundMessage.message_id, InboundMessage.kind, InboundMessage.received_at)
        .where(
            InboundMessage.sender_id == ctx.incoming.sender_id,
            InboundMessage.chat_id == ctx.incoming.chat_id,
            col(InboundMessage.received_at) >= since,
            col(InboundMessage.kind).in_([kind.value for kind in KIND_NAMES]),
        )
        .order_by(col(InboundMessage.received_at))
    ).all()
    patrols = _patrol_tickets(ctx) if rows else []
    # Taken: by a 上报 within the window before it (attached when it came), or by one within the window after it.
    return [
        (message_id, MessageKind(kind)) for message_id, kind, at in rows
        if not any(at - PATROL_PHOTO_WINDOW <= t.created_at <= at + PATROL_PHOTO_WINDOW for t in patrols)
    ]  # fmt: skip


def describe_attachments(kinds: list[MessageKind]) -> str:
    """`图片`, `图片2张、语音`: what a patrol finding got attached, for the reply."""
    parts = []
    for kind, count in Counter(kinds).items():
        parts.append(KIND_NAMES[kind] + (f"{count}{'张' if kind is MessageKind.IMAGE else '条'}" if count > 1 else ""))
    return "、".join(parts)
