"""Duplicate deliveries: WeChat and puppets sometimes deliver one message twice, occasionally with a new id.

The same id is caught when the id is recorded (`storage.messages.record_inbound`). A new id carrying the
same text from the same sender in the same chat within a short window is the other case; these are the
pure decisions for it. Only text counts: two photos in a row both arrive with no text and are not one.
The same case arises when several bot accounts (processes) sit in one group: each receives the message
under its own id. `storage.messages.repeat_of` keeps the last time each (chat, sender, text) was seen in a
table keyed on it, so the check holds across processes; `duplicate_of` is the same decision over a list.
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


def may_repeat(incoming: Incoming, window: dt.timedelta) -> bool:
    """Whether `incoming` can be a repeat at all: a text message, not blank, with the check on."""
    return incoming.kind is MessageKind.TEXT and bool(incoming.text.strip()) and window > dt.timedelta(0)


def is_repeat(last_seen: dt.datetime, *, now: dt.datetime, window: dt.timedelta) -> bool:
    """The same text seen last at `last_seen` (by this or another process, whose clock may run a little
    ahead) is a repeat at `now`."""
    return now - last_seen <= window


def duplicate_of(
    incoming: Incoming, earlier: Iterable[Earlier], *, now: dt.datetime, window: dt.timedelta
) -> str | None:
    """The id of an earlier message this one repeats (same sender and chat are the caller's query), or None."""
    if not may_repeat(incoming, window):
        return None
    digest = text_hash(incoming.text)
    for message in earlier:
        if message.message_id != incoming.message_id and is_repeat(message.received_at, now=now, window=window):
            if text_hash(message.text) == digest:
                return message.message_id
    return None
