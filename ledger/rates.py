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

`resolved_in` (the digest's 办结 figure and its thanks) is a plain count: tickets resolved in the period,
whenever they were due.

Cancelled tickets (撤销 / 误报) count nowhere. Returned tickets (退回: not the community's matter)
count as received and responded, but not as due or resolved. A rate with nothing to divide by is None
(shown "—").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.lifecycle import NOT_COUNTED, Status

SATISFIED_RATINGS = frozenset({"满意", "基本满意"})


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


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    def __contains__(self, instant: dt.datetime | None) -> bool:
        return instant is not None and self.start <= instant < self.end


@dataclass(frozen=True)
class Rates:
    received: int
    response_counted: int
    responded_in_time: int
    due: int
    resolved: int
    overdue: int
    rated: int
    satisfied: int

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.responded_in_time, self.response_counted)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved, self.due)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)


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
    counted = [t for t in tickets if t.status not in NOT_COUNTED]
    received = [t for t in counted if t.created_at in period]
    due = [
        t
        for t in counted
        if t.status is not Status.RETURNED
        and t.resolution_due_at in period
        and (t.resolution_due_at < as_of or t.resolved_at is not None)
    ]
    ratings = [rating for t in counted for at, rating in t.ratings if at in period]
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
