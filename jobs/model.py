"""What the jobs read (a snapshot of each ticket) and what they give back (occurrences to carry out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.lifecycle import Action
from ledger.messages import Outgoing


@dataclass(frozen=True)
class TicketChange:
    """An event a job records on a ticket through `apply_action`."""

    ticket_id: int
    action: Action
    note: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TriageOpening:
    """A triage item nobody decided in time, opened as a ticket when the occurrence is carried out.

    `notice` (to the new assignee) is formatted with `notice_fields` and the new ticket's `number` then."""

    item_id: int
    fields: dict[str, Any]  # the ticket's fields, as `storage.tickets.open_ticket` takes them
    assignee_id: str
    note: str
    notice: Outgoing
    notice_fields: dict[str, str]


@dataclass(frozen=True)
class Occurrence:
    """One run of a job for one period: carried out once, atomically, or not at all.

    `period` is unique within `job` (a week, a day, a shift change, a ticket's deadline step).
    `output` is kept with the run when the text must be shown again exactly (the digest).
    """

    job: str
    period: str
    due_at: dt.datetime
    replies: tuple[Outgoing, ...] = ()
    changes: tuple[TicketChange, ...] = ()
    output: str | None = None
    openings: tuple[TriageOpening, ...] = ()


@dataclass(frozen=True, slots=True)
class Pending:
    """An occurrence known by its key before its messages are composed: a check that runs every minute finds the
    same steps due again and again, and composes only those not carried out before (`compose`)."""

    job: str
    period: str
    due_at: dt.datetime
    compose: Callable[[], Occurrence]
