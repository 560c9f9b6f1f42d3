"""The weekly digest: the week's numbers, rates, where problems came from, what is still open, who to thank,
and what to bring to the meeting.

A digest covers one ISO week, Monday 00:00 to Monday 00:00 in the community's timezone: the last complete
week before the moment it is posted (by default Monday 09:00, `schedule.digest_cron`). Each residents' group
gets the figures of its own grids (`groups[].grids` in config.yaml; a group listing none, or all of them, gets
the whole community's), counting also the tickets without a grid that were reported in that group; the
cadres' group gets the whole community's. A residents' group whose grids had nothing to tell (nothing
received, resolved, due, rated or overdue, nothing open, no agenda candidate) gets no digest that week, so
a quiet week or a newly installed bot posts nothing to residents; the cadres' group then gets one line.

Rates come from `ledger.rates` (their definitions are written there and in the README). The 办结 figure and
the thanks count the same tickets: those resolved in the week (`ledger.rates.resolved_in`), so the thanks
add up to the 办结 figure. Open tickets and agenda candidates are taken as of the end of the week: a ticket
created after it is not listed, and ages are measured to the week's end (in hours under a day). Ticket
states are those known when the digest is composed, so a ticket resolved between the week's end and the
posting is not listed as open.

The cadres' group also hears where the week's reports came from (居民反映 / 主动发现: residents' reports and the
cadres' own findings, `上报`) and, for each partner unit dispatched tickets in the week, 派单 with its 部门响应率 and
部门办结率 (`ledger.rates.compute_unit_rates`). Residents' groups get neither: the units' lines measure the units
for the cadres who 督办 them, and the 主动发现 count would tell residents of findings not made public (公开) yet.

Known incidents (`通知`) announced in the week are one line after the counts — how many, and how many
residents they answered without opening a ticket (their reporters) — in the cadres' group and in every
residents' group whose grids they cover; a week with one is not quiet. Without any the line is left out.

Every group's text is kept with the job run under a line naming the group, so `huiyin digest` prints
exactly what was posted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from jobs import texts
from jobs.common import cadre_name
from jobs.incidents import IncidentFacts
from jobs.model import Occurrence
from ledger.agenda import Candidate, candidates
from ledger.incidents import in_range
from ledger.lifecycle import NOT_COUNTED, is_open
from ledger.messages import Outgoing
from ledger.rates import (
    PATROL,
    RESIDENT,
    Period,
    Rates,
    TicketFacts,
    by_source,
    compute_rates,
    compute_unit_rates,
    format_rate,
    judged_at,
    resolved_in,
)
from ledger.views import TicketView, category_name, place
from nlp.places import place_index
from settings.models import ChatGroup, GroupKind, Settings

JOB = "digest"
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{1,2})$")


@dataclass(frozen=True)
class Week:
    key: str  # ISO week, e.g. 2026-W47
    period: Period


def week_of(day: dt.date, tz: dt.tzinfo) -> Week:
    year, number, _ = day.isocalendar()
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=tz)
    return Week(f"{year}-W{number:02d}", Period(start, start + dt.timedelta(days=7)))


def week_before(instant: dt.datetime, tz: dt.tzinfo) -> Week:
    """The last complete ISO week before `instant`."""
    return week_of(instant.astimezone(tz).date() - dt.timedelta(days=7), tz)


def parse_week(text: str, tz: dt.tzinfo) -> Week:
    """`2026-W47` → that week; ValueError for anything else."""
    match = _WEEK_KEY.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an ISO week (use e.g. 2026-W47)")
    return week_of(dt.date.fromisocalendar(int(match[1]), int(match[2]), 1), tz)


@dataclass(frozen=True)
class Post:
    """One group's digest for a week; `text` is None when the group gets nothing."""

    group: ChatGroup
    text: str | None


def _top(counter: Counter[str], limit: int) -> str:
    items = [texts.DIGEST_COUNT_ITEM.format(name=n, count=c) for n, c in counter.most_common(limit)]
    return texts.LIST_SEPARATOR.join(items) or texts.DIGEST_NONE


def scope(settings: Settings, group: ChatGroup) -> frozenset[str] | None:
    """The grids whose figures `group` gets; None for the whole community (the cadres' group, or a residents'
    group listing no grid or every grid)."""
    grids = frozenset(group.grids)
    if group.kind is GroupKind.CADRES or not grids or grids >= {g.id for g in settings.grids}:
        return None
    return grids


def covers(settings: Settings, group: ChatGroup, grids: frozenset[str] | None, view: TicketView) -> bool:
    """Whether a ticket counts in `group`'s digest: it is in one of the group's grids, or it has no grid and
    was reported in that group."""
    if grids is None:
        return True
    if view.grid_id is not None:
        return view.grid_id in grids
    return not view.chat_is_private and settings.group(view.chat_id, view.chat_name) is group


def incidents_covering(
    settings: Settings, grids: frozenset[str] | None, incidents: Sequence[IncidentFacts]
) -> list[IncidentFacts]:
    """The incidents whose range touches `grids` (all of them for the whole community)."""
    if grids is None or not incidents:
        return list(incidents)
    buildings = place_index(settings).buildings
    return [i for i in incidents if in_range(i, None, None, grids, buildings)]


def render_group(
    settings: Settings, facts: list[TicketFacts], views: list[TicketView], week: Week, now: dt.datetime,
    group: ChatGroup, incidents: Sequence[IncidentFacts] = (),
) -> str | None:
    """`group`'s digest text for `week`, composed at `now`; None when a residents' group has nothing to hear.
    `incidents` are those announced in the week."""
    grids = scope(settings, group)
    incidents = incidents_covering(settings, grids, incidents)
    residents = group.kind is not GroupKind.CADRES
    if grids is not None or residents:  # residents hear of a patrol finding only once it is made public (公开)
        views = [v for v in views if covers(settings, group, grids, v) and (v.seen_by_residents or not residents)]
        numbers = {v.number for v in views}
        facts = [f for f in facts if f.number in numbers]
    limit, period = settings.schedule.digest_top, week.period
    as_of = judged_at(period, now)
    rates = compute_rates(facts, period, now)
    resolved = resolved_in(facts, period)
    still_open = sorted(
        (v for v in views if is_open(v.status) and v.created_at < as_of), key=lambda v: (v.created_at, v.number)
    )
    agenda = candidates(settings, views, as_of)
    start, end = _day(period.start.date()), _day((period.end - dt.timedelta(days=1)).date())
    if _quiet(rates, resolved, still_open, agenda) and not incidents:
        if group.kind is GroupKind.RESIDENTS:
            return None
        return texts.DIGEST_QUIET.format(community=settings.community.name, start=start, end=end)
    received = [f for f in facts if f.status not in NOT_COUNTED and f.created_at in period]
    categories = Counter(_category(settings, f.category) for f in received)
    places = Counter(f.location for f in received if f.location)
    names = [g.name for g in settings.grids if grids is not None and g.id in grids]  # config order
    resolved_by = Counter(cadre_name(settings, f.assignee_id) for f in resolved if f.assignee_id is not None)
    lines = [
        texts.DIGEST_HEADER.format(
            community=settings.community.name, start=start, end=end,
            scope=texts.DIGEST_SCOPE.format(grids=texts.LIST_SEPARATOR.join(names)) if names else "",
        ),
        texts.DIGEST_COUNTS.format(
            received=rates.received, responded=rates.responded_in_time, resolved=len(resolved), overdue=rates.overdue
        ),
        texts.DIGEST_RATES.format(
            response=format_rate(rates.response_rate), resolution=format_rate(rates.resolution_rate),
            satisfaction=format_rate(rates.satisfaction_rate),
        ),
        texts.DIGEST_DEFINITIONS.format(
            answerable=rates.response_counted, due_resolved=rates.resolved, due=rates.due, rated=rates.rated
        ),
        texts.DIGEST_TOP_CATEGORIES.format(items=_top(categories, limit)),
        texts.DIGEST_TOP_PLACES.format(items=_top(places, limit)),
    ]
    if group.kind is GroupKind.CADRES:
        lines[4:4] = _cadres_lines(settings, facts, period, now)
    if incidents:
        residents = sum(i.reporters for i in incidents)
        lines.insert(2, texts.DIGEST_INCIDENTS.format(count=len(incidents), residents=residents))
    if still_open:
        lines.append(texts.DIGEST_LONGEST)
        lines += [
            texts.DIGEST_LONGEST_LINE.format(
                number=v.number, category=category_name(settings, v), place=place(v),
                age=_age(as_of - v.created_at), assignee=cadre_name(settings, v.assignee_id),
            )
            for v in still_open[:limit]
        ]
    if resolved_by:
        thanked = [texts.DIGEST_THANKS_ITEM.format(name=n, count=c) for n, c in _ranked(resolved_by)]
        lines.append(texts.DIGEST_THANKS.format(names=texts.LIST_SEPARATOR.join(thanked)))
    else:
        lines.append(texts.DIGEST_NO_THANKS)
    lines.append(texts.DIGEST_AGENDA + ("" if agenda else texts.DIGEST_NONE))
    lines += [c.line for c in agenda[:limit]]
    if len(agenda) > limit:  # a phone screen: the rest are one `议题` away
        lines.append(texts.DIGEST_AGENDA_MORE.format(count=len(agenda) - limit))
    return "\n".join(lines)


def _cadres_lines(settings: Settings, facts: list[TicketFacts], period: Period, now: dt.datetime) -> list[str]:
    """The cadres' group's own lines: the received tickets by source, and each partner unit that was dispatched
    tickets in the week (config order) with its 部门响应率 and 部门办结率."""
    sources = by_source(facts, period)
    lines = [texts.DIGEST_SOURCES.format(resident=sources[RESIDENT], patrol=sources[PATROL])]
    units = compute_unit_rates(facts, period, now)
    order = [u.id for u in settings.units] + sorted(set(units) - {u.id for u in settings.units})
    for unit_id in order:
        rates = units.get(unit_id)
        if rates is None or not rates.dispatched:
            continue
        unit = settings.unit(unit_id)
        lines.append(texts.DIGEST_UNIT.format(
            unit=unit.name if unit else unit_id, dispatched=rates.dispatched,
            response=format_rate(rates.response_rate), resolution=format_rate(rates.resolution_rate),
        ))  # fmt: skip
    return lines


def posts(
    settings: Settings, facts: list[TicketFacts], views: list[TicketView], week: Week, now: dt.datetime,
    incidents: Sequence[IncidentFacts] = (),
) -> list[Post]:
    """Every group's digest for `week`, in config order; a partner unit's group (`kind: unit`) gets none."""
    groups = [g for g in settings.groups if g.kind is not GroupKind.UNIT]
    return [Post(g, render_group(settings, facts, views, week, now, g, incidents)) for g in groups]


def output(posted: list[Post]) -> str:
    """What `huiyin digest` prints: each group's text under a line naming the group."""
    return "\n\n".join(
        texts.DIGEST_OUTPUT_SKIPPED.format(group=p.group.name)
        if p.text is None
        else texts.DIGEST_OUTPUT_GROUP.format(group=p.group.name) + "\n" + p.text
        for p in posted
    )


def render(
    settings: Settings, facts: list[TicketFacts], views: list[TicketView], week: Week, now: dt.datetime,
    incidents: Sequence[IncidentFacts] = (),
) -> str:
    """The digest of `week` as `huiyin digest` prints it, composed at `now` (see `output`)."""
    return output(posts(settings, facts, views, week, now, incidents))


def _quiet(rates: Rates, resolved: list[TicketFacts], still_open: list[TicketView], agenda: list[Candidate]) -> bool:
    return not (rates.received or rates.due or rates.overdue or rates.rated or resolved or still_open or agenda)


def _age(delta: dt.timedelta) -> str:
    """`2 天` from a day on, `5 小时` under a day: "已 0 天" reads as "just now" and misleads."""
    if delta.days:
        return texts.DIGEST_AGE_DAYS.format(days=delta.days)
    hours = int(delta.total_seconds() // 3600)
    return texts.DIGEST_AGE_HOURS.format(hours=hours) if hours else texts.DIGEST_AGE_UNDER_AN_HOUR


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _category(settings: Settings, category_id: str) -> str:
    category = settings.category(category_id)
    return category.name if category else category_id


def _day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def digest(
    settings: Settings, facts: list[TicketFacts], views: list[TicketView], at: dt.datetime,
    incidents: Sequence[IncidentFacts] = (),
) -> Occurrence:
    """The digest posted at `at` (covering the week before): each group's own, to the groups that get one.
    `incidents`: those announced in that week."""
    week = week_before(at, settings.tz)
    posted = posts(settings, facts, views, week, at, incidents)
    replies = tuple(Outgoing(p.group.id or p.group.name, p.text, p.group.name) for p in posted if p.text is not None)
    return Occurrence(JOB, week.key, at, replies, output=output(posted))


def period_of(settings: Settings, at: dt.datetime) -> str:
    return week_before(at, settings.tz).key
