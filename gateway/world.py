"""The simulated community a gateway serves: contacts, rooms, messages, and what the bot sent.

Pure state, no I/O: the gRPC service reads it, the control API and tests change it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from settings.models import Settings

BOT_ID = "wxid_huiyin_bot"
BOT_NAME = "回音"


class WireKind(StrEnum):
    """Message kinds the control API accepts; each maps to the number the client expects on the wire."""

    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    FILE = "file"
    LINK = "link"
    MINI_PROGRAM = "mini_program"
    EMOTICON = "emoticon"
    VIDEO = "video"


# wechaty-puppet-service 0.8.10 `_map_message_type` reads the wire number as the TypeScript
# wechaty-puppet enum (Unknown=0, Attachment=1, Audio=2, Contact=3, ChatHistory=4, Emoticon=5,
# Image=6, Text=7, Location=8, MiniProgram=9, ..., Url=14, Video=15) and remaps it to the proto
# enum. So a text message must go out as 7: the proto's own TEXT value (6) is read as an image.
WIRE_TYPES = {
    WireKind.FILE: 1,
    WireKind.VOICE: 2,
    WireKind.EMOTICON: 5,
    WireKind.IMAGE: 6,
    WireKind.TEXT: 7,
    WireKind.MINI_PROGRAM: 9,
    WireKind.LINK: 14,
    WireKind.VIDEO: 15,
}


MEDIA_SUFFIXES = {WireKind.IMAGE: ".jpg", WireKind.VIDEO: ".mp4", WireKind.VOICE: ".sil", WireKind.FILE: ".pdf"}
MEDIA_CONTENT = "loopback media of "
"""A media message's content is this and its id: a photo the bot sends back can be told by its bytes."""


@dataclass
class Contact:
    id: str
    name: str


@dataclass
class Room:
    id: str
    topic: str
    member_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Message:
    id: str
    kind: WireKind
    text: str
    from_id: str
    room_id: str
    to_id: str
    timestamp: dt.datetime
    mention_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sent:
    """What the bot sent through `MessageSendText` (or `MessageSendFile`: a photo it forwarded, `kind` not text,
    `forwarded_from` the message whose photo it is), as a test or a person reads it back."""

    seq: int
    message_id: str
    conversation_id: str
    room_topic: str
    text: str
    mention_ids: tuple[str, ...]
    mention_names: tuple[str, ...]
    received_at: dt.datetime
    kind: WireKind = WireKind.TEXT
    forwarded_from: str | None = None

    def as_json(self) -> dict:
        return {
            "seq": self.seq,
            "id": self.message_id,
            "conversation_id": self.conversation_id,
            "room": self.room_topic,
            "text": self.text,
            "mention_ids": list(self.mention_ids),
            "mention_names": list(self.mention_names),
            "at": self.received_at.isoformat(),
            "kind": self.kind.value,
            "forwarded_from": self.forwarded_from,
        }


def resident_id(name: str) -> str:
    """A stable contact id for a resident's name, so a restarted gateway knows the same people."""
    return "wxid_r" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]


def room_id(index: int) -> str:
    return f"{index + 1:08d}@chatroom"


class World:
    """Contacts and rooms from config.yaml, plus the residents and messages injected since the start."""

    def __init__(self, settings: Settings | None = None, *, bot_id: str = BOT_ID, bot_name: str = BOT_NAME) -> None:
        # `bot_id` is the account this gateway serves (a second account of the community: its own gateway).
        # The client keeps every message id it ever saw in a process-wide container
        # (wechaty.utils.async_helper.SingleIdContainer) and silently drops a repeat, so ids must
        # stay unique across gateway restarts: each run gets its own prefix.
        self.boot = uuid.uuid4().hex[:10]
        self._ids = itertools.count(1)
        self.bot_id = bot_id
        self.contacts: dict[str, Contact] = {bot_id: Contact(bot_id, bot_name)}
        self.rooms: dict[str, Room] = {}
        self.messages: dict[str, Message] = {}
        self.sent: list[Sent] = []
        self.expired: set[str] = set()  # messages whose photo or file the puppet can no longer fetch
        if settings is not None:
            self._populate(settings)

    def restarted(self) -> World:
        """The world as a restarted gateway sees it: the same people and rooms, new message ids, nothing sent."""
        world = World(bot_id=self.bot_id)
        world.contacts = dict(self.contacts)
        world.rooms = {rid: Room(r.id, r.topic, list(r.member_ids)) for rid, r in self.rooms.items()}
        return world

    def _populate(self, settings: Settings) -> None:
        for cadre in settings.cadres:
            self.contacts[cadre.chat_id] = Contact(cadre.chat_id, cadre.name)
        cadre_ids = [c.chat_id for c in settings.cadres]
        for index, group in enumerate(settings.groups):
            rid = group.id or room_id(index)
            self.rooms[rid] = Room(rid, group.name, [self.bot_id, *cadre_ids])

    def new_id(self) -> str:
        return f"{self.boot}-{next(self._ids)}"

    def room(self, key: str) -> Room | None:
        """A room by id or topic."""
        return self.rooms.get(key) or next((r for r in self.rooms.values() if r.topic == key), None)

    def person(self, name: str, contact_id: str | None = None) -> Contact:
        """The contact called `name` (a cadre, the bot, or a resident created on first use)."""
        if contact_id is None:
            known = next((c for c in self.contacts.values() if c.name == name), None)
            if known is not None:
                return known
            contact_id = resident_id(name)
        contact = self.contacts.setdefault(contact_id, Contact(contact_id, name))
        return contact

    def mentioned(self, text: str, room: Room | None) -> tuple[str, ...]:
        """Ids of the room's members whose name follows an `@` in `text`, in order of appearance."""
        if room is None:
            return ()
        found = []
        for member_id in room.member_ids:
            name = self.contacts[member_id].name
            match = re.search(rf"[@＠]{re.escape(name)}(?=[\s\u2005]|$)", text)
            if match:
                found.append((match.start(), member_id))
        return tuple(member_id for _, member_id in sorted(found))

    def inject(
        self,
        *,
        sender: str,
        text: str,
        room: str | None = None,
        sender_id: str | None = None,
        kind: WireKind = WireKind.TEXT,
        message_id: str | None = None,
        now: dt.datetime,
    ) -> Message:
        """A message from a person, in a room (joining it on first use) or privately to the bot."""
        contact = self.person(sender, sender_id)
        target = self.room(room) if room else None
        if room and target is None:
            raise KeyError(f"unknown room {room!r}")
        if target is not None and contact.id not in target.member_ids:
            target.member_ids.append(contact.id)
        if message_id is not None and message_id in self.messages:
            return self.messages[message_id]
        message = Message(
            id=message_id or self.new_id(),
            kind=kind,
            text=text,
            from_id=contact.id,
            room_id=target.id if target else "",
            to_id="" if target else self.bot_id,
            timestamp=now,
            mention_ids=self.mentioned(text, target) if kind is WireKind.TEXT else (),
        )
        self.messages[message.id] = message
        return message

    def joined(self) -> list[Room]:
        """The rooms the account is a member of (what `RoomList` answers, as a real puppet does)."""
        return [room for room in self.rooms.values() if self.bot_id in room.member_ids]

    def send_problem(self, conversation_id: str, mention_ids: list[str]) -> str | None:
        """Why the bot may not send this (None: it may): an unknown chat, a room the account is not in, or a
        mention of a non-member."""
        room = self.rooms.get(conversation_id)
        if room is None:
            return None if conversation_id in self.contacts else f"no room or contact {conversation_id}"
        if self.bot_id not in room.member_ids:
            return f"{self.bot_id} is not a member of {conversation_id}"
        strangers = [m for m in mention_ids if m not in room.member_ids]
        return f"not members of {conversation_id}: {', '.join(strangers)}" if strangers else None

    def media(self, message_id: str) -> tuple[str, bytes] | None:
        """The file name and content of a photo, video, voice note or file (what `MessageImage` and `MessageFile`
        answer; the content names the message, so a forward can be traced back), or None: no such message, not
        media, or expired."""
        message = self.messages.get(message_id)
        if message is None or message.kind not in MEDIA_SUFFIXES or message_id in self.expired:
            return None
        return f"{message_id}{MEDIA_SUFFIXES[message.kind]}", f"{MEDIA_CONTENT}{message_id}".encode()

    def bot_sent_file(self, conversation_id: str, content: bytes, *, now: dt.datetime) -> Message:
        """Record a `MessageSendFile`; content that is a message's media is a forward of it (its kind, its id)."""
        raw = content.decode(errors="replace")
        source = self.messages.get(raw.removeprefix(MEDIA_CONTENT)) if raw.startswith(MEDIA_CONTENT) else None
        if source is None:
            return self._record_sent(conversation_id, "", [], now=now, kind=WireKind.FILE)
        return self._record_sent(conversation_id, "", [], now=now, kind=source.kind, forwarded_from=source.id)

    def bot_sent(self, conversation_id: str, text: str, mention_ids: list[str], *, now: dt.datetime) -> Message:
        """Record a `MessageSendText`; the returned message must be loadable by `MessagePayload`."""
        return self._record_sent(conversation_id, text, mention_ids, now=now, kind=WireKind.TEXT)

    def _record_sent(
        self, conversation_id: str, text: str, mention_ids: list[str], *, now: dt.datetime, kind: WireKind,
        forwarded_from: str | None = None,
    ) -> Message:
        target = self.rooms.get(conversation_id)
        message = Message(
            id=self.new_id(),
            kind=kind,
            text=text,
            from_id=self.bot_id,
            room_id=target.id if target else "",
            to_id="" if target else conversation_id,
            timestamp=now,
            mention_ids=tuple(mention_ids),
        )
        self.messages[message.id] = message
        names = tuple(self.contacts[m].name if m in self.contacts else m for m in mention_ids)
        self.sent.append(
            Sent(
                len(self.sent) + 1,
                message.id,
                conversation_id,
                target.topic if target else "",
                text,
                tuple(mention_ids),
                names,
                now,
                kind,
                forwarded_from,
            )
        )
        return message
