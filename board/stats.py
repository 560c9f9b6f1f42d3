"""The weekly statistics page: the three rates, counts by category, grid and source (居民反映 / 主动发现), a
per-cadre table, a per-unit table (派单, 部门响应率, 部门办结率, overdue) and charts.

Every figure is defined by `ledger.rates` (the one definition of 响应率 / 解决率 / 满意率). The page asks a
`Figures` for them: `FactFigures` computes them with `ledger.rates` over tickets' facts; `LedgerFigures` has
the database count them (`storage.board_queries`), so a page costs the same on a ledger of any size, and
tests/test_board_stats.py checks that both give the same figures on the same ledger. This module only
chooses the periods and the groupings.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from typing import Protocol

from sqlmodel import Session

from board import charts, texts
from ledger.lifecycle import NOT_COUNTED
from ledger.rates import (
    Period,
    Rates,
    TicketFacts,
    UnitRates,
    by_source,
    compute_rates,
    compute_unit_rates,
    format_rate,
    median_first_response,
)  # fmt: skip
from ledger.wording import SOURCE_NAMES
from settings.models import Settings
from storage import board_queries

TREND_WEEKS = 8


class Figures(Protocol):
    def rates(self, period: Period, now: dt.datetime | None) -> dict[str | None, Rates]:
        """`compute_rates` of each assignee's tickets (None: unassigned); assignees with no figure left out."""

    def received(self, periods: Sequence[Period]) -> list[int]:
        """Each period's received tickets (`Rates.received`)."""

    def received_by(self, period: Period) -> tuple[Counter[str], Counter[str | None]]:
        """The period's received tickets by category and by grid."""

    def median_first_response(self, periods: Sequence[Period]) -> list[dt.timedelta | None]:
        """`ledger.rates.median_first_response` of each period."""

    def unit_rates(self, period: Period, now: dt.datetime | None) -> dict[str, UnitRates]:
        """`ledger.rates.compute_unit_rates`: each partner unit's figures; units with no figure left out."""

    def received_by_source(self, period: Period) -> Counter[str]:
        """`ledger.rates.by_source`: the period's received tickets by source."""


@dataclass(frozen=True)
class FactFigures:
    """The figures computed by `ledger.rates` over the facts of every ticket they may count."""

    facts: Sequence[TicketFacts]

    def rates(self, period: Period, now: dt.datetime | None) -> dict[str | None, Rates]:
        owners: dict[str | None, list[TicketFacts]] = {}
        for facts in self.facts:
            owners.setdefault(facts.assignee_id, []).append(facts)
        rates = {owner: compute_rates(own, period, now) for owner, own in owners.items()}
        return {owner: own for owner, own in rates.items() if any(astuple(own))}

    def received(self, periods: Sequence[Period]) -> list[int]:
        return [compute_rates(self.facts, period).received for period in periods]

    def received_by(self, period: Period) -> tuple[Counter[str], Counter[str | None]]:
        received = [f for f in self.facts if f.created_at in period and f.status not in NOT_COUNTED]
        return Counter(f.category for f in received), Counter(f.grid_id for f in received)

    def median_first_response(self, periods: Sequence[Period]) -> list[dt.timedelta | None]:
        return [median_first_response(self.facts, period) for period in periods]

    def unit_rates(self, period: Period, now: dt.datetime | None) -> dict[str, UnitRates]:
        return compute_unit_rates(self.facts, period, now)

    def received_by_source(self, period: Period) -> Counter[str]:
        return by_source(self.facts, period)


@dataclass(frozen=True)
class LedgerFigures:
    """The same figures counted by the database."""

    session: Session

    def rates(self, period: Period, now: dt.datetime | None) -> dict[str | None, Rates]:
        return board_queries.rates_by_assignee(self.session, period, now)

    def received(self, periods: Sequence[Period]) -> list[int]:
        return board_queries.received(self.session, periods)

    def received_by(self, period: Period) -> tuple[Counter[str], Counter[str | None]]:
        return board_queries.received_by(self.session, period)

    def median_first_response(self, periods: Sequence[Period]) -> list[dt.timedelta | None]:
        return [board_queries.median_first_response(self.session, period) for period in periods]

    def unit_rates(self, period: Period, now: dt.datetime | None) -> dict[str, UnitRates]:
        return board_queries.rates_by_unit(self.session, period, now)

    def received_by_source(self, period: Period) -> Counter[str]:
        return board_queries.received_by_source(self.session, period)


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
class UnitLine:
    """A partner unit's row: 派单, 部门响应率 (in time / counted), 部门办结率 (resolved / due), overdue."""

    name: str
    dispatched: int
    responded_in_time: int
    response_counted: int
    response_rate: str
    resolved: int
    due: int
    resolution_rate: str
    overdue: int


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
    units: list[UnitLine]
    by_source: list[tuple[str, int]]
    """居民反映 and 主动发现 among the week's received tickets (both always listed)."""
    reports_chart: str
    categories_chart: str
    response_chart: str
    units_chart: str


def week_of(day: dt.date, tz: dt.tzinfo) -> Period:
    """Monday 00:00 to the next Monday 00:00 (local time) of the week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(), tzinfo=tz)
    return Period(start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=tz))


def _minutes(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def total(rates: Sequence[Rates]) -> Rates:
    """The figures of several groups of tickets together: every figure is a count, so they add up."""
    return Rates(*(sum(getattr(r, field.name) for r in rates) for field in fields(Rates)))


def weekly_stats(
    settings: Settings, facts: Sequence[TicketFacts] | Figures, day: dt.date, now: dt.datetime | None = None
) -> WeeklyStats:
    """The week holding `day`; a week still running at `now` is judged as of `now` (see `ledger.rates`)."""
    figures = FactFigures(facts) if isinstance(facts, Sequence) else facts
    tz = settings.tz
    period = week_of(day, tz)
    by_owner = figures.rates(period, now)
    rates = total(list(by_owner.values()))
    categories, grids = figures.received_by(period)
    by_category = [(c.name, categories[c.id]) for c in settings.categories if categories[c.id]]
    by_grid = [(g.name, grids[g.id]) for g in settings.grids if grids[g.id]]
    if grids[None]:
        by_grid.append((texts.NO_GRID, grids[None]))
    cadres = []
    for cadre in settings.cadres:
        own = by_owner.get(cadre.id)
        if own is not None and (own.received or own.due or own.rated):
            cadres.append(
                CadreLine(cadre.name, own.received, own.responded_in_time, own.resolved, own.due, own.rated,
                          own.satisfied, format_rate(own.satisfaction_rate))
            )  # fmt: skip
    units = unit_lines(settings, figures.unit_rates(period, now))
    sources = figures.received_by_source(period)
    weeks = [week_of(day - dt.timedelta(weeks=back), tz) for back in range(TREND_WEEKS - 1, -1, -1)]
    labels = [texts.WEEK_SHORT.format(start=w.start) for w in weeks]
    medians = figures.median_first_response(weeks)
    median = medians[-1]  # the last of the weeks is this one
    return WeeklyStats(
        period=period, label=texts.WEEK_LABEL.format(start=period.start, end=period.end - dt.timedelta(days=1)),
        rates=rates, response_rate=format_rate(rates.response_rate),
        resolution_rate=format_rate(rates.resolution_rate), satisfaction_rate=format_rate(rates.satisfaction_rate),
        median_response=texts.NOTHING if median is None else f"{_minutes(median):g}",
        by_category=by_category, by_grid=by_grid, cadres=cadres, units=units,
        by_source=[(name, sources[source]) for source, name in SOURCE_NAMES.items()],
        reports_chart=charts.column_chart(texts.CHART_REPORTS, labels, figures.received(weeks)),
        categories_chart=charts.bar_chart(
            texts.CHART_CATEGORIES, [name for name, _ in by_category], [count for _, count in by_category]
        ),
        response_chart=charts.line_chart(texts.CHART_RESPONSE, labels, [_minutes(m) for m in medians]),
        units_chart=charts.rate_pairs_chart(texts.CHART_UNITS, [u.name for u in units], [
            (texts.CHART_UNIT_RESPONSE, [_ratio(u.responded_in_time, u.response_counted) for u in units]),
            (texts.CHART_UNIT_RESOLUTION, [_ratio(u.resolved, u.due) for u in units]),
        ]) if units else "",
    )  # fmt: skip


def unit_lines(settings: Settings, rates: dict[str, UnitRates]) -> list[UnitLine]:
    """The units with a figure, in config order (a unit no longer configured after them, by its id)."""
    names = {u.id: u.name for u in settings.units}
    order = [u.id for u in settings.units if u.id in rates] + sorted(set(rates) - set(names))
    return [
        UnitLine(
            names.get(unit, unit), rates[unit].dispatched, rates[unit].responded_in_time, rates[unit].response_counted,
            format_rate(rates[unit].response_rate), rates[unit].resolved, rates[unit].due,
            format_rate(rates[unit].resolution_rate), rates[unit].overdue,
        )
        for unit in order
    ]  # fmt: skip


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
