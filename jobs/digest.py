"""The weekly digest posted to every residents' group: the week's numbers, rates, where problems came from,
what is still open, who to thank, and what to bring to the meeting.

A digest covers one ISO week, Monday 00:00 to Monday 00:00 in the community's timezone: the last complete
week before the moment it is posted (by default Monday 09:00, `schedule.digest_cron`). Rates come from
`ledger.rates` (their definitions are written there and in the README); everything else is counted here
from the same ticket facts. The text is kept with the job run, so `huiyin digest` shows what was posted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from jobs import texts
from jobs.common import cadre_name
from jobs.model import Occurrence
from ledger.agenda import candidates
from ledger.lifecycle import Status, is_open
from ledger.messages import Outgoing
from ledger.rates import Period, TicketFacts, compute_rates, format_rate
from ledger.views import TicketView, category_name, place
from settings.models import GroupKind, Settings

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


def _top(counter: Counter[str], limit: int) -> str:
    items = [texts.DIGEST_COUNT_ITEM.format(name=n, count=c) for n, c in counter.most_common(limit)]
    return texts.LIST_SEPARATOR.join(items) or texts.DIGEST_NONE


def render(
    settings: Settings, facts: list[TicketFacts], views: list[TicketView], week: Week, now: dt.datetime
) -> str:
    """The digest text for `week`, as posted at `now`."""
    limit, period = settings.schedule.digest_top, week.period
    rates = compute_rates(facts, period)
    received = [f for f in facts if f.status is not Status.CANCELLED and f.created_at in period]
    categories = Counter(_category(settings, f.category) for f in received)
    places = Counter(f.location for f in received if f.location)
    resolved_by = Counter(
        cadre_name(settings, f.assignee_id) for f in facts if f.resolved_at in period and f.assignee_id is not None
    )
    still_open = sorted(
        (v for v in views if is_open(v.status) and v.created_at < period.end), key=lambda v: (v.created_at, v.number)
    )[:limit]
    last_day = (period.end - dt.timedelta(days=1)).date()
    lines = [
        texts.DIGEST_HEADER.format(
            community=settings.community.name, start=_day(period.start.date()), end=_day(last_day)
        ),
        texts.DIGEST_COUNTS.format(
            received=rates.received, responded=rates.responded_in_time, resolved=rates.resolved, overdue=rates.overdue
        ),
        texts.DIGEST_RATES.format(
            response=format_rate(rates.response_rate), resolution=format_rate(rates.resolution_rate),
            satisfaction=format_rate(rates.satisfaction_rate),
        ),
        texts.DIGEST_DEFINITIONS.format(due=rates.due, rated=rates.rated),
        texts.DIGEST_TOP_CATEGORIES.format(items=_top(categories, limit)),
        texts.DIGEST_TOP_PLACES.format(items=_top(places, limit)),
    ]
    if still_open:
        lines.append(texts.DIGEST_LONGEST)
        lines += [
            texts.DIGEST_LONGEST_LINE.format(
                number=v.number, category=category_name(settings, v), place=place(v),
                days=(period.end - v.created_at).days, assignee=cadre_name(settings, v.assignee_id),
            )
            for v in still_open
        ]
    if resolved_by:
        names = [texts.DIGEST_THANKS_ITEM.format(name=n, count=c) for n, c in _ranked(resolved_by)]
        lines.append(texts.DIGEST_THANKS.format(names=texts.LIST_SEPARATOR.join(names)))
    else:
        lines.append(texts.DIGEST_NO_THANKS)
    agenda = candidates(settings, views, now)
    lines.append(texts.DIGEST_AGENDA + ("" if agenda else texts.DIGEST_NONE))
    lines += [c.line for c in agenda[:limit]]
    if len(agenda) > limit:  # a phone screen: the rest are one `议题` away
        lines.append(texts.DIGEST_AGENDA_MORE.format(count=len(agenda) - limit))
    return "\n".join(lines)


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _category(settings: Settings, category_id: str) -> str:
    category = settings.category(category_id)
    return category.name if category else category_id


def _day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def digest(
    settings: Settings, facts: list[TicketFacts], views: list[TicketView], at: dt.datetime
) -> Occurrence:
    """The digest posted at `at` (covering the week before), to every residents' group."""
    week = week_before(at, settings.tz)
    text = render(settings, facts, views, week, at)
    replies = tuple(
        Outgoing(g.id or g.name, text, g.name) for g in settings.groups if g.kind is GroupKind.RESIDENTS
    )
    return Occurrence(JOB, week.key, at, replies, output=text)


def period_of(settings: Settings, at: dt.datetime) -> str:
    return week_before(at, settings.tz).key
