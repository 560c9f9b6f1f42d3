"""Patrol findings (巡查上报 / 随手拍): a cadre's own `上报` on the rounds, and `公开` to tell the residents.

Grid workers find problems themselves ("每日巡、经常访、及时记、随手做、实时报"); 12345 counts such 主动发现 beside
residents' calls. `上报 3号楼 井盖松动` (in the cadres' group, in private, or anywhere else a cadre writes it) opens a
ticket like a resident's report — the place read by `nlp.places`, the category by the classifier (an unsure one
filed under 其他 with a private 改类 hint), assigned to the cadre on duty of the place's grid and timed by the
category (handlers/reports.py `open_report`) — with `source: patrol` and the cadre as its reporter. `上报 自办 …`
assigns it to the cadre who found it. No resident is mentioned: the reply goes to the cadre, and the assignee, when
another cadre, is told privately. A photo the cadre sends just before or after goes with it (handlers/attachments.py).

Residents do not see it until `公开 12`: the wall and Open311 leave it out (storage/board_queries.py `is_public`), and
its announcements go to the chat where it was reported, because that is its `chat_id`. `公开` posts it once to every
residents' group covering its grid and moves its `chat_id` to the first of them (the one covering fewest grids) in the
same `publish` event that sets `published_at`: from then on `ctx.announce` — and every job that announces — tells
that residents' group, and the ticket's public page shows what was posted there.
"""

from __future__ import annotations

from dataclasses import replace

from handlers import texts
from handlers.attachments import describe_attachments, waiting_attachments
from handlers.commands import COMMANDS, Command, CommandName
from handlers.context import Context
from handlers.reports import Source, categorised, open_report, uncertain_alert, uncertain_guess
from handlers.views import category_name, find_ticket
from ledger.deadlines import describe_minutes, shift_windows
from ledger.lifecycle import Action, IllegalTransition
from ledger.messages import Outgoing
from nlp.classification import Intent
from nlp.places import normalise_building, place_index
from settings.models import ChatGroup, GroupKind
from storage.messages import attach
from storage.tickets import Actor, apply_action

PATROL = "patrol"
SELF = "自办"  # 上报 自办 …: the cadre who found it handles it


def report(ctx: Context, command: Command) -> list[Outgoing]:
    """上报 [自办] 地点 问题: open a patrol finding, assigned by the rules or to the reporter. (From a resident,
    `上报 …` is no command but a report addressed to the bot: `CommandSpec.others_report`.)"""
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach cadre commands
    words = command.argument.split(maxsplit=1)
    own = bool(words) and words[0] == SELF
    text = (words[1] if len(words) > 1 else "") if own else command.argument
    found = _place_and_problem(ctx, text)
    if found is None:
        usage = COMMANDS[CommandName.PATROL].usage
        return [ctx.reply(texts.PATROL_NEEDS_PROBLEM + texts.SYNTAX.format(usage=usage))]
    location, grid_id, problem = found
    verdict = ctx.classifier.classify(text)  # the words as a resident would have written them
    verdict = replace(verdict, intent=Intent.REPORT, location=location, grid_id=grid_id)  # a cadre says it is one
    category, uncertain = categorised(ctx, verdict)
    incoming = ctx.incoming
    source = Source(problem, incoming.chat_id, incoming.chat_name, incoming.is_private, ctx.sender)
    duty = ctx.duty(grid_id)
    assignee = cadre if own else duty.cadre
    attached = waiting_attachments(ctx)  # before the ticket opens: what no other 上报 took
    ticket = open_report(
        ctx, source, verdict, category, grid_id=grid_id, assignee_id=assignee.id, uncertain=uncertain,
        fields={"source": PATROL},
    )  # fmt: skip
    assert ticket.id is not None
    attach(ctx.session, [message_id for message_id, _ in attached], ticket.id)
    if assignee.id == cadre.id:  # the finder handles it: signed for at once, no first response to chase
        apply_action(
            ctx.session, ticket, Action.ACCEPT, actor=Actor(cadre.id, cadre.name), now=ctx.now, responding=True
        )
    kinds = [kind for _, kind in attached]
    attached_text = texts.PATROL_ATTACHED.format(what=describe_attachments(kinds)) if attached else ""
    windows = shift_windows(ctx.settings, category, grid_id)
    response = (
        texts.BY_TIME.format(time=texts.format_time(ticket.response_due_at, ctx.tz)) if windows is not None
        else texts.WITHIN.format(duration=describe_minutes(category.first_response_minutes))
    )  # fmt: skip
    fields = {
        "number": ticket.id, "category": category.name, "place": texts.place_text(location),
        "assignee": assignee.name, "duty": "" if assignee.id != duty.cadre.id else texts.DUTY_LABELS[duty.source.value],
        "response": response, "attached": attached_text,
    }  # fmt: skip
    hint = texts.PATROL_PUBLISH_HINT.format(number=ticket.id)
    template = texts.PATROL_OPENED_SELF if assignee.id == cadre.id else texts.PATROL_OPENED
    replies = [ctx.reply(template.format(**fields) + hint, ticket_id=ticket.id)]
    if assignee.id != cadre.id:
        told = texts.PATROL_ASSIGNED.format(**fields, reporter=cadre.name, text=problem)
        replies.append(Outgoing(assignee.chat_id, told, assignee.name, is_private=True, ticket_id=ticket.id))
    if uncertain:
        alert = uncertain_alert(ticket, category, uncertain_guess(ctx, verdict, category), problem)
        replies.append(Outgoing(assignee.chat_id, alert, assignee.name, is_private=True, ticket_id=ticket.id))
    return replies


def publish(ctx: Context, command: Command) -> list[Outgoing]:
    """公开 12: post a patrol finding once to the residents' group(s) of its grid; it is theirs from then on."""
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach cadre commands
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    if not ctx.may_act(cadre, ticket):
        assignee = ctx.cadre_name(ticket.assignee_id)
        verb = texts.PATROL_VERB_PUBLISH
        return [ctx.reply(texts.NOT_YOUR_TICKET.format(number=ticket.id, assignee=assignee, verb=verb))]
    if ticket.source != PATROL:
        return [ctx.reply(texts.PATROL_NOT_PATROL.format(number=ticket.id))]
    if ticket.published_at is not None:
        when = texts.format_time(ticket.published_at, ctx.tz)
        return [ctx.reply(texts.PATROL_ALREADY_PUBLIC.format(number=ticket.id, time=when))]
    groups = residents_groups(ctx, ticket.grid_id)
    if not groups:
        return [ctx.reply(texts.PATROL_NO_GROUP.format(number=ticket.id))]
    first = groups[0]
    changes = {"published_at": ctx.now, "chat_id": first.id or first.name, "chat_name": first.name,
               "chat_is_private": False}  # fmt: skip
    try:
        apply_action(ctx.session, ticket, Action.PUBLISH, actor=Actor(cadre.id, cadre.name), now=ctx.now,
                     changes=changes)  # fmt: skip
    except IllegalTransition as refused:
        status, verb = texts.STATUS_NAMES[refused.status], texts.PATROL_VERB_PUBLISH
        return [ctx.reply(texts.ILLEGAL_TRANSITION.format(number=ticket.id, status=status, verb=verb))]
    post = texts.PATROL_PUBLIC.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        text=ticket.description, assignee=ctx.cadre_name(ticket.assignee_id),
    )  # fmt: skip
    replies = [Outgoing(g.id or g.name, post, g.name, ticket_id=ticket.id) for g in groups]
    done = texts.PATROL_PUBLISHED.format(number=ticket.id, groups="、".join(g.name for g in groups))
    return [*replies, ctx.reply(done, ticket_id=ticket.id)]


def _place_and_problem(ctx: Context, text: str) -> tuple[str, str | None, str] | None:
    """(place, its grid, the problem) of `3号楼 井盖松动`, `3号楼东门井盖松动` or `北门外 井盖松动` (a first word
    `nlp.places` does not know is kept as the place, without a grid); None without a problem or a place."""
    index = place_index(ctx.settings)
    words = text.split(maxsplit=1)
    first = index.extract(words[0]) if len(words) == 2 else None
    if first is not None:
        return first.text, first.grid_id, words[1]
    inside = index.extract(text)
    if inside is not None:
        return (inside.text, inside.grid_id, text) if normalise_building(text) != inside.text else None
    return (words[0], None, words[1]) if len(words) == 2 else None


def residents_groups(ctx: Context, grid_id: str | None) -> list[ChatGroup]:
    """The residents' groups covering `grid_id`, the one covering fewest grids first (the ticket's home from 公开)."""
    if grid_id is None:
        return []
    found = [g for g in ctx.settings.groups if g.kind is GroupKind.RESIDENTS and grid_id in g.grids]
    return sorted(found, key=lambda g: len(g.grids))
