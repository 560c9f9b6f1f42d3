"""What the jobs read (a snapshot of each ticket) and what they give back (occurrences to carry out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from handlers.messages import Outgoing
from ledger.lifecycle import Action, Status


@dataclass(frozen=True)
class TicketView:
    """One ticket as the jobs see it: its ledger fields plus when its current deadlines started."""

    number: int
    status: Status
    category: str
    location: str | None
    grid_id: str | None
    chat_id: str
    chat_name: str
    chat_is_private: bool
    assignee_id: str | None
    created_at: dt.datetime
    response_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    resolution_since: dt.datetime | None  # when the current resolution deadline was set (creation or reopening)
    resolved_at: dt.datetime | None
    commitment_date: dt.date | None
    committed_at: dt.datetime | None
    rating: str | None
    agenda: bool
    reporters: tuple[tuple[str, str], ...] = ()  # (member id, name) of the active reporters


@dataclass(frozen=True)
class TicketChange:
    """An event a job records on a ticket through `apply_action`."""

    ticket_id: int
    action: Action
    note: str = ""
    changes: dict[str, Any] = field(default_factory=dict)


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
