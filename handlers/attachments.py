"""Photos, voice notes, files, links and mini-programs: attach to the sender's open report, or ask for words.

A resident who reported a problem often sends the photo right after. Such a message is attached to the
latest open ticket they reported within the merge window: the reply names the ticket and @-mentions its
assignee, so the cadre sees the photo where it was posted (the ledger keeps the message id and kind in
`inbound_message`; the reply row carries the ticket number). Without such a ticket, a private message
gets "请用文字描述问题"; in a group a photo alone stays chatter and gets no answer, like stickers.
Cadres' attachments are never answered.
"""

from __future__ import annotations

import datetime as dt

from handlers import texts
from handlers.context import Context
from ledger.lifecycle import Status, is_open
from ledger.messages import MessageKind, Outgoing
from storage.models import Ticket
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


def handle_attachment(ctx: Context) -> list[Outgoing]:
    if ctx.sender_cadre is not None:
        return []
    what = KIND_NAMES[ctx.incoming.kind]
    ticket = latest_open_report(ctx)
    if ticket is None:
        return [ctx.reply(ASK_FOR_TEXT.format(what=what))] if ctx.incoming.is_private else []
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
        return [ctx.reply(text, ticket_id=ticket.id)]
    names = [incoming.sender_name, assignee.name]
    ids = (incoming.sender_id, assignee.chat_id)
    return [
        Outgoing(incoming.chat_id, texts.mention_prefix(names) + text, incoming.chat_name, ids, ticket_id=ticket.id)
    ]
