"""The transition table: every (action, state) pair is either allowed with its target or refused."""

from __future__ import annotations

import pytest

from ledger.lifecycle import (
    CLOSED_STATES,
    OPEN_STATES,
    RESOLVED_STATES,
    TRANSITIONS,
    UPDATES,
    Action,
    IllegalTransition,
    Status,
    next_status,
)  # fmt: skip

S = Status
ALLOWED = {
    (Action.ASSIGN, S.NEW): S.ASSIGNED,
    (Action.ASSIGN, S.ASSIGNED): S.ASSIGNED,  # a shift change passes an unaccepted ticket on
    (Action.ACCEPT, S.ASSIGNED): S.ACCEPTED,
    (Action.ACCEPT, S.TRANSFERRED): S.ACCEPTED,
    (Action.ACCEPT, S.REOPENED): S.ACCEPTED,
    **{(Action.PROGRESS, s): S.IN_PROGRESS for s in (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED)},
    **{(Action.RESOLVE, s): S.RESOLVED for s in (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED)},
    (Action.CLOSE, S.RESOLVED): S.CLOSED,
    (Action.REOPEN, S.RESOLVED): S.REOPENED,
    (Action.REOPEN, S.CLOSED): S.REOPENED,
    **{
        (Action.TRANSFER, s): S.TRANSFERRED
        for s in (S.NEW, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED, S.RETURNED)
    },
    **{(Action.RETURN, s): S.RETURNED for s in (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED)},
    **{
        (Action.CANCEL, s): S.CANCELLED
        for s in (S.NEW, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED)
    },
    **{
        (Action.MERGE, s): S.MERGED
        for s in (S.NEW, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED)
    },
    **{(Action.JOIN, s): s for s in OPEN_STATES},
    **{(Action.LEAVE, s): s for s in OPEN_STATES},
    **{(Action.COMMIT, s): s for s in (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.TRANSFERRED, S.REOPENED)},
    (Action.RATE, S.RESOLVED): S.RESOLVED,
    **{(Action.REMIND, s): s for s in OPEN_STATES},
    **{(Action.ESCALATE, s): s for s in OPEN_STATES},
    (Action.FOLLOW_UP, S.RESOLVED): S.RESOLVED,
    **{(Action.AGENDA, s): s for s in OPEN_STATES},
    **{(Action.RECATEGORISE, s): s for s in (*OPEN_STATES, S.RESOLVED)},
    # Partner units: 派单, 退单 and 改派 change who does the work while the ticket is open, never its state.
    **{(Action.DISPATCH, s): s for s in OPEN_STATES},
    **{(Action.UNIT_RETURN, s): s for s in OPEN_STATES},
    **{(Action.REDISPATCH, s): s for s in OPEN_STATES},
    # 公开: a patrol finding is made public while it is open or resolved, never its state.
    **{(Action.PUBLISH, s): s for s in (*OPEN_STATES, S.RESOLVED)},
}
EVERY_PAIR = [(a, s) for a in Action if a is not Action.CREATE for s in Status]


@pytest.mark.parametrize(("action", "status"), EVERY_PAIR, ids=lambda v: v.value)
def test_every_pair_is_allowed_or_refused_as_specified(action: Action, status: Status) -> None:
    expected = ALLOWED.get((action, status))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            next_status(action, status)
        assert refused.value.action is action and refused.value.status is status
    else:
        assert next_status(action, status) is expected


def test_the_expected_table_covers_every_allowed_move_of_the_real_table() -> None:
    from_table = {(a, s) for a, (sources, _) in TRANSITIONS.items() for s in sources}
    from_table |= {(a, s) for a, states in UPDATES.items() for s in states}
    assert from_table == set(ALLOWED)


def test_state_groups_partition_the_states() -> None:
    assert OPEN_STATES | RESOLVED_STATES | CLOSED_STATES == set(Status)
    assert not (OPEN_STATES & RESOLVED_STATES or OPEN_STATES & CLOSED_STATES or RESOLVED_STATES & CLOSED_STATES)


def test_terminal_states_accept_nothing_but_reopen_or_transfer() -> None:
    for action in Action:
        if action is Action.CREATE:
            continue
        allowed_from_cancelled = (action, S.CANCELLED) in ALLOWED
        assert not allowed_from_cancelled
