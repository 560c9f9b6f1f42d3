"""wechaty events → `Incoming`, and `Outgoing` → `room.say` / `contact.say`. Nothing else.

Verified against wechaty 0.10.7 / wechaty-puppet-service 0.8.10 / wechaty-grpc 0.20.19:
- `Message.type()` is already remapped by the puppet (`_map_message_type`) to the wechaty-grpc enum.
- `Message.mention_self()` and the mentions here read `MessagePayload.mention_ids`.
- `Room.say(text, mention_ids)` itself prefixes `@name` (joined by U+2005) for every mentioned contact and
  sends the ids in the proto's misspelled `mentonal_ids` field; so the `@…` our replies start with is
  stripped before, or every resident would be addressed twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.outbound import split_mentions
from ledger.messages import Incoming, MessageKind, Outgoing

log = logging.getLogger(__name__)

# wechaty-grpc MessageType names → what handlers care about. Stickers, contact cards, transfers and
# the like are OTHER: they open nothing and get no answer.
_KINDS = {
    "MESSAGE_TYPE_TEXT": MessageKind.TEXT,
    "MESSAGE_TYPE_IMAGE": MessageKind.IMAGE,
    "MESSAGE_TYPE_VIDEO": MessageKind.IMAGE,
    "MESSAGE_TYPE_AUDIO": MessageKind.VOICE,
    "MESSAGE_TYPE_ATTACHMENT": MessageKind.FILE,
    "MESSAGE_TYPE_URL": MessageKind.LINK,
    "MESSAGE_TYPE_MINI_PROGRAM": MessageKind.MINI_PROGRAM,
}


def kind_of(message_type: Any) -> MessageKind:
    return _KINDS.get(getattr(message_type, "name", ""), MessageKind.OTHER)


def sent_at(timestamp: int | float) -> dt.datetime:
    """A puppet's timestamp (seconds, or milliseconds past 2038-in-seconds) as an aware UTC time."""
    seconds = timestamp / 1000 if timestamp > 2_145_888_000 else timestamp
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class WechatyTransport:
    """Bound to the live `Wechaty` instance while connected (`attach`), to none while offline."""

    def __init__(self) -> None:
        self.bot: Any = None
        self.room_ids: dict[str, str] = {}

    def attach(self, bot: Any) -> None:
        self.bot = bot

    def detach(self) -> None:
        self.bot = None

    async def learn_rooms(self) -> None:
        """Room topic → id, so replies addressed by a group's configured name (no id in config) find it."""
        for room_id in await self.bot.puppet.room_list():
            room = self.bot.Room.load(room_id)
            await room.ready()
            self.room_ids[room.payload.topic] = room_id

    def to_incoming(self, msg: Any) -> Incoming:
        """A ready wechaty `Message` (not the bot's own) as an `Incoming`."""
        payload = msg.payload
        talker = msg.talker()
        room = msg.room()
        kind = kind_of(msg.type())
        sender_name = talker.payload.name or talker.contact_id
        if room is not None:
            self.room_ids[room.payload.topic] = room.room_id
            chat_id, chat_name = room.room_id, room.payload.topic
        else:
            chat_id, chat_name = talker.contact_id, sender_name
        return Incoming(
            message_id=msg.message_id,
            chat_id=chat_id,
            chat_name=chat_name,
            sender_id=talker.contact_id,
            sender_name=sender_name,
            text=msg.text() if kind is MessageKind.TEXT else "",
            timestamp=sent_at(payload.timestamp),
            kind=kind,
            mentions=tuple(payload.mention_ids or ()),
            is_private=room is None,
        )

    async def deliver(self, outgoing: Outgoing) -> None:
        """Send one reply; raises (leaving it in the outbox) when offline or when the puppet refuses."""
        bot = self.bot
        if bot is None:
            raise ConnectionError("not connected to the puppet service")
        if outgoing.is_private:
            contact = bot.Contact.load(outgoing.chat_id)
            await contact.ready()
            await contact.say(outgoing.text)
            return
        room_id = self.room_ids.get(outgoing.chat_id, outgoing.chat_id)
        room = bot.Room.load(room_id)
        await room.ready()
        text = outgoing.text
        if outgoing.mention_ids:
            _names, text = split_mentions(text)
        await room.say(text, mention_ids=list(outgoing.mention_ids) or None)
