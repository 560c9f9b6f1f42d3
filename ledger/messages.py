"""The transport-agnostic message types: what a transport hands in and what handlers give back."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    FILE = "file"
    LINK = "link"
    MINI_PROGRAM = "mini_program"
    OTHER = "other"


@dataclass(frozen=True)
class Incoming:
    """One message as a transport received it. `chat_id` is the room, or the sender for a private chat."""

    message_id: str
    chat_id: str
    chat_name: str
    sender_id: str
    sender_name: str
    text: str
    timestamp: dt.datetime
    kind: MessageKind = MessageKind.TEXT
    mentions: tuple[str, ...] = ()
    is_private: bool = False


@dataclass(frozen=True)
class Outgoing:
    """A reply to deliver: to a room (mentioning `mention_ids`) or, when `is_private`, to one contact.

    `ticket_id` links the reply to the ticket it announces, so the public timeline can be shown later.
    """

    chat_id: str
    text: str
    chat_name: str = ""
    mention_ids: tuple[str, ...] = field(default=())
    is_private: bool = False
    ticket_id: int | None = None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitised(incoming: Incoming) -> Incoming:
    """Drop control characters a chat can carry but a ledger must not store (PostgreSQL refuses NUL)."""
    cleaned = _CONTROL.sub("", incoming.text)
    return incoming if cleaned == incoming.text else replace(incoming, text=cleaned)
