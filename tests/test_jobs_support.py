"""Helpers for the job tests (no tests here): run the jobs at an instant, or check every so often."""

from __future__ import annotations

import datetime as dt

from jobs.runner import JobRunner
from ledger.lifecycle import Status
from ledger.messages import Outgoing
from ledger.views import TicketView
from storage.tickets import ticket_events
from tests.chat import Chat
from tests.conftest import MONDAY_9AM

MINUTE = dt.timedelta(minutes=1)


def tick(chat: Chat, at: dt.datetime | None = None) -> list[Outgoing]:
    """Run every job due at `at` (default: the clock's now) and return what was delivered."""
    if at is not None:
        chat.clock.set(at)
    before = len(chat.transport.sent)
    JobRunner(chat.app.settings, chat.app.engine).run(chat.clock.now())
    chat.sender.drain()
    return chat.transport.sent[before:]


def check_every(chat: Chat, until: dt.datetime, step: dt.timedelta = MINUTE) -> list[tuple[dt.datetime, Outgoing]]:
    """Run the jobs every `step` from the clock's now until `until`, like the scheduler's interval check."""
    sent = []
    while chat.clock.now() + step <= until:
        now = chat.clock.now() + step
        sent += [(now, o) for o in tick(chat, now)]
    return sent


def actions(chat: Chat, number: int) -> list[str]:
    with chat.session() as session:
        return [e.action for e in ticket_events(session, number)]


def view(number: int = 1, **fields) -> TicketView:
    """A ticket snapshot for the pure functions: a drainage ticket in grid g1 opened Monday 09:00."""
    values = {
        "number": number, "status": Status.ASSIGNED, "category": "drainage", "location": "3号楼", "grid_id": "g1",
        "chat_id": "1-3号楼业主群", "chat_name": "1-3号楼业主群", "chat_is_private": False, "assignee_id": "wangfang",
        "created_at": MONDAY_9AM, "response_due_at": MONDAY_9AM + dt.timedelta(hours=1), "first_response_at": None,
        "resolution_due_at": MONDAY_9AM + dt.timedelta(hours=48), "resolution_since": MONDAY_9AM,
        "resolved_at": None, "commitment_date": None, "committed_at": None, "rating": None, "agenda": False,
        "reporters": (("resident:张阿姨", "张阿姨"),),
    }  # fmt: skip
    values.update(fields)
    return TicketView(**values)
