"""The ticket lifecycle: states, the actions that move them, and the one table of allowed transitions.

new → assigned → accepted (签收) → in_progress → resolved (办结) → closed, plus reopened, transferred,
returned (退回) and cancelled. States are grouped as open / resolved / closed, as FixMyStreet does.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    TRANSFERRED = "transferred"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    MERGED = "merged"  # a duplicate whose reporters were moved to another ticket (合并)


OPEN_STATES = frozenset(
    {Status.NEW, Status.ASSIGNED, Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED, Status.TRANSFERRED}
)
RESOLVED_STATES = frozenset({Status.RESOLVED})
CLOSED_STATES = frozenset({Status.CLOSED, Status.RETURNED, Status.CANCELLED, Status.MERGED})
NOT_COUNTED = frozenset({Status.CANCELLED, Status.MERGED})
"""Tickets that were never a matter of their own (withdrawn, or a duplicate): no rate or count includes them."""


class Action(StrEnum):
    CREATE = "create"
    ASSIGN = "assign"
    ACCEPT = "accept"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    TRANSFER = "transfer"
    RETURN = "return"
    CANCEL = "cancel"
    MERGE = "merge"
    JOIN = "join"
    LEAVE = "leave"
    COMMIT = "commit"
    RATE = "rate"
    # Done by the jobs (reminders, escalations, 回访) and by 立项; they change no state.
    REMIND = "remind"
    ESCALATE = "escalate"
    FOLLOW_UP = "follow_up"
    AGENDA = "agenda"
    RECATEGORISE = "recategorise"  # 改类: a cadre corrects the category; no state change
    # Partner units (派单 / 退单 / 改派): who does the work changes, not the state; the cadre stays responsible (督办).
    DISPATCH = "dispatch"
    UNIT_RETURN = "unit_return"
    REDISPATCH = "redispatch"
    # 公开: a cadre's patrol finding (上报) is posted to the residents' group(s) of its grid; no state change.
    PUBLISH = "publish"


_WORKING = frozenset({Status.ASSIGNED, Status.ACCEPTED, Status.IN_PROGRESS, Status.TRANSFERRED, Status.REOPENED})

TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    # From ASSIGNED too: at a shift change a ticket nobody has accepted passes to the incoming cadre (jobs/handover.py).
    Action.ASSIGN: (frozenset({Status.NEW, Status.ASSIGNED}), Status.ASSIGNED),
    Action.ACCEPT: (frozenset({Status.ASSIGNED, Status.TRANSFERRED, Status.REOPENED}), Status.ACCEPTED),
    Action.PROGRESS: (_WORKING, Status.IN_PROGRESS),
    Action.RESOLVE: (_WORKING, Status.RESOLVED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED, Status.CLOSED}), Status.REOPENED),
    Action.TRANSFER: (_WORKING | {Status.NEW, Status.RETURNED}, Status.TRANSFERRED),
    Action.RETURN: (_WORKING, Status.RETURNED),
    Action.CANCEL: (_WORKING | {Status.NEW}, Status.CANCELLED),
    Action.MERGE: (_WORKING | {Status.NEW}, Status.MERGED),
}
"""action → (states it may start from, state it leads to)."""

UPDATES: dict[Action, frozenset[Status]] = {
    Action.JOIN: OPEN_STATES,
    Action.LEAVE: OPEN_STATES,
    Action.COMMIT: _WORKING,
    Action.RATE: RESOLVED_STATES,
    Action.REMIND: OPEN_STATES,
    Action.ESCALATE: OPEN_STATES,
    Action.FOLLOW_UP: RESOLVED_STATES,
    Action.AGENDA: OPEN_STATES,
    Action.RECATEGORISE: OPEN_STATES | RESOLVED_STATES,
    Action.DISPATCH: OPEN_STATES,
    Action.UNIT_RETURN: OPEN_STATES,
    Action.REDISPATCH: OPEN_STATES,
    Action.PUBLISH: OPEN_STATES | RESOLVED_STATES,
}
"""Actions that change a ticket without changing its state, and the states they are allowed in."""

CADRE_RESPONSES = frozenset({Action.ACCEPT, Action.PROGRESS, Action.RESOLVE, Action.RETURN, Action.COMMIT})
"""The actions that count as the cadre's first public response to a ticket."""


class IllegalTransition(Exception):
    def __init__(self, action: Action, status: Status) -> None:
        super().__init__(f"cannot {action.value} a ticket that is {status.value}")
        self.action = action
        self.status = status


def next_status(action: Action, status: Status) -> Status:
    """The state `action` leads to from `status`, or IllegalTransition. Updates keep the state."""
    if action in TRANSITIONS:
        sources, target = TRANSITIONS[action]
        if status in sources:
            return target
    elif action in UPDATES and status in UPDATES[action]:
        return status
    raise IllegalTransition(action, status)


def is_open(status: Status) -> bool:
    return status in OPEN_STATES
