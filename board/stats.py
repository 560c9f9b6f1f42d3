"""The weekly statistics page: the three rates, counts by category and grid, a per-cadre table, and charts.

Every figure comes from `ledger.rates` (the one implementation of 响应率 / 解决率 / 满意率); this module
only chooses the periods and the groupings.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from board import charts, texts
from ledger.lifecycle import Status
from ledger.rates import Period, Rates, TicketFacts, compute_rates, format_rate, median_first_response
from settings.models import Settings

TREND_WEEKS = 8


@dataclass(frozen=True)
class CadreLine:
    name: str
    received: int
    responded_in_time: int
    resolved: int
    due: int
    rated: int
    satisfied: int
    satisfaction: str


@dataclass(frozen=True)
class WeeklyStats:
    period: Period
    label: str
    rates: Rates
    response_rate: str
    resolution_rate: str
    satisfaction_rate: str
    median_response: str
    by_category: list[tuple[str, int]]
    by_grid: list[tuple[str, int]]
    cadres: list[CadreLine]
    reports_chart: str
    categories_chart: str
    response_chart: str


def week_of(day: dt.date, tz: dt.tzinfo) -> Period:
    """Monday 00:00 to the next Monday 00:00 (local time) of the week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(), tzinfo=tz)
    return Period(start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=tz))


def _minutes(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def weekly_stats(
    settings: Settings, facts: Sequence[TicketFacts], day: dt.date, now: dt.datetime | None = None
) -> WeeklyStats:
    """The week holding `day`; a week still running at `now` is judged as of `now` (see `ledger.rates`)."""
    tz = settings.tz
    period = week_of(day, tz)
    rates = compute_rates(facts, period, now)
    received = [f for f in facts if f.created_at in period and f.status is not Status.CANCELLED]
    categories = Counter(f.category for f in received)
    grids = Counter(f.grid_id for f in received)
    by_category = [(c.name, categories[c.id]) for c in settings.categories if categories[c.id]]
    by_grid = [(g.name, grids[g.id]) for g in settings.grids if grids[g.id]]
    if grids[None]:
        by_grid.append((texts.NO_GRID, grids[None]))
    cadres = []
    for cadre in settings.cadres:
        own = compute_rates([f for f in facts if f.assignee_id == cadre.id], period, now)
        if own.received or own.due or own.rated:
            cadres.append(
                CadreLine(cadre.name, own.received, own.responded_in_time, own.resolved, own.due, own.rated,
                          own.satisfied, format_rate(own.satisfaction_rate))
            )  # fmt: skip
    weeks = [week_of(day - dt.timedelta(weeks=back), tz) for back in range(TREND_WEEKS - 1, -1, -1)]
    labels = [texts.WEEK_SHORT.format(start=w.start) for w in weeks]
    median = median_first_response(facts, period)
    return WeeklyStats(
        period=period, label=texts.WEEK_LABEL.format(start=period.start, end=period.end - dt.timedelta(days=1)),
        rates=rates, response_rate=format_rate(rates.response_rate),
        resolution_rate=format_rate(rates.resolution_rate), satisfaction_rate=format_rate(rates.satisfaction_rate),
        median_response=texts.NOTHING if median is None else f"{_minutes(median):g}",
        by_category=by_category, by_grid=by_grid, cadres=cadres,
        reports_chart=charts.column_chart(
            texts.CHART_REPORTS, labels, [compute_rates(facts, w).received for w in weeks]
        ),
        categories_chart=charts.bar_chart(
            texts.CHART_CATEGORIES, [name for name, _ in by_category], [count for _, count in by_category]
        ),
        response_chart=charts.line_chart(
            texts.CHART_RESPONSE, labels, [_minutes(median_first_response(facts, w)) for w in weeks]
        ),
    )  # fmt: skip
