"""What a transport is: it turns platform events into `Incoming` and delivers `Outgoing`."""

from __future__ import annotations

from typing import Protocol

from ledger.messages import Outgoing


class Transport(Protocol):
    def send(self, outgoing: Outgoing) -> None:
        """Deliver one reply; raise to leave it in the outbox for a later attempt."""
        ...
