"""Duplicate deliveries: WeChat and puppets sometimes deliver one message twice, occasionally with a new id.

The same id is caught when the id is recorded (`storage.messages.record_inbound`). A new id carrying the
same text from the same sender in the same chat within a short window is the other case; this is the
pure decision for it. Only text counts: two photos in a row both arrive with no text and are not one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.messages import Incoming, MessageKind


@dataclass(frozen=True)
class Earlier:
    """A message recorded before, as the duplicate check needs it."""

    message_id: str
    text: str
    received_at: dt.datetime


def text_hash(text: str) -> str:
    """Compares texts regardless of the whitespace a redelivery may add or drop."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def duplicate_of(
    incoming: Incoming, earlier: Iterable[Earlier], *, now: dt.datetime, window: dt.timedelta
) -> str | None:
    """The id of an earlier message this one repeats (same sender and chat are the caller's query), or None."""
    if incoming.kind is not MessageKind.TEXT or not incoming.text.strip() or window <= dt.timedelta(0):
        return None
    digest = text_hash(incoming.text)
    for message in earlier:
        if message.message_id != incoming.message_id and now - message.received_at <= window:
            if text_hash(message.text) == digest:
                return message.message_id
    return None
