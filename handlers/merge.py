"""合并: a cadre folds a duplicate ticket into the one that already tracks the same problem.

`合并 13 1` moves #13's reporters to #1, each with their own words on the `join` event (what they wrote on
#13), and #13's photos and other attachments (a dispatch of #1 forwards them), closes #13 as `merged` (not
cancelled: nobody's report was false) and tells #13's reporters, in #13's chat, where their report now lives and
who is responsible. The cadre must be one who may act on #13 or on #1 (whoever takes the reporters on may fold a
duplicate into their ticket); both tickets must still be open.
"""

from __future__ import annotations

import re

from handlers import texts
from handlers.commands import COMMANDS, Command, CommandName
from handlers.context import Context
from handlers.views import find_ticket
from ledger.lifecycle import OPEN_STATES, Action, Status
from ledger.messages import Outgoing
from storage.messages import move_attachments
from storage.models import Ticket
from storage.tickets import Actor, active_reporters, add_reporter, apply_action, ticket_events

_NUMBER = re.compile(r"#?\s*([0-9]{1,10})")


def merge(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach this handler
    target_number = _target_number(command.argument)
    if target_number is None:
        return [ctx.reply(texts.SYNTAX.format(usage=COMMANDS[CommandName.MERGE].usage))]
    duplicate = find_ticket(ctx, command.ticket)
    if isinstance(duplicate, Outgoing):
        return [duplicate]
    target = find_ticket(ctx, target_number)
    if isinstance(target, Outgoing):
        return [target]
    if duplicate.id == target.id:
        return [ctx.reply(texts.MERGE_SAME.format(number=duplicate.id))]
    if not (ctx.may_act(cadre, duplicate) or ctx.may_act(cadre, target)):
        assignee = ctx.cadre_name(duplicate.assignee_id)
        verb = texts.ACTION_VERBS["merge"]
        return [ctx.reply(texts.NOT_YOUR_TICKET.format(number=duplicate.id, assignee=assignee, verb=verb))]
    for ticket in (duplicate, target):
        if Status(ticket.status) not in OPEN_STATES:
            status = texts.STATUS_NAMES[Status(ticket.status)]
            return [ctx.reply(texts.MERGE_NOT_OPEN.format(number=ticket.id, status=status))]
    moved = _move_reporters(ctx, duplicate, target)
    assert duplicate.id is not None and target.id is not None
    move_attachments(ctx.session, duplicate.id, target.id)
    apply_action(
        ctx.session, duplicate, Action.MERGE, actor=Actor(cadre.id, cadre.name), now=ctx.now,
        note=texts.EVENT_MERGED.format(target=target.id), responding=True,
    )
    notice = texts.MERGED_NOTICE.format(target=target.id, assignee=ctx.cadre_name(target.assignee_id))
    replies = ctx.announce(duplicate, notice)
    confirm = texts.MERGED_CONFIRM.format(number=duplicate.id, target=target.id, cadre=cadre.name, count=moved)
    if duplicate.chat_id != ctx.incoming.chat_id:
        replies = [replies[0], ctx.reply(confirm, ticket_id=target.id)]
    return replies


def _target_number(argument: str) -> int | None:
    found = _NUMBER.search(argument)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def _move_reporters(ctx: Context, duplicate: Ticket, target: Ticket) -> int:
    """Add each active reporter of `duplicate` to `target` with their own words; how many were new to it."""
    words = _words_of_reporters(ctx, duplicate)
    moved = 0
    for reporter in active_reporters(ctx.session, duplicate.id):
        text = texts.EVENT_MERGED_FROM.format(number=duplicate.id, text=words.get(reporter.member_id, ""))
        actor = Actor(reporter.member_id, reporter.member_name)
        moved += add_reporter(ctx.session, target, actor, now=ctx.now, note=text)
    return moved


def _words_of_reporters(ctx: Context, ticket: Ticket) -> dict[str, str]:
    """What each reporter wrote: the ticket's text for whoever opened it, their join note for the others."""
    words: dict[str, str] = {}
    for event in ticket_events(ctx.session, ticket.id):
        if event.action == Action.CREATE.value:
            words[event.actor_id] = ticket.description
        elif event.action == Action.JOIN.value and event.note:
            words.setdefault(event.actor_id, event.note)
    return words
