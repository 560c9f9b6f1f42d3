"""Messages that arrive while others are being handled are handled together, in one transaction.

A transport puts each message it receives in the `Inbox`; one task takes them out in the order they came and hands
the app every message waiting, up to `BATCH_LIMIT`, at once (`handle_batch`: one commit for all of them). A message
that finds the inbox empty is handled alone as soon as it comes: batching adds no wait, it only lets messages that
are already waiting share a commit. Under a burst (a busy evening, the backlog a reconnect delivers) that is what
lets one process keep up: on PostgreSQL a commit waits for its WAL flush.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from ledger.messages import Incoming

log = logging.getLogger(__name__)

BATCH_LIMIT = 32
"""The most messages one transaction handles: enough to share the commit's cost (bench/ingest.py), few enough that
a batch holds its rows' locks, and delays the replies of its first message, for tens of milliseconds only."""


class BatchHandler(Protocol):
    def handle_batch(self, batch: Sequence[Incoming]) -> list[int]:
        """Handle `batch` in order; how many replies each message queued."""
        ...


class Inbox:
    """`put` messages as they arrive; `run` (a task) handles them; `on_handled(messages, replies)` after each batch."""

    def __init__(self, app: BatchHandler, on_handled: Callable[[int, int], None], *, limit: int = BATCH_LIMIT) -> None:
        self.app = app
        self.on_handled = on_handled
        self.limit = limit
        self._waiting: asyncio.Queue[Incoming] = asyncio.Queue()

    def put(self, incoming: Incoming) -> None:
        self._waiting.put_nowait(incoming)

    def pending(self) -> int:
        return self._waiting.qsize()

    async def run(self) -> None:
        """Handle batches until cancelled; after each, yield to the event loop (the transport's reads, the outbox)."""
        while True:
            first = await self._waiting.get()
            self._handle([first, *self._take(self.limit - 1)])
            await asyncio.sleep(0)

    def drain(self) -> None:
        """Handle every message still waiting, now (when the transport stops: what was received is not dropped)."""
        while self.pending():
            self._handle(self._take(self.limit))

    def _take(self, most: int) -> list[Incoming]:
        taken = []
        while len(taken) < most and not self._waiting.empty():
            taken.append(self._waiting.get_nowait())
        return taken

    def _handle(self, batch: list[Incoming]) -> None:
        try:
            replies = sum(self.app.handle_batch(batch))
        except Exception:  # the app answers its own failures; this keeps the task alive whatever happens
            log.exception("handling a batch of %d messages failed", len(batch))
            replies = 0
        self.on_handled(len(batch), replies)
