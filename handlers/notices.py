"""Notices and known incidents: one announcement answers a hundred reports.

- `通知 3号楼 停水，水箱清洗 至 15:00` (cadres): opens an incident for a range — a building (`3号楼`, `三号楼`,
  `3栋`), a grid (`第一网格`) or `全部` — of the category the classifier reads in its text, and posts it once in
  every residents' group covering the range. `至 时间` (`15:00`, `今天15:00`, `明天9:00`) is when it is expected
  to end: after that, reports open tickets again.
- While it lasts, a resident's report of it (or a status question such as `怎么没水了`, `水呢？？`) from inside
  the range opens nothing: the resident is recorded as one of its reporters and gets the notice back
  (`answer`, called by handlers/reports.py). Urgent messages never join an incident.
- `恢复 3 已恢复供水` (cadres): ends it; every affected group is told once, mentioning the residents who
  reported there.
- `关联 12 3` (cadres): an open ticket that is really the incident: its reporters join the incident and the
  ticket is closed as merged (`并入 通知3`).
- Within `RECHECK_WINDOW` after `恢复`, a reporter who says it is still not back (`还是没水`) gets a normal
  ticket: `answer` hands the report flow a report to open.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import replace

from handlers import texts
from handlers.commands import COMMANDS, Command, CommandName
from handlers.context import Context
from handlers.views import find_ticket
from ledger.dates import parse_day
from ledger.incidents import ReportFacts, ScopeKind, in_range, matching_incident, scope_text
from ledger.lifecycle import OPEN_STATES, Action, Status
from ledger.messages import Outgoing
from nlp import cues, danger
from nlp.classification import Classification, Intent, normalise_message
from nlp.followup import Turn, read_follow_up
from nlp.places import normalise_building, place_index
from nlp.problems import problems_in
from settings.models import ChatGroup, GroupKind
from storage.incidents import (
    IncidentAction,
    IncidentStatus,
    active_incidents,
    add_incident_reporter,
    end_incident,
    get_incident,
    incident_reporters,
    incidents_ended_since,
    open_incident,
    reported_incidents,
)
from storage.models import Incident
from storage.tickets import Actor, active_reporters, apply_action

RECHECK_WINDOW = dt.timedelta(hours=2)
"""After 恢复, how long a reporter's "still not back" opens a ticket about it."""

_ALL_WORDS = ("全部", "全体", "全社区", "所有")
_BUILDING = re.compile(r"^(?:[0-9]{1,3}|[一二三四五六七八九十]{1,3})\s*(?:号楼|号栋|号幢|栋|幢)")
_SEPARATORS = " ,.:;、，。：；"
_UNTIL = re.compile(
    r"\s*至\s*(?P<day>[^\s0-9:]*|[0-9]{1,2}月[0-9]{1,2}[日号]?)\s*(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})\s*$"
)
# A question about the state of things: `怎么没水了`, `3栋停水了？`, `水呢？？`, `什么时候来水`.
_QUESTION = re.compile(r"[?？]|吗|呢|怎么|咋|为什么|为啥|啥时候|什么时候|几点|多久|还没")
_PLACE_WORDS = re.compile(
    r"[0-9零〇一二两三四五六七八九十]+\s*(?:号楼|号|栋|幢|单元|楼|层|室)|我们|咱们|我家|家里|这边|那边|楼里|小区|整栋"
)
_NOT_LETTERS = re.compile(r"[^\w]+")
_CLAUSES = re.compile(r"[,，。.;；!！\s]+")
_FILLER = re.compile(r"[\s?？!！。，,.~啊呀呢吗嘛了哦噢喔的怎么咋回事为什么啥时候什么还没又]+")


# --- 通知 -----------------------------------------------------------------------------------------------------


def notice(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach this handler
    usage = texts.SYNTAX.format(usage=COMMANDS[CommandName.NOTICE].usage)
    scope = _scope(ctx, command.argument)
    if scope is None:
        grids = "、".join(grid.name for grid in ctx.settings.grids)
        return [ctx.reply(texts.NOTICE_UNKNOWN_SCOPE.format(grids=grids) + usage)]
    kind, value, rest = scope
    text, until = _until(rest)
    text = text.strip(_SEPARATORS)
    if not text:
        return [ctx.reply(usage)]
    expected_end = None
    if until is not None:
        expected_end = _end_time(ctx, until)
        if expected_end is None:
            return [ctx.reply(usage)]
        if expected_end <= ctx.now:
            return [ctx.reply(texts.NOTICE_END_PAST.format(time=_time_text(ctx, expected_end)))]
    category = _category_of(ctx, text)
    incident = open_incident(
        ctx.session, now=ctx.now, author=Actor(cadre.id, cadre.name), scope_kind=kind.value, scope_value=value,
        category=category, text=text, expected_end_at=expected_end,
    )
    groups = _groups_in_range(ctx, incident)
    line = notice_line(ctx, incident)
    replies = [Outgoing(_group_chat(g), texts.NOTICE_GROUP.format(line=line), g.name) for g in groups]
    if not groups:
        return [ctx.reply(texts.NOTICE_NO_GROUP.format(number=incident.id))]
    if not any(_is_here(ctx, g) for g in groups):
        names = "、".join(g.name for g in groups)
        replies.append(ctx.reply(texts.NOTICE_POSTED.format(number=incident.id, groups=names)))
    return replies


def _category_of(ctx: Context, text: str) -> str:
    """The classifier's category for the notice's text; a notice reads as chatter to it (`【通知】…停水`), and then
    the category whose keywords weigh most in the text."""
    classification = ctx.classifier.classify(text)
    fallback = ctx.settings.fallback_category
    if classification.is_ticket and ctx.settings.category(classification.category) not in (None, fallback):
        return classification.category
    folded = unicodedata.normalize("NFKC", text)
    best, best_score = fallback.id, 0.0
    for category in ctx.settings.categories:
        words = {word: 1.0 for word in category.keywords} | dict(category.weights)
        score = sum(weight for word, weight in words.items() if word and word in folded)
        if score > best_score:
            best, best_score = category.id, score
    return best


def _scope(ctx: Context, argument: str) -> tuple[ScopeKind, str, str] | None:
    """The range at the start of a 通知's argument, and the rest of it."""
    text = argument.strip()
    folded = unicodedata.normalize("NFKC", text)
    for word in _ALL_WORDS:
        if folded.startswith(word):
            return ScopeKind.ALL, "", text[len(word) :]
    for grid in ctx.settings.grids:
        for name in (grid.name, grid.id):
            if folded.startswith(name):
                return ScopeKind.GRID, grid.id, text[len(name) :]
    found = _BUILDING.match(folded)
    if found is None:
        return None
    building = normalise_building(found.group(0))
    if building not in place_index(ctx.settings).buildings:
        return None
    return ScopeKind.BUILDING, building, text[found.end() :]


def _until(text: str) -> tuple[str, re.Match[str] | None]:
    """The text without a trailing `至 15:00`, and that time."""
    folded = unicodedata.normalize("NFKC", text)
    found = _UNTIL.search(folded)
    if found is None:
        return text, None
    # NFKC keeps the length of these characters (full-width forms map one to one), so positions agree.
    return (text[: found.start()] if len(folded) == len(text) else folded[: found.start()]), found


def _end_time(ctx: Context, until: re.Match[str]) -> dt.datetime | None:
    today = ctx.now.astimezone(ctx.tz).date()
    day = parse_day(until["day"], today) if until["day"] else today
    hour, minute = int(until["hour"]), int(until["minute"])
    if day is None or hour > 23 or minute > 59:
        return None
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ctx.tz)


def _time_text(ctx: Context, instant: dt.datetime) -> str:
    local = instant.astimezone(ctx.tz)
    today = ctx.now.astimezone(ctx.tz).date()
    clock = f"{local.hour}:{local.minute:02d}"
    if local.date() == today:
        return clock
    if local.date() == today + dt.timedelta(days=1):
        return texts.NOTICE_TOMORROW + clock
    return texts.NOTICE_DAY.format(month=local.month, day=local.day) + clock


def notice_line(ctx: Context, incident: Incident) -> str:
    """`#通知3 3号楼停水：今天9:00-15:00水箱清洗，预计15:00恢复`."""
    end = incident.expected_end_at
    until = texts.NOTICE_UNTIL.format(time=_time_text(ctx, end)) if end is not None else ""
    scope = scope_text(ctx.settings, incident)
    return texts.NOTICE_LINE.format(number=incident.id, scope=scope, text=incident.text, until=until)


def _groups_in_range(ctx: Context, incident: Incident) -> list[ChatGroup]:
    buildings = place_index(ctx.settings).buildings
    return [
        group for group in ctx.settings.groups
        if group.kind is GroupKind.RESIDENTS and in_range(incident, None, None, group.grids, buildings)
    ]  # fmt: skip


def _group_chat(group: ChatGroup) -> str:
    return group.id or group.name


def _is_here(ctx: Context, group: ChatGroup) -> bool:
    incoming = ctx.incoming
    return not incoming.is_private and ctx.settings.group(incoming.chat_id, incoming.chat_name) == group


# --- 恢复 -----------------------------------------------------------------------------------------------------


def restore(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None
    incident = get_incident(ctx.session, command.ticket) if command.ticket is not None else None
    if incident is None:
        return [ctx.reply(texts.NOTICE_UNKNOWN.format(number=command.ticket))]
    if incident.status == IncidentStatus.ENDED.value:
        ended = _time_text(ctx, incident.ended_at) if incident.ended_at else ""
        return [ctx.reply(texts.NOTICE_ENDED_ALREADY.format(number=incident.id, time=ended))]
    note = command.argument.strip().rstrip("。.")
    end_incident(ctx.session, incident, actor=Actor(cadre.id, cadre.name), now=ctx.now, note=note)
    text = texts.NOTICE_RESTORED.format(
        number=incident.id, scope=scope_text(ctx.settings, incident), text=incident.text,
        note=texts.NOTICE_RESTORED_NOTE.format(note=note) if note else "",
    )
    reporters = incident_reporters(ctx.session, incident.id)
    # One message per chat: the groups of the range, then any other chat a reporter wrote from.
    chats: dict[str, tuple[str, bool, list[tuple[str, str]]]] = {}
    for group in _groups_in_range(ctx, incident):
        chats[_group_chat(group)] = (group.name, False, [])
    for reporter in reporters:
        private = reporter.chat_id == reporter.member_id  # a private chat's id is the contact's
        entry = chats.setdefault(reporter.chat_id, (reporter.chat_name, private, []))
        entry[2].append((reporter.member_id, reporter.member_name))
    replies = []
    for chat_id, (chat_name, private, people) in chats.items():
        if private:
            replies.append(Outgoing(chat_id, text, chat_name, is_private=True))
            continue
        ids = tuple(dict.fromkeys(member_id for member_id, _ in people))
        prefix = texts.mention_prefix(name for _, name in people)
        replies.append(Outgoing(chat_id, prefix + text, chat_name, ids))
    if ctx.incoming.is_private or ctx.incoming.chat_id not in chats:
        replies.append(ctx.reply(texts.NOTICE_RESTORED_CONFIRM.format(number=incident.id, count=len(reporters))))
    return replies


# --- 关联 -----------------------------------------------------------------------------------------------------


def link(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None
    number = _notice_number(command.argument)
    if number is None:
        return [ctx.reply(texts.SYNTAX.format(usage=COMMANDS[CommandName.LINK].usage))]
    ticket = find_ticket(ctx, command.ticket)
    if isinstance(ticket, Outgoing):
        return [ticket]
    incident = get_incident(ctx.session, number)
    if incident is None:
        return [ctx.reply(texts.NOTICE_UNKNOWN.format(number=number))]
    if incident.status != IncidentStatus.ACTIVE.value:
        return [ctx.reply(texts.NOTICE_NOT_ACTIVE.format(number=number))]
    if not ctx.may_act(cadre, ticket):
        assignee = ctx.cadre_name(ticket.assignee_id)
        verb = texts.NOTICE_VERB_LINK
        return [ctx.reply(texts.NOT_YOUR_TICKET.format(number=ticket.id, assignee=assignee, verb=verb))]
    if Status(ticket.status) not in OPEN_STATES:
        status = texts.STATUS_NAMES[Status(ticket.status)]
        return [ctx.reply(texts.NOTICE_LINK_NOT_OPEN.format(ticket=ticket.id, status=status))]
    reporters = active_reporters(ctx.session, ticket.id)
    for reporter in reporters:
        add_incident_reporter(
            ctx.session, incident, Actor(reporter.member_id, reporter.member_name), chat_id=ticket.chat_id,
            chat_name=ticket.chat_name, now=ctx.now, note=f"#{ticket.id}", action=IncidentAction.ATTACH,
        )
    apply_action(
        ctx.session, ticket, Action.MERGE, actor=Actor(cadre.id, cadre.name), now=ctx.now,
        note=texts.NOTICE_EVENT_LINKED.format(number=incident.id), responding=True,
    )
    replies = ctx.announce(ticket, texts.NOTICE_LINKED.format(ticket=ticket.id, line=notice_line(ctx, incident)))
    if ticket.chat_id != ctx.incoming.chat_id:
        confirm = texts.NOTICE_LINKED_CONFIRM.format(ticket=ticket.id, number=incident.id, count=len(reporters))
        replies = [replies[0], ctx.reply(confirm)]
    return replies


def _notice_number(argument: str) -> int | None:
    found = re.match(r"#?\s*(?:通知)?\s*#?\s*([0-9]{1,9})", unicodedata.normalize("NFKC", argument).strip())
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


# --- reports while an incident lasts (handlers/reports.py) ---------------------------------------------------


def answer(ctx: Context, classification: Classification) -> list[Outgoing] | Classification:
    """A report of an incident that lasts: the sender joins it and gets the notice back (the replies). Otherwise
    the classification the report flow goes on with — made a report of the incident's category when a reporter
    of an incident ended within `RECHECK_WINDOW` says it is still not back."""
    read = normalise_message(ctx.text).casefold()
    if classification.urgent and danger.detect(read) is not None:  # a live danger is never a known incident
        return classification
    reopened = _still_not_back(ctx, classification)
    if reopened is not None:
        return reopened
    incidents = active_incidents(ctx.session, ctx.now)
    if not incidents:
        return classification
    question = _QUESTION.search(ctx.text) is not None
    ticket = classification.intent in (Intent.REPORT, Intent.INQUIRY, Intent.URGENT)
    # A remark that names the incident's problem (`刚要洗澡就停水了😭`) is a report of it too, unless it is a
    # notice, a greeting or an ack (`停水了大家记得储水` passed on).
    remark = not (ticket or question) and not cues.is_ack_or_notice(read)
    categories = {classification.category} if ticket else set()
    if question or remark:
        categories |= {i.category for i in incidents if _names_it(ctx, i)}
    if not categories:
        return classification
    incident = matching_incident(incidents, _facts(ctx, classification, frozenset(categories)), _buildings(ctx))
    if incident is None:
        return classification
    incoming = ctx.incoming
    add_incident_reporter(
        ctx.session, incident, ctx.sender, chat_id=incoming.chat_id, chat_name=incoming.chat_name, now=ctx.now,
        note=incoming.text,
    )
    return [ctx.reply(texts.NOTICE_KNOWN.format(line=notice_line(ctx, incident)))]


def _still_not_back(ctx: Context, classification: Classification) -> Classification | None:
    """A report to open when the sender reported an incident ended within RECHECK_WINDOW and says it is still not
    back (or reports its category again in its range)."""
    ended = incidents_ended_since(ctx.session, ctx.now - RECHECK_WINDOW)
    if not ended:
        return None
    mine = reported_incidents(ctx.session, ctx.incoming.sender_id, [i.id for i in ended if i.id is not None])
    follow_up = read_follow_up(ctx.text)
    not_fixed = follow_up is not None and follow_up.turn is Turn.NOT_FIXED
    for incident in ended:  # newest first
        if incident.id not in mine:
            continue
        again = classification.is_ticket and classification.category == incident.category and in_range(
            incident, *_place(ctx, classification), _group_grids(ctx), _buildings(ctx)
        )
        if not_fixed or again:
            return replace(classification, intent=Intent.REPORT, category=incident.category, needs_triage=False)
    return None


def _names_it(ctx: Context, incident: Incident) -> bool:
    """Whether a question names the incident's problem: a keyword of its category (`停水`, `没水`), the same problem
    (`nlp.problems`: `咋个莫得水了` and `停水`), or, in a clause that is a very short question once places, pronouns,
    emoji and filler are left out (`我们3号楼水呢？？🙏`), a character of the notice."""
    category = ctx.settings.category(incident.category)
    folded = unicodedata.normalize("NFKC", ctx.text)
    if category is not None and any(word in folded for word in (*category.keywords, *category.weights)):
        return True
    if problems_in(folded) & problems_in(incident.text):
        return True
    for clause in _CLAUSES.split(folded):  # `3栋水呢？？，谁知道`: the question is one clause of the message
        core = _FILLER.sub("", _NOT_LETTERS.sub("", _PLACE_WORDS.sub("", clause)))
        if 0 < len(core) <= 2 and any(char in incident.text for char in core):
            return True
    return False


def _place(ctx: Context, classification: Classification) -> tuple[str | None, str | None]:
    if classification.location:
        return classification.location, classification.grid_id
    found = place_index(ctx.settings).extract(ctx.text)
    return (found.text, found.grid_id) if found else (None, None)


def _group_grids(ctx: Context) -> tuple[str, ...]:
    incoming = ctx.incoming
    group = None if incoming.is_private else ctx.settings.group(incoming.chat_id, incoming.chat_name)
    return tuple(group.grids) if group else ()


def _buildings(ctx: Context) -> dict[str, str]:
    return place_index(ctx.settings).buildings


def _facts(ctx: Context, classification: Classification, categories: frozenset[str]) -> ReportFacts:
    location, grid = _place(ctx, classification)
    return ReportFacts(categories, location, grid, _group_grids(ctx), ctx.now)
