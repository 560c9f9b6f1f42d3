"""When the calendar jobs fire, from the same APScheduler triggers the scheduler uses, and how late each
may still run (its misfire grace): a missed handover is stale after `handover_grace_minutes`, a missed
daily report after six hours, a missed digest after a week (so a digest missed while the bot was down is
posted once on restart, for the latest week missed).
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from settings.models import WEEKDAYS, Settings

DAILY_GRACE = dt.timedelta(hours=6)
DIGEST_GRACE = dt.timedelta(days=7)


def check_trigger(settings: Settings) -> IntervalTrigger:
    """Deadlines and follow-ups are checked on this interval (their own times are per ticket)."""
    return IntervalTrigger(minutes=settings.schedule.check_minutes, timezone=settings.tz)


def daily_trigger(settings: Settings) -> CronTrigger:
    at = settings.schedule.daily_report
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.tz)


def digest_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger.from_crontab(settings.schedule.digest_cron, timezone=settings.tz)


def handover_trigger(settings: Settings) -> BaseTrigger | None:
    """Fires at every shift start and end of the weekly rota (None without a rota)."""
    times: dict[tuple[int, int], set[str]] = {}
    for shift in settings.rota:
        crosses = shift.end <= shift.start
        for day in shift.days:
            times.setdefault((shift.start.hour, shift.start.minute), set()).add(day)
            end_day = WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7] if crosses else day
            times.setdefault((shift.end.hour, shift.end.minute), set()).add(end_day)
    triggers = [
        CronTrigger(day_of_week=",".join(sorted(days, key=WEEKDAYS.index)), hour=h, minute=m, timezone=settings.tz)
        for (h, m), days in sorted(times.items())
    ]
    if not triggers:
        return None
    return OrTrigger(triggers) if len(triggers) > 1 else triggers[0]


def handover_grace(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.schedule.handover_grace_minutes)


def fires_between(trigger: BaseTrigger, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Fire times of `trigger` in (start, end]."""
    fires = []
    fire = trigger.get_next_fire_time(None, start + dt.timedelta(microseconds=1))
    while fire is not None and fire <= end:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return fires


def next_fire(trigger: BaseTrigger, after: dt.datetime) -> dt.datetime | None:
    return trigger.get_next_fire_time(None, after + dt.timedelta(microseconds=1))
