"""The transport-agnostic message types: what a transport hands in and what handlers give back."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from settings.limits import CHAT_ID_LENGTH, DISPLAY_NAME_LENGTH, MESSAGE_ID_LENGTH


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
    # Spoken to the bot: WeChat's `mention_self`, or `@回音` at the start on the console (handlers/reports.py).
    addressed: bool = False


@dataclass(frozen=True)
class Outgoing:
    """A reply to deliver: to a room (mentioning `mention_ids`) or, when `is_private`, to one contact.

    `ticket_id` links the reply to the ticket it announces, so the public timeline can be shown later.
    `forward_message_id`: instead of `text`, forward that received message (a resident's photo) to the chat; `text`
    is then what is sent in its place when the platform can no longer forward it (the original expired).
    """

    chat_id: str
    text: str
    chat_name: str = ""
    mention_ids: tuple[str, ...] = field(default=())
    is_private: bool = False
    ticket_id: int | None = None
    forward_message_id: str | None = None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # message text keeps tabs and line breaks
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _encodable(value: str) -> str:
    """`value` with surrogate pairs joined into the character they stand for and lone surrogates replaced
    by U+FFFD: a lone surrogate has no UTF-8, so neither SQLite nor PostgreSQL could store the message."""
    if not _SURROGATE.search(value):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _label(value: str, length: int) -> str:
    """An id or a name: encodable, without control characters, at most `length` characters."""
    return _NAME_CONTROL.sub("", _encodable(value))[:length]


def sanitised(incoming: Incoming) -> Incoming:
    """`incoming` fit for the ledger, whatever people typed or named themselves.

    Control characters a chat can carry go (PostgreSQL refuses NUL), lone surrogates become U+FFFD, and
    ids and names are clipped to the ledger's column widths (`settings.limits`; display names shorter still), so no
    message fails to be stored, however long people make them.
    """
    cleaned = replace(
        incoming,
        message_id=_label(incoming.message_id, MESSAGE_ID_LENGTH),
        chat_id=_label(incoming.chat_id, CHAT_ID_LENGTH),
        chat_name=_label(incoming.chat_name, CHAT_ID_LENGTH),
        sender_id=_label(incoming.sender_id, CHAT_ID_LENGTH),
        sender_name=_label(incoming.sender_name, DISPLAY_NAME_LENGTH),
        text=_CONTROL.sub("", _encodable(incoming.text)),
        mentions=tuple(_label(mention, CHAT_ID_LENGTH) for mention in incoming.mentions),
    )
    return incoming if cleaned == incoming else cleaned
