"""A resident's message about a problem already in the ledger: answered from the ticket it means, opening nothing.

`nlp.followup` says what the turn is (a progress question, "still not fixed", a thanks); this module finds the
ticket it is about and acts:

1. a ticket named by number (`#2修好了吗`) is the one;
2. else the sender's own tickets, open or resolved within `tickets.follow_up_days`, that the words fit
   (`fits`: no other place, and the same problem or no problem named at all: `我反映的问题修好了吗`) — one
   is answered, several are listed to choose from;
3. else, for a question or a "still not fixed", an open ticket of someone else that names the same problem
   at the same place (or in a grid of the group): the sender joins it as a co-reporter and gets its status.

Then a progress question gets the status; "not fixed" from a reporter reopens a resolved ticket exactly as
`没修好 N` does (from anyone else it is refused, with how to report it again); a thanks from a reporter of
one resolved, unrated ticket rates it 满意 and closes it. A question that clearly asks about a report but
fits no ticket gets a line on how to report. Anything else returns None and the report flow reads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from handlers import notices, resident, texts
from handlers.context import Context
from handlers.views import category_name, latest_note
from ledger.lifecycle import OPEN_STATES, RESOLVED_STATES, Status
from ledger.messages import Outgoing
from nlp.classification import Classification
from nlp.followup import FollowUp, Turn, read_follow_up
from nlp.places import extract_place
from nlp.problems import problems_in
from nlp.similarity import (
    MIN_PROBLEM,
    ReportFacts,
    content_words,
    place_agreement,
    problem_agreement,
    stored_facts,
)  # fmt: skip
from storage.incidents import active_incidents, reported_incidents
from storage.models import Incident, Ticket
from storage.tickets import (
    active_reporters,
    get_ticket,
    join_ticket,
    open_candidates,
    resolved_candidates,
    tickets_reported_by,
)  # fmt: skip

_CHOICES = 5


@dataclass(frozen=True)
class _Message:
    follow_up: FollowUp
    facts: ReportFacts

    @property
    def names_something(self) -> bool:
        """Whether the words say which problem or place they are about."""
        return bool(self.facts.problems or self.facts.words or self.facts.location)


def answer(ctx: Context, classification: Classification) -> list[Outgoing] | None:
    """The replies to a follow-up turn, or None when the message is not one the ledger can answer."""
    follow_up = read_follow_up(ctx.text)
    if follow_up is None:
        return None
    message = _Message(follow_up, _facts(ctx, classification))
    if follow_up.number is not None:
        ticket = get_ticket(ctx.session, follow_up.number)
        if ticket is None:
            return [ctx.reply(texts.UNKNOWN_TICKET.format(number=follow_up.number))]
        return _act(ctx, message, ticket, own=_is_reporter(ctx, ticket), join=False)
    recent = _recent_own(ctx)
    if follow_up.turn is Turn.THANKS:  # thanks rarely name the problem: one unrated resolved ticket, or one that fits
        resolved = [t for t in recent if Status(t.status) in RESOLVED_STATES and not t.rating]
        if len(resolved) > 1:
            resolved = [t for t in resolved if fits(message.facts, t)]
        return _act(ctx, message, resolved[0], own=True) if len(resolved) == 1 else None
    own = [t for t in recent if fits(message.facts, t)]
    if len(own) == 1:
        return _act(ctx, message, own[0], own=True)
    if len(own) > 1:
        return [_choose(ctx, own)]
    if follow_up.own and follow_up.turn is Turn.PROGRESS:  # "my report" may be a known incident (通知) they reported
        incident = _reported_incident(ctx)
        if incident is not None:
            return [ctx.reply(texts.NOTICE_KNOWN.format(line=notices.notice_line(ctx, incident)))]
    if not message.names_something:
        return [ctx.reply(texts.FOLLOW_UP_NO_MATCH)] if follow_up.own else None
    neighbour = _same_problem_elsewhere(ctx, message.facts, resolved_too=follow_up.turn is Turn.NOT_FIXED)
    if neighbour is not None:
        return _act(ctx, message, neighbour, own=False)
    if follow_up.own:
        return [ctx.reply(texts.FOLLOW_UP_NO_MATCH)]
    return None


def fits(message: ReportFacts, ticket: Ticket) -> bool:
    """Whether a follow-up's words may be about `ticket`: no other place, and the same problem — or a message
    that names no problem and no place (`修好了吗`)."""
    if place_agreement(message.location, ticket.location) is None:
        return False
    if not (message.problems or message.words):
        return True
    old = _ticket_facts(ticket)
    return problem_agreement(message, old) >= MIN_PROBLEM or (not message.problems and message.category == old.category)


def _ticket_facts(ticket: Ticket) -> ReportFacts:
    """A ticket's facts from the features stored with it (its text is read only for a ticket stored without)."""
    return stored_facts(ticket.merge_features, ticket.description, ticket.category, ticket.location)


def _facts(ctx: Context, classification: Classification) -> ReportFacts:
    place = classification.location
    if place is None:
        found = extract_place(ctx.text, ctx.settings)
        place = found.text if found else None
    return ReportFacts(content_words(_without_cues(ctx.text)), classification.category, place, problems_in(ctx.text))


def _without_cues(text: str) -> str:
    """The text without the words every follow-up uses (修好, 怎么样, 还是), so they are not taken for the problem."""
    for word in _CUE_WORDS:
        text = text.replace(word, " ")
    return text


_CUE_WORDS = (
    "修好", "弄好", "搞好", "处理", "解决", "怎么样", "咋样", "进展", "进度", "结果", "回复", "答复", "什么时候",
    "啥时候", "多久", "到底", "有没有", "还是", "根本", "反映", "说的", "报的", "前面", "之前", "上次", "谢谢",
    "感谢", "辛苦", "修", "弄", "管", "来人", "人来", "没人", "有人", "通个屁",
)  # fmt: skip


def _recent_own(ctx: Context) -> list[Ticket]:
    """The sender's tickets still open, or resolved or closed within `follow_up_days`, newest first."""
    since = ctx.now - dt.timedelta(days=ctx.settings.tickets.follow_up_days)
    found = []
    for ticket in tickets_reported_by(ctx.session, ctx.incoming.sender_id):
        status = Status(ticket.status)
        ended = ticket.resolved_at or ticket.closed_at
        if status in OPEN_STATES or (status in (Status.RESOLVED, Status.CLOSED) and ended and ended >= since):
            found.append(ticket)
    return found


def _same_problem_elsewhere(ctx: Context, message: ReportFacts, *, resolved_too: bool) -> Ticket | None:
    """An open ticket (with `resolved_too`, also one resolved within `follow_up_days`) naming the same problem in
    the sender's grid (the place's, else the group's when it covers one grid; when neither is known, only a
    ticket without a place): the best, the newest of equals. Compares the tickets' stored features."""
    if not message.problems and not message.words:
        return None
    grid = _grid(ctx, message)
    window = ctx.now - dt.timedelta(hours=ctx.settings.tickets.merge_window_hours)
    candidates = open_candidates(ctx.session, since=window, grid_id=grid, near=message.location, sharing=message)
    if resolved_too:
        since = ctx.now - dt.timedelta(days=ctx.settings.tickets.follow_up_days)
        candidates += resolved_candidates(
            ctx.session, since=since, grid_id=grid, near=message.location, sharing=message
        )
    best, best_score = None, MIN_PROBLEM
    for candidate in candidates:
        old = stored_facts(candidate.features, candidate.description, candidate.category, candidate.location)
        score = problem_agreement(message, old)
        if score >= best_score:
            best, best_score = candidate, score
    return get_ticket(ctx.session, best.id) if best is not None else None


def _grid(ctx: Context, message: ReportFacts) -> str | None:
    """The grid of the message's place, else of its group when the group covers exactly one."""
    if message.location:
        found = extract_place(message.location, ctx.settings)
        if found and found.grid_id:
            return found.grid_id
    group = ctx.settings.group(ctx.incoming.chat_id, ctx.incoming.chat_name)
    return group.grids[0] if group and len(group.grids) == 1 else None


def _reported_incident(ctx: Context) -> Incident | None:
    """The newest incident still going on that the sender reported."""
    going_on = {incident.id: incident for incident in active_incidents(ctx.session, ctx.now)}
    reported = reported_incidents(ctx.session, ctx.incoming.sender_id, list(going_on))
    return going_on[max(reported)] if reported else None


def _is_reporter(ctx: Context, ticket: Ticket) -> bool:
    return any(r.member_id == ctx.incoming.sender_id for r in active_reporters(ctx.session, ticket.id))


def _act(ctx: Context, message: _Message, ticket: Ticket, *, own: bool, join: bool = True) -> list[Outgoing]:
    """Answer the turn from `ticket`: reopen, thank, or give its status (joining a neighbour to it when `join`)."""
    status = Status(ticket.status)
    turn = message.follow_up.turn
    ended = status in RESOLVED_STATES or status is Status.CLOSED
    if turn is Turn.NOT_FIXED and ended:
        if own:
            return resident.reopen(ctx, ticket, note=ctx.incoming.text)
        resolved = texts.format_time(ticket.resolved_at or ticket.closed_at, ctx.tz)
        return [ctx.reply(texts.NOT_FIXED_NOT_REPORTER.format(number=ticket.id, resolved=resolved))]
    if turn is Turn.THANKS and own and status in RESOLVED_STATES and not ticket.rating:
        return resident.thank(ctx, ticket, ctx.incoming.text)
    if turn is Turn.THANKS:
        return []
    if join and not own and status in OPEN_STATES:
        count = join_ticket(ctx.session, ticket, ctx.sender, now=ctx.now, note=ctx.incoming.text)
        if count is not None:
            return [ctx.reply(_joined(ctx, ticket, count), ticket_id=ticket.id)]
    replies = [ctx.reply(_status(ctx, ticket), ticket_id=ticket.id)]
    if turn is Turn.NOT_FIXED and own and ticket.assignee_id:
        replies += _nudge(ctx, ticket)
    return replies


def _status(ctx: Context, ticket: Ticket) -> str:
    return texts.FOLLOW_UP_STATUS.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        status=texts.STATUS_NAMES[Status(ticket.status)], assignee=ctx.cadre_name(ticket.assignee_id),
        latest=latest_note(ctx, ticket),
    )


def _joined(ctx: Context, ticket: Ticket, count: int) -> str:
    """The same words as a duplicate report's join (`reports._join`), with the latest progress."""
    text = texts.TICKET_JOINED.format(
        number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
        assignee=ctx.cadre_name(ticket.assignee_id), count=count,
    )
    return text + latest_note(ctx, ticket)


def _nudge(ctx: Context, ticket: Ticket) -> list[Outgoing]:
    """A reporter of an open ticket says it is still bad: their words go privately to the assignee."""
    cadre = ctx.settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    if cadre is None:
        return []
    text = texts.FOLLOW_UP_NUDGE.format(number=ticket.id, reporter=ctx.incoming.sender_name, text=ctx.incoming.text)
    return [Outgoing(cadre.chat_id, text, cadre.name, is_private=True, ticket_id=ticket.id)]


def _choose(ctx: Context, tickets: list[Ticket]) -> Outgoing:
    lines = [texts.FOLLOW_UP_CHOOSE.format(count=len(tickets))]
    for ticket in tickets[:_CHOICES]:
        lines.append(
            texts.FOLLOW_UP_CHOICE.format(
                number=ticket.id, category=category_name(ctx, ticket), place=texts.place_text(ticket.location),
                status=texts.STATUS_NAMES[Status(ticket.status)],
            )
        )
    return ctx.reply("\n".join(lines))
