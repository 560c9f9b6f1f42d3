"""回访: ask the reporters to rate a resolved ticket, and close it unrated when nobody answers.

`follow_up_hours` after 办结 the reporters are asked in the ticket's group; `auto_close_days` after 办结 a
ticket still unrated is closed by the bot and counts as not rated (never as satisfied: the rates only
count ratings that were given). Both are keyed by the resolution time, so a ticket reopened and resolved
again is asked again. A follow-up whose auto-close is also due is not sent. A patrol finding (`上报`) has no
resident to ask: it is closed without a word.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from jobs import texts
from jobs.common import to_reporters
from jobs.model import Occurrence, Pending, TicketChange
from ledger.lifecycle import Action, Status
from ledger.views import TicketView, category_name, place
from settings.models import Settings

JOB = "follow_up"


def _times(settings: Settings, view: TicketView) -> tuple[dt.datetime, dt.datetime] | None:
    if view.status is not Status.RESOLVED or view.resolved_at is None or view.rating is not None:
        return None
    schedule = settings.schedule
    return (
        view.resolved_at + dt.timedelta(hours=schedule.follow_up_hours),
        view.resolved_at + dt.timedelta(days=schedule.auto_close_days),
    )


def pending(settings: Settings, views: list[TicketView], now: dt.datetime) -> list[Pending]:
    """The question or the auto-close due at `now` of each resolved ticket not rated, keyed; its message is composed
    only when asked (`Pending.compose`)."""
    found = []
    for view in views:
        times = _times(settings, view)
        if times is None:
            continue
        ask_at, close_at = times
        key = f"#{view.number} {view.resolved_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        if close_at <= now:
            found.append(Pending(JOB, f"{key} close", close_at, partial(_close, settings, view, f"{key} close")))
        elif ask_at <= now and view.source != "patrol":
            found.append(Pending(JOB, f"{key} ask", ask_at, partial(_ask, settings, view, f"{key} ask")))
    return found


def due(settings: Settings, views: list[TicketView], now: dt.datetime) -> list[Occurrence]:
    """`pending`'s occurrences, composed."""
    return [p.compose() for p in pending(settings, views, now)]


def _fields(settings: Settings, view: TicketView) -> dict[str, object]:
    return {"number": view.number, "category": category_name(settings, view), "place": place(view)}


def _close(settings: Settings, view: TicketView, period: str) -> Occurrence:
    days = settings.schedule.auto_close_days
    change = TicketChange(view.number, Action.CLOSE, texts.EVENT_AUTO_CLOSE.format(days=days))
    told = to_reporters(view, texts.AUTO_CLOSED.format(**_fields(settings, view), days=days))
    replies = () if view.source == "patrol" else (told,)
    close_at = view.resolved_at + dt.timedelta(days=days)
    return Occurrence(JOB, period, close_at, replies, (change,))


def _ask(settings: Settings, view: TicketView, period: str) -> Occurrence:
    change = TicketChange(view.number, Action.FOLLOW_UP)
    reply = to_reporters(view, texts.FOLLOW_UP.format(**_fields(settings, view)))
    ask_at = view.resolved_at + dt.timedelta(hours=settings.schedule.follow_up_hours)
    return Occurrence(JOB, period, ask_at, (reply,), (change,))


def next_at(settings: Settings, views: list[TicketView], after: dt.datetime) -> dt.datetime | None:
    instants = [t for v in views if (times := _times(settings, v)) for t in times if t > after]
    return min(instants, default=None)
