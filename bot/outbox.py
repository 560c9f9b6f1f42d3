"""Delivers outbox rows through a transport and marks each one sent.

A reply is queued in the same transaction as the change it announces, so a crash before delivery
loses nothing: the next drain sends it. Each row is marked sent right after its delivery, so a
redelivered message or a second drain sends nothing again. The one unavoidable window — the
transport accepted a row and the process died before the mark was committed — is at-least-once.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from bot.transport import Transport
from ledger.clock import Clock
from storage.db import new_session
from storage.messages import as_outgoing, mark_sent, pending

log = logging.getLogger(__name__)


class OutboxSender:
    def __init__(self, engine: Engine, transport: Transport, clock: Clock) -> None:
        self.engine = engine
        self.transport = transport
        self.clock = clock

    def drain(self) -> int:
        """Send every pending row in order; stop at the first failure. Returns how many were sent."""
        sent = 0
        with new_session(self.engine) as session:
            while rows := pending(session):
                for row in rows:
                    try:
                        self.transport.send(as_outgoing(row))
                    except Exception:
                        log.exception("delivering outbox row %s failed; it stays queued", row.id)
                        return sent
                    mark_sent(session, row.id, now=self.clock.now())
                    session.commit()
                    sent += 1
        return sent


class SharedDrain:
    """An outbox sender shared by the console and the scheduler's thread: one drain at a time, so a row is
    never delivered twice by two drains running together."""

    def __init__(self, sender: OutboxSender) -> None:
        self.sender = sender
        self._lock = threading.Lock()

    def drain(self) -> int:
        with self._lock:
            return self.sender.drain()
