"""The three rates communities are measured by (the 12345 hotline's 响应率 / 解决率 / 满意率).

One implementation, used by the weekly digest, the board and the exports. For a period [start, end), judged
at `as_of`: the end of the period, or now for a period still running (a deadline that has not come yet
cannot have been missed):

- received        tickets created in the period.
- 响应率          responded_in_time ÷ response_counted. response_counted = received tickets that were
                  answered (a first public response by a cadre: 签收 / 进度 / 办结 / 退回 / 承诺) or whose
                  first-response deadline passed before `as_of`; responded_in_time = those answered at or
                  before the deadline. An unanswered ticket still inside its first-response time is neither
                  late nor on time yet, so it is left out.
- 解决率          resolved ÷ due, where due = tickets whose resolution deadline falls in the period and
                  passed before `as_of` (or that were resolved already); resolved = those of them resolved
                  (办结) before `as_of`, on time or late.
- 满意率          (满意 + 基本满意) ÷ rated, counting every rating given in the period, including an
                  不满意 that reopened its ticket. Tickets closed without a rating are "not rated" and
                  never count as satisfied.
- overdue         tickets not resolved by a resolution deadline that passed before `as_of`, and that were
                  still unresolved at some moment of the period (an old ticket resolved late before the
                  period began is not this period's overdue).

Partner units (派单, `compute_unit_rates`), per unit, in the same shapes over the unit's own limits (counted from
the dispatch; handlers/units.py):

- dispatched      tickets dispatched to the unit (`dispatched_at`) in the period and still the unit's (`unit_id`;
                  a 改派 moves the ticket and its dispatch time to the new unit, a 退单 takes it from every unit).
- 部门响应率      unit_responded_in_time ÷ unit_response_counted. unit_response_counted = dispatched tickets the
                  unit answered (its first 接单 / 进度 / 办结 since the dispatch, `unit_first_response_at`) or whose
                  unit response deadline passed before `as_of`; unit_responded_in_time = those answered at or before
                  that deadline.
- 部门办结率      unit_resolved ÷ unit_due, where unit_due = the unit's tickets whose unit resolution deadline falls
                  in the period and passed before `as_of` (or that were resolved already); unit_resolved = those of
                  them resolved before `as_of`, on time or late.
- unit overdue    the unit's tickets not resolved by a unit resolution deadline that passed before `as_of`, and still
                  unresolved at some moment of the period (`overdue` over the unit's deadline).

Cancelled tickets count for no unit either; returned ones (退回) count as dispatched and responded, not as due.

`by_source` counts the received tickets by who found them: `resident` (居民反映) or `patrol` (主动发现, a cadre's
上报); the two add up to `received`.

`resolved_in` (the digest's 办结 figure and its thanks) is a plain count: tickets resolved in the period,
whenever they were due.

Cancelled tickets (撤销 / 误报) count nowhere. Returned tickets (退回: not the community's matter)
count as received and responded, but not as due or resolved. A rate with nothing to divide by is None
(shown "—").
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import astuple, dataclass, replace

from ledger.lifecycle import NOT_COUNTED, Status

SATISFIED_RATINGS = frozenset({"满意", "基本满意"})
RESIDENT = "resident"
"""`Ticket.source` of a resident's report (居民反映)."""
PATROL = "patrol"
"""`Ticket.source` of a cadre's finding on the rounds (上报, 主动发现)."""
SOURCES = (RESIDENT, PATROL)


@dataclass(frozen=True)
class TicketFacts:
    """What the rates need to know of one ticket, including every rating it was ever given."""

    number: int
    category: str
    grid_id: str | None
    location: str | None
    assignee_id: str | None
    status: Status
    created_at: dt.datetime
    response_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    ratings: tuple[tuple[dt.datetime, str], ...] = ()
    # 派单: the unit the ticket is dispatched to now (None: none, or handed back with 退单) and its own limits.
    unit_id: str | None = None
    dispatched_at: dt.datetime | None = None
    unit_response_due_at: dt.datetime | None = None
    unit_first_response_at: dt.datetime | None = None
    unit_resolution_due_at: dt.datetime | None = None
    source: str = RESIDENT


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    def __contains__(self, instant: dt.datetime | None) -> bool:
        return instant is not None and self.start <= instant < self.end


class _ResponseAndResolution:
    """The two rates every set of figures has: responded in time over those counted, resolved over those due."""

    responded_in_time: int
    response_counted: int
    resolved: int
    due: int

    @property
    def response_rate(self) -> float | None:
        """响应率 (of a unit: 部门响应率)."""
        return _ratio(self.responded_in_time, self.response_counted)

    @property
    def resolution_rate(self) -> float | None:
        """解决率 (of a unit: 部门办结率)."""
        return _ratio(self.resolved, self.due)


@dataclass(frozen=True)
class Rates(_ResponseAndResolution):
    received: int
    response_counted: int
    responded_in_time: int
    due: int
    resolved: int
    overdue: int
    rated: int
    satisfied: int

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)


@dataclass(frozen=True)
class UnitRates(_ResponseAndResolution):
    """One partner unit's figures for a period (see the module docstring)."""

    dispatched: int
    response_counted: int
    responded_in_time: int
    due: int
    resolved: int
    overdue: int


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def responded_in_time(ticket: TicketFacts) -> bool:
    return (
        ticket.first_response_at is not None
        and ticket.response_due_at is not None
        and ticket.first_response_at <= ticket.response_due_at
    )


def is_overdue(ticket: TicketFacts, at: dt.datetime) -> bool:
    """Past its resolution deadline at `at` without having been resolved by that deadline."""
    if ticket.status in (*NOT_COUNTED, Status.RETURNED) or ticket.resolution_due_at is None:
        return False
    if ticket.resolution_due_at >= at:
        return False
    return ticket.resolved_at is None or ticket.resolved_at > ticket.resolution_due_at


def _overdue_during(ticket: TicketFacts, period: Period, as_of: dt.datetime) -> bool:
    late_before_period = ticket.resolved_at is not None and ticket.resolved_at < period.start
    return is_overdue(ticket, as_of) and not late_before_period


def judged_at(period: Period, now: dt.datetime | None = None) -> dt.datetime:
    """The instant a period's deadlines are judged at: its end, or `now` while it is still running."""
    return period.end if now is None else min(period.end, now)


def awaits_response(ticket: TicketFacts, as_of: dt.datetime) -> bool:
    """Whether a ticket counts in the 响应率: it was answered, or its first-response deadline passed before `as_of`."""
    passed = ticket.response_due_at is not None and ticket.response_due_at < as_of
    return ticket.first_response_at is not None or passed


def compute_rates(tickets: Iterable[TicketFacts], period: Period, now: dt.datetime | None = None) -> Rates:
    """The period's figures, judged at its end, or at `now` (when given) while it is still running."""
    as_of = judged_at(period, now)
    start, end = period.start, period.end  # `in period`, written out: this runs for every ticket of a digest
    counted = [t for t in tickets if t.status not in NOT_COUNTED]
    received = [t for t in counted if start <= t.created_at < end]
    due = [
        t
        for t in counted
        if t.status is not Status.RETURNED
        and (deadline := t.resolution_due_at) is not None
        and start <= deadline < end
        and (deadline < as_of or t.resolved_at is not None)
    ]
    ratings = [rating for t in counted for at, rating in t.ratings if start <= at < end]
    return Rates(
        received=len(received),
        response_counted=sum(awaits_response(t, as_of) for t in received),
        responded_in_time=sum(responded_in_time(t) for t in received),
        due=len(due),
        resolved=sum(t.resolved_at is not None and t.resolved_at < as_of for t in due),
        overdue=sum(_overdue_during(t, period, as_of) for t in counted),
        rated=len(ratings),
        satisfied=sum(rating in SATISFIED_RATINGS for rating in ratings),
    )


def unit_view(ticket: TicketFacts) -> TicketFacts:
    """The ticket as its unit is measured: the unit's limits and first answer in place of the cadres'."""
    return replace(
        ticket, created_at=ticket.dispatched_at or ticket.created_at, response_due_at=ticket.unit_response_due_at,
        first_response_at=ticket.unit_first_response_at, resolution_due_at=ticket.unit_resolution_due_at,
    )  # fmt: skip


def compute_unit_rates(
    tickets: Iterable[TicketFacts], period: Period, now: dt.datetime | None = None
) -> dict[str, UnitRates]:
    """Each unit's figures for the period (judged as `compute_rates` judges), units without any figure left out.

    The cadres' definitions applied to the unit's view of its tickets (`unit_view`): dispatched is "received" by
    the dispatch time, 部门响应率 is 响应率 and 部门办结率 is 解决率 over the unit's own limits."""
    own: dict[str, list[TicketFacts]] = {}
    for ticket in tickets:
        if ticket.unit_id is not None and ticket.dispatched_at is not None:
            own.setdefault(ticket.unit_id, []).append(unit_view(ticket))
    found = {}
    for unit, views in own.items():
        rates = compute_rates(views, period, now)
        figures = UnitRates(
            dispatched=rates.received, response_counted=rates.response_counted,
            responded_in_time=rates.responded_in_time, due=rates.due, resolved=rates.resolved, overdue=rates.overdue,
        )  # fmt: skip
        if any(astuple(figures)):
            found[unit] = figures
    return found


def by_source(tickets: Iterable[TicketFacts], period: Period) -> Counter[str]:
    """The period's received tickets by source (`resident`, `patrol`); they add up to `Rates.received`."""
    return Counter(t.source for t in tickets if t.status not in NOT_COUNTED and t.created_at in period)


def resolved_in(tickets: Iterable[TicketFacts], period: Period) -> list[TicketFacts]:
    """Tickets resolved (办结) in the period, whenever they were due: the digest's 办结 figure and its thanks."""
    return [t for t in tickets if t.status not in (*NOT_COUNTED, Status.RETURNED) and t.resolved_at in period]


def median_first_response(tickets: Iterable[TicketFacts], period: Period) -> dt.timedelta | None:
    """The median time from report to the first public response, over the period's received tickets that had one.

    Tickets not (yet) responded to are left out rather than guessed; None when no ticket was responded to.
    """
    waits = sorted(
        t.first_response_at - t.created_at
        for t in tickets
        if t.status not in NOT_COUNTED and t.created_at in period and t.first_response_at is not None
    )
    if not waits:
        return None
    middle = len(waits) // 2
    return waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2


def format_rate(rate: float | None) -> str:
    """`0.875` → `87.5%`; no data → `—`."""
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".0%", "%")
