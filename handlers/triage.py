"""登记 P7 [类别] / 忽略 P7: a cadre decides a message the classifier was unsure about (handlers/reports.py).

登记 opens the ticket as if the message had just been reported (or joins the open ticket it repeats): the
group where it was written gets the usual public reply, mentioning the resident. 忽略 says nothing in public.
Either decision stays on the triage item, and `storage.examples` exports both as labelled examples.
"""

from __future__ import annotations

from handlers import texts
from handlers.commands import Command
from handlers.context import Context
from handlers.reports import register as open_registered
from ledger.messages import Outgoing
from storage.models import TriageItem
from storage.triage import Decision, decide, get_item


def register(ctx: Context, command: Command) -> list[Outgoing]:
    item = _decidable(ctx, command)
    if isinstance(item, Outgoing):
        return [item]
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach cadre commands
    words = command.argument.split()
    if words:
        category = ctx.settings.category_by_name(words[0].strip("【】[]「」"))
        if category is None:
            names = "、".join(c.name for c in ctx.settings.categories)
            return [ctx.reply(texts.TRIAGE_UNKNOWN_CATEGORY.format(name=words[0], names=names, item=item.id))]
    else:
        category = ctx.settings.category(item.category) or ctx.settings.fallback_category
    note = texts.EVENT_TRIAGE_REGISTERED.format(item=item.id, cadre=cadre.name)
    replies, number, joined = open_registered(ctx, item, category, note)
    decide(ctx.session, item, Decision.REGISTERED, by=cadre.id, now=ctx.now, ticket_id=number)
    if joined:
        confirmation = texts.TRIAGE_JOINED.format(item=item.id, number=number)
    else:
        confirmation = texts.TRIAGE_REGISTERED.format(item=item.id, number=number, sender=item.sender_name)
    if ctx.incoming.chat_id == item.chat_id:
        return replies  # the cadre answered in the resident's group: the public reply says it all
    return [*replies, ctx.reply(confirmation, ticket_id=number)]


def ignore(ctx: Context, command: Command) -> list[Outgoing]:
    item = _decidable(ctx, command)
    if isinstance(item, Outgoing):
        return [item]
    assert ctx.sender_cadre is not None
    decide(ctx.session, item, Decision.IGNORED, by=ctx.sender_cadre.id, now=ctx.now)
    return [ctx.reply(texts.TRIAGE_IGNORED.format(item=item.id))]


def _decidable(ctx: Context, command: Command) -> TriageItem | Outgoing:
    """The item the command names, or the reply saying why it cannot be decided (unknown, decided, not yours)."""
    cadre = ctx.sender_cadre
    assert cadre is not None and command.ticket is not None
    item = get_item(ctx.session, command.ticket)
    if item is None:
        return ctx.reply(texts.TRIAGE_UNKNOWN.format(item=command.ticket))
    if item.decision is not None:
        decided = texts.TRIAGE_DECISIONS[item.decision].format(number=item.ticket_id)
        return ctx.reply(texts.TRIAGE_DECIDED.format(item=item.id, decision=decided, by=_who(ctx, item.decided_by)))
    if not ctx.may_act(cadre, item):
        return ctx.reply(texts.TRIAGE_NOT_YOURS.format(item=item.id, asked=ctx.cadre_name(item.asked_id)))
    return item


def _who(ctx: Context, actor_id: str | None) -> str:
    cadre = ctx.settings.cadre(actor_id) if actor_id else None
    return cadre.name if cadre else ctx.settings.community.bot_name
