"""SLA watch: each time limit of an open ticket is chased in three steps.

Time limits: the first public response (until a cadre responds), the resolution (reset when the ticket is
reopened) and a cadre's commitment (承诺, due at the end of the promised day). For a limit running from
`start` to `due`, with span = due − start:

- remind     at start + reminder_fraction × span: a private message to the assignee;
- leader     at due: escalated to the grid leader of the ticket's grid, in the cadres' group;
- secretary  at start + secretary_fraction × span: escalated to the secretary, in the cadres' group.

Escalation skips the assignee (a grid leader who owns a ticket escalates straight to the secretary) and
a step whose target was already told. After downtime only the latest step that has come due is sent:
a reminder after the deadline, or a leader escalation once the secretary's turn has come, tells nobody
anything useful. Each step is one `Occurrence` keyed by ticket, limit, due time and step, so it happens
once, and a reopened ticket (new due time) is chased afresh.

A reminder is keyed by its cadre too: a ticket that changes hands after its reminder time and before its
deadline (a shift handover of a ticket nobody accepted, a 转派) reminds the new assignee at the next check, once,
since the one reminded was someone else and the deadline is close by then. Escalations are not: they go to the
grid leader and the secretary, whoever owns the ticket.

A ticket dispatched to a partner unit (派单) also has the unit's own limits, from the dispatch: its first answer
(until `unit_first_response_at`: 接单 进度 办结 退单 by a member) and the resolution. They are chased the same way
with other targets: the reminder goes to the unit (its group, else each member privately); at due the responsible
cadre — the assignee, who 督办s the unit — is told privately and in the cadres' group; at the secretary step the
secretary (unless the assignee is the secretary). Their keys name the unit and the due time, so a 退单 (limits
cleared) stops the chase and a 改派 (new unit, new limits) starts it afresh. A ticket reopened after the dispatch
was resolved within it: the unit's limits of that dispatch are not chased again.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

from jobs import texts
from jobs.common import cadre_name, private, to_cadres
from jobs.model import Occurrence, Pending, TicketChange
from ledger.deadlines import describe_minutes
from ledger.lifecycle import Action, is_open
from ledger.rota import escalation_chain
from ledger.views import TicketView, category_name, place
from ledger.wording import format_time, unit_messages
from settings.models import Cadre, Role, Settings, Unit

JOB = "sla"


class Step(StrEnum):
    REMIND = "remind"
    LEADER = "leader"
    SECRETARY = "secretary"
    CADRE = "cadre"  # a unit's limit passed: the responsible cadre (the assignee) 督办s the unit


UNIT_KINDS = frozenset({"unit_response", "unit_resolution"})


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str  # response | resolution | commitment | unit_response | unit_resolution
    start: dt.datetime
    due: dt.datetime
    unit_id: str | None = None  # the unit's limits: the unit dispatched to


@dataclass(frozen=True, slots=True)
class Chase:
    """One step of chasing one deadline: when, and whom it tells."""

    deadline: Deadline
    step: Step
    at: dt.datetime
    target: Cadre | Unit  # a unit only for the reminder of its own limit


def deadlines(view: TicketView, tz: dt.tzinfo) -> list[Deadline]:
    """The time limits of `view` that are still running (met ones drop out)."""
    if not is_open(view.status):
        return []
    found = []
    if view.first_response_at is None and view.response_due_at is not None:
        found.append(Deadline("response", view.created_at, view.response_due_at))
    if view.resolution_due_at is not None:
        found.append(Deadline("resolution", view.resolution_since or view.created_at, view.resolution_due_at))
    if view.commitment_date is not None and view.committed_at is not None:
        end_of_day = dt.datetime.combine(view.commitment_date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        found.append(Deadline("commitment", view.committed_at, end_of_day))
    return [d for d in found if d.due > d.start]


def unit_deadlines(view: TicketView) -> list[Deadline]:
    """The running limits of the unit `view` is dispatched to (see the module docstring)."""
    if not is_open(view.status) or view.unit_id is None or view.dispatched_at is None:
        return []
    if view.resolution_since is not None and view.resolution_since > view.dispatched_at:
        return []  # reopened after the dispatch: resolved within the unit's limits
    found = []
    if view.unit_first_response_at is None and view.unit_response_due_at is not None:
        found.append(Deadline("unit_response", view.dispatched_at, view.unit_response_due_at, view.unit_id))
    if view.unit_resolution_due_at is not None:
        found.append(Deadline("unit_resolution", view.dispatched_at, view.unit_resolution_due_at, view.unit_id))
    return [d for d in found if d.due > d.start]


@dataclass(frozen=True)
class Targets:
    """Whom the steps of a ticket's deadlines tell: its assignee, and the first grid leader and the secretary of
    its grid's escalation chain other than the assignee."""

    assignee: Cadre | None
    leader: Cadre | None
    secretary: Cadre | None


def targets(settings: Settings, grid_id: str | None, assignee_id: str | None) -> Targets:
    """The `Targets` of a ticket in `grid_id` assigned to `assignee_id`."""
    assignee = settings.cadre(assignee_id) if assignee_id else None
    chain = [c for c in escalation_chain(settings, grid_id) if c.id != assignee_id]
    leader = chain[0] if chain else None
    return Targets(assignee, leader, next((c for c in chain if c.role is Role.SECRETARY), None))


def chases(settings: Settings, view: TicketView, who: Targets | None = None) -> list[Chase]:
    """Every step for every running deadline of `view`, in time order per deadline; `who` is `targets` of its
    grid and assignee when the caller knows it already."""
    return [chase for steps in _steps_by_deadline(settings, view, who) for chase in steps]


def _steps_by_deadline(settings: Settings, view: TicketView, who: Targets | None = None) -> list[list[Chase]]:
    """`chases`, deadline by deadline."""
    who = who or targets(settings, view.grid_id, view.assignee_id)
    assignee, leader, secretary = who.assignee, who.leader, who.secretary
    schedule = settings.schedule
    found = []
    for deadline in deadlines(view, settings.tz):
        span = deadline.due - deadline.start
        found.append(_steps(deadline, [
            (Step.REMIND, deadline.start + span * schedule.reminder_fraction, assignee),
            (Step.LEADER, deadline.due, leader),
            (Step.SECRETARY, deadline.start + span * schedule.secretary_fraction, secretary),
        ]))  # fmt: skip
    for deadline in unit_deadlines(view):
        unit = settings.unit(deadline.unit_id)
        if unit is None:  # no longer in config: nobody to remind
            continue
        span = deadline.due - deadline.start
        found.append(_steps(deadline, [
            (Step.REMIND, deadline.start + span * schedule.reminder_fraction, unit),
            (Step.CADRE, deadline.due, assignee),
            (Step.SECRETARY, deadline.start + span * schedule.secretary_fraction, secretary),
        ]))  # fmt: skip
    return found


def _steps(deadline: Deadline, steps: list[tuple[Step, dt.datetime, Cadre | Unit | None]]) -> list[Chase]:
    """The chases of `steps`, skipping a missing target and an escalation to someone already told."""
    found = []
    told: set[str] = set()
    for step, at, target in steps:
        if target is None or (step is not Step.REMIND and target.id in told):
            continue
        if step is not Step.REMIND:
            told.add(target.id)
        found.append(Chase(deadline, step, _whole_second(at), target))
    return found


def _whole_second(instant: dt.datetime) -> dt.datetime:
    """`instant` rounded up to a whole second."""
    micro = instant.microsecond
    return instant + dt.timedelta(microseconds=1_000_000 - micro) if micro else instant


def pending(settings: Settings, views: list[TicketView], now: dt.datetime) -> list[Pending]:
    """For each running deadline, its latest step that has come due at `now` (see the module docstring), keyed;
    its messages are composed only when asked (`Pending.compose`)."""
    return Planner(settings).pending(views, now)


_Plan = tuple[tuple[tuple[float, dt.datetime, str], ...], ...]
"""A ticket's steps deadline by deadline, each as its POSIX time (compared with `now`: cheaper than instants of
different zones), its instant and its key (`_period`). Atomic values only: the garbage collector skips such tuples,
thousands of which are kept."""


@dataclass
class Planner:
    """`pending` for a check that runs every minute over the same open tickets: most of them have not changed since
    the last minute, so each ticket's steps and their keys are worked out once per state of the ticket (its view)
    and kept while it is among the views asked about; only which steps have come due is decided at every call.

    The steps found carried out (`carried_out`) are left out while they are the latest come due: one carried out
    stays so (`job_run` keeps every occurrence), so each minute looks up only the steps newly come due."""

    settings: Settings
    _plans: dict[TicketView, _Plan] = field(default_factory=dict, init=False, repr=False)
    _done: set[str] = field(default_factory=set, init=False, repr=False)

    def carried_out(self, periods: Iterable[str]) -> None:
        """Remember that the steps keyed `periods` were carried out."""
        self._done.update(periods)

    def pending(self, views: list[TicketView], now: dt.datetime) -> list[Pending]:
        """`pending(settings, views, now)`, less the steps known to be carried out."""
        at = now.timestamp()
        plans: dict[TicketView, _Plan] = {}
        done: set[str] = set()
        known: dict[tuple[str | None, str | None], Targets] = {}  # a few grids and cadres for thousands of tickets
        found = []
        for view in views:
            plan = self._plans.get(view)
            if plan is None:
                key = (view.grid_id, view.assignee_id)
                who = known.get(key) or known.setdefault(key, targets(self.settings, *key))
                by_deadline = _steps_by_deadline(self.settings, view, who)
                plan = tuple(tuple((c.at.timestamp(), c.at, _period(view, c)) for c in steps) for steps in by_deadline)
            plans[view] = plan
            for deadline, steps in enumerate(plan):
                come = [step for step, (when, _, _) in enumerate(steps) if when <= at]
                if not come:
                    continue
                _, due_at, period = steps[come[-1]]
                if period in self._done:
                    done.add(period)
                else:
                    found.append(Pending(JOB, period, due_at, partial(self._compose, view, deadline, come[-1], now)))
        self._plans, self._done = plans, done
        return found

    def _compose(self, view: TicketView, deadline: int, step: int, now: dt.datetime) -> Occurrence:
        """The occurrence of the `step`-th step of the `deadline`-th running deadline of `view` (as planned)."""
        chase = _steps_by_deadline(self.settings, view)[deadline][step]
        return _occurrence(self.settings, view, chase, now)


def due(settings: Settings, views: list[TicketView], now: dt.datetime) -> list[Occurrence]:
    """`pending`'s occurrences, composed."""
    return [p.compose() for p in pending(settings, views, now)]


def next_at(settings: Settings, views: list[TicketView], after: dt.datetime) -> dt.datetime | None:
    """The first step of any ticket strictly after `after` (the replay's next stop)."""
    return min((c.at for v in views for c in chases(settings, v) if c.at > after), default=None)


def _period(view: TicketView, chase: Chase) -> str:
    """The step's key: the ticket, the limit (a unit's names the unit), its due time and the step; a reminder's
    names its cadre too (each assignee is reminded once, see the module docstring)."""
    deadline = chase.deadline
    due = f"{deadline.due.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"
    if deadline.kind in UNIT_KINDS:
        return f"#{view.number} {deadline.kind} {deadline.unit_id} {due} {chase.step.value}"
    period = f"#{view.number} {deadline.kind} {due} {chase.step.value}"
    return period + f" {chase.target.id}" if chase.step is Step.REMIND else period


def _occurrence(settings: Settings, view: TicketView, chase: Chase, now: dt.datetime) -> Occurrence:
    deadline = chase.deadline
    if deadline.kind in UNIT_KINDS:
        return _unit_occurrence(settings, view, chase, now)
    fields = {
        "number": view.number, "category": category_name(settings, view), "place": place(view),
        "deadline": texts.DEADLINE_NAMES[deadline.kind], "due": format_time(deadline.due, settings.tz),
        "assignee": cadre_name(settings, view.assignee_id), "target": chase.target.name,
    }
    period = _period(view, chase)
    if chase.step is Step.REMIND:
        left = describe_minutes(max(1, math.ceil((deadline.due - now).total_seconds() / 60)))
        reply = private(chase.target, texts.REMINDER.format(**fields, left=left), view.number)
        change = TicketChange(view.number, Action.REMIND, texts.EVENT_REMIND.format(**fields))
        return Occurrence(JOB, period, chase.at, (reply,), (change,))
    assignee = settings.cadre(view.assignee_id) if view.assignee_id else None
    text = texts.ESCALATION.format(**fields, role=texts.ROLE_NAMES[chase.target.role.value])
    mention = [chase.target, *([assignee] if assignee else [])]
    change = TicketChange(view.number, Action.ESCALATE, texts.EVENT_ESCALATE.format(**fields))
    return Occurrence(JOB, period, chase.at, tuple(to_cadres(settings, text, mention, view.number)), (change,))


def _unit_occurrence(settings: Settings, view: TicketView, chase: Chase, now: dt.datetime) -> Occurrence:
    """A step of chasing a unit's own limit: the unit reminded, the responsible cadre or the secretary told."""
    deadline = chase.deadline
    unit = settings.unit(deadline.unit_id)
    assert unit is not None  # chases() leaves out a unit no longer configured
    fields = {
        "number": view.number, "category": category_name(settings, view), "place": place(view), "unit": unit.name,
        "deadline": texts.UNIT_DEADLINE_NAMES[deadline.kind], "due": format_time(deadline.due, settings.tz),
        "assignee": cadre_name(settings, view.assignee_id), "target": chase.target.name,
    }
    period = _period(view, chase)
    if chase.step is Step.REMIND:
        left = describe_minutes(max(1, math.ceil((deadline.due - now).total_seconds() / 60)))
        replies = unit_messages(settings, unit, texts.UNIT_REMINDER.format(**fields, left=left), view.number)
        change = TicketChange(view.number, Action.REMIND, texts.EVENT_UNIT_REMIND.format(**fields))
        return Occurrence(JOB, period, chase.at, tuple(replies), (change,))
    assert isinstance(chase.target, Cadre)
    assignee = settings.cadre(view.assignee_id) if view.assignee_id else None
    if chase.step is Step.CADRE:  # the responsible cadre, privately and in the cadres' group
        text = texts.UNIT_OVERDUE.format(**fields)
        replies = [private(chase.target, text, view.number)]
        if settings.cadres_group() is not None:
            replies += to_cadres(settings, text, [chase.target], view.number)
    else:
        text = texts.UNIT_ESCALATION.format(**fields, role=texts.ROLE_NAMES[chase.target.role.value])
        replies = to_cadres(settings, text, [chase.target, *([assignee] if assignee else [])], view.number)
    change = TicketChange(view.number, Action.ESCALATE, texts.EVENT_UNIT_ESCALATE.format(**fields))
    return Occurrence(JOB, period, chase.at, tuple(replies), (change,))


