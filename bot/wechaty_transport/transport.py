"""wechaty events → `Incoming`, and `Outgoing` → `room.say` / `contact.say`. Nothing else.

Verified against wechaty 0.10.7 / wechaty-puppet-service 0.8.10 / wechaty-grpc 0.20.19:
- `Message.type()` is already remapped by the puppet (`_map_message_type`) to the wechaty-grpc enum.
- `Message.mention_self()` and the mentions here read `MessagePayload.mention_ids`.
- `Room.say(text, mention_ids)` prefixes `@name` (joined by U+2005) for every mentioned contact, loading each
  contact first: an id the puppet does not know (a made-up Open311 contact, a console-only resident) makes
  `Contact.ready()` raise (`GRPCError` NOT_FOUND from the loopback gateway; the puppet's own error from a real
  one), so the whole send fails. Then it sends the ids in the proto's misspelled `mentonal_ids` field and loads
  the sent message (`Message.ready()`) just to return it. So `deliver` does the same by hand: it mentions only
  contacts that are members of the room (`RoomMemberList`) and load, keeps a plain `@name` for the others, and
  calls `puppet.message_send_text` itself, whose answer (the new message id) confirms the send.
- A forward (`Outgoing.forward_message_id`: a resident's photo after a dispatch order) goes through
  `compat.forward_message`. When the original can no longer be had (expired), the row's text, which says so, is
  sent in its place and the row is done: logged, never retried, holding up nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from bot.wechaty_transport.compat import ForwardRefused, forward_message
from handlers.texts import mention_prefix
from ledger.messages import Incoming, MessageKind, Outgoing

if TYPE_CHECKING:
    from bot.outbound import Delivery

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


AT_SEPARATOR = "\u2005"  # what wechaty's Room.say puts between mentions


def room_text(delivery: Delivery, reachable: dict[str, str]) -> str:
    """The text for a room, the way Room.say writes it: `@name` (the contact's WeChat name) of every mentioned
    contact in `reachable` (id → name) first, then a plain `@name` for the addressed people who cannot be
    mentioned (not in the room, unknown to the puppet), then the body."""
    ours = {name for contact_id, name in delivery.mentions if contact_id in reachable}
    theirs = set(reachable.values())
    plain = [name for name in delivery.names if name not in ours and name not in theirs]
    real = AT_SEPARATOR.join(f"@{name}" for name in reachable.values())
    return (f"{real} " if real else "") + mention_prefix(plain) + delivery.body


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

    async def learn_rooms(self) -> set[str]:
        """Room topic → id, so replies addressed by a group's configured name (no id in config) find it; returns
        the ids and topics of the rooms the account is in now (`RoomList` lists only those)."""
        joined: set[str] = set()
        for room_id in await self.bot.puppet.room_list():
            room = self.bot.Room.load(room_id)
            await room.ready()
            self.room_ids[room.payload.topic] = room_id
            joined |= {room_id, room.payload.topic}
        return joined

    async def friends(self) -> set[str]:
        """Ids of the account's friends (WeChat lets an account write privately only to those); not itself."""
        me = self.self_id()
        found: set[str] = set()
        for contact_id in await self.bot.puppet.contact_list():
            if contact_id == me:
                continue
            contact = self.bot.Contact.load(contact_id)
            try:
                await contact.ready()
            except Exception as error:
                log.info("contact %s not loadable (%s): not counted as a friend", contact_id, error)
                continue
            if getattr(contact.payload, "friend", False):
                found.add(contact_id)
        return found

    def self_id(self) -> str:
        return self.bot.user_self().contact_id

    @staticmethod
    def sender_of(msg: Any) -> str:
        """The contact id of who sent `msg` (without loading anything)."""
        return msg.payload.from_id or ""

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
            addressed=msg.wechaty.user_self().contact_id in (payload.mention_ids or ()),  # mention_self(), unawaited
        )

    async def deliver(self, delivery: Delivery) -> str | None:
        """Send one message; returns the puppet's id for it. Raises (the rows are retried) when offline or
        when the puppet refuses; a mention that cannot be made is dropped, not a reason to fail."""
        bot = self.bot
        if bot is None:
            raise ConnectionError("not connected to the puppet service")
        outgoing = delivery.outgoing
        if outgoing.forward_message_id is not None:
            return await self._forward(bot, outgoing, outgoing.forward_message_id)
        if outgoing.is_private:
            contact = bot.Contact.load(outgoing.chat_id)
            await contact.ready()
            return await bot.puppet.message_send_text(conversation_id=contact.contact_id, message=outgoing.text)
        room_id = self.room_ids.get(outgoing.chat_id, outgoing.chat_id)
        room = bot.Room.load(room_id)
        await room.ready()
        reachable = await self._reachable(bot, room_id, [contact_id for contact_id, _ in delivery.mentions])
        return await bot.puppet.message_send_text(
            conversation_id=room_id, message=room_text(delivery, reachable), mention_ids=list(reachable) or None
        )

    async def _forward(self, bot: Any, outgoing: Outgoing, message_id: str) -> str | None:
        """Forward `message_id` to the row's chat; when the puppet can no longer give it, send the text instead."""
        to_id = outgoing.chat_id if outgoing.is_private else self.room_ids.get(outgoing.chat_id, outgoing.chat_id)
        try:
            return await forward_message(bot.puppet, to_id, message_id)
        except ForwardRefused as refused:
            log.warning("message %s cannot be forwarded to %s (%s): its note goes instead", message_id, to_id, refused)
        return await bot.puppet.message_send_text(conversation_id=to_id, message=outgoing.text)

    async def _reachable(self, bot: Any, room_id: str, contact_ids: list[str]) -> dict[str, str]:
        """Id → WeChat name of the contacts in `contact_ids` that are members of the room and that the puppet
        knows; the others are logged and left out."""
        if not contact_ids:
            return {}
        members = set(await bot.puppet.room_members(room_id))
        reachable: dict[str, str] = {}
        for contact_id in contact_ids:
            if contact_id not in members:
                log.info("not mentioning %s in %s: not a member of the room", contact_id, room_id)
                continue
            contact = bot.Contact.load(contact_id)
            try:
                await contact.ready()
            except Exception as error:
                log.info("not mentioning %s in %s: contact not loadable (%s)", contact_id, room_id, error)
                continue
            reachable[contact_id] = contact.name
        return reachable

    def echo_chats(self, msg: Any) -> set[str]:
        """The chat ids an outbox row for the bot's own message `msg` may carry: room id and topic, or contact."""
        payload = msg.payload
        if payload.room_id:
            return {payload.room_id} | {topic for topic, rid in self.room_ids.items() if rid == payload.room_id}
        return {payload.to_id}
