"""The Wechaty puppet-service RPCs the python-wechaty client calls, served by grpclib.

wechaty-grpc 0.20.19 ships betterproto message classes and a client stub only, so the server side is
a `__mapping__` of routes to handlers (grpclib's IServable protocol); betterproto messages carry the
`SerializeToString`/`FromString` pair grpclib's proto codec needs, so no protobuf compiler is involved.
Any RPC not listed here answers UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
from collections.abc import Callable

import grpclib.const
from grpclib.server import Stream
from wechaty_grpc.wechaty import puppet as pb

from gateway.world import WIRE_TYPES, Message, World

log = logging.getLogger(__name__)
Now = Callable[[], dt.datetime]
FILEBOX_BASE64 = 1  # the FileBox JSON `boxType` of a base64 file (wechaty_puppet FileBoxType.Base64)


def event(kind: pb.EventType, payload: dict) -> pb.EventResponse:
    return pb.EventResponse(type=kind, payload=json.dumps(payload, ensure_ascii=False))


class PuppetService:
    """Serves one `World`; MESSAGE events go to every open event stream (or wait for the next one)."""

    def __init__(self, world: World, *, now: Now, heartbeat_seconds: float = 15.0, echo_self: bool = True) -> None:
        self.world = world
        self.now = now
        self.heartbeat_seconds = heartbeat_seconds
        self.echo_self = echo_self
        self.streams: set[asyncio.Queue[pb.EventResponse]] = set()
        self.backlog: list[pb.EventResponse] = []
        self.sent_changed = asyncio.Condition()
        self.dings = 0
        self.thawed = asyncio.Event()
        self.thawed.set()

    def publish(self, message: Message) -> None:
        response = event(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message.id})
        if not self.streams:
            self.backlog.append(response)
        for queue in self.streams:
            queue.put_nowait(response)

    def __mapping__(self) -> dict[str, grpclib.const.Handler]:
        unary = grpclib.const.Cardinality.UNARY_UNARY
        routes = {
            "Start": (self.start, pb.StartRequest, pb.StartResponse),
            "Stop": (self.stop, pb.StopRequest, pb.StopResponse),
            "Logout": (self.logout, pb.LogoutRequest, pb.LogoutResponse),
            "Ding": (self.ding, pb.DingRequest, pb.DingResponse),
            "Version": (self.version, pb.VersionRequest, pb.VersionResponse),
            "DirtyPayload": (self.dirty_payload, pb.DirtyPayloadRequest, pb.DirtyPayloadResponse),
            "ContactPayload": (self.contact_payload, pb.ContactPayloadRequest, pb.ContactPayloadResponse),
            "ContactList": (self.contact_list, pb.ContactListRequest, pb.ContactListResponse),
            "MessagePayload": (self.message_payload, pb.MessagePayloadRequest, pb.MessagePayloadResponse),
            "MessageSendText": (self.message_send_text, pb.MessageSendTextRequest, pb.MessageSendTextResponse),
            "MessageImage": (self.message_image, pb.MessageImageRequest, pb.MessageImageResponse),
            "MessageFile": (self.message_file, pb.MessageFileRequest, pb.MessageFileResponse),
            "MessageSendFile": (self.message_send_file, pb.MessageSendFileRequest, pb.MessageSendFileResponse),
            "RoomPayload": (self.room_payload, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "RoomList": (self.room_list, pb.RoomListRequest, pb.RoomListResponse),
            "RoomMemberList": (self.room_member_list, pb.RoomMemberListRequest, pb.RoomMemberListResponse),
            "RoomMemberPayload": (self.room_member_payload, pb.RoomMemberPayloadRequest, pb.RoomMemberPayloadResponse),
        }
        mapping = {
            f"/wechaty.Puppet/{name}": grpclib.const.Handler(_unary(handler), unary, request, reply)
            for name, (handler, request, reply) in routes.items()
        }
        mapping["/wechaty.Puppet/Event"] = grpclib.const.Handler(
            self.event_stream, grpclib.const.Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse
        )
        return mapping

    async def event_stream(self, stream: Stream) -> None:
        await stream.recv_message()
        queue: asyncio.Queue[pb.EventResponse] = asyncio.Queue()
        await self.thawed.wait()
        await stream.send_message(event(pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.world.bot_id}))
        await stream.send_message(event(pb.EventType.EVENT_TYPE_READY, {"data": "ready"}))
        for response in self.backlog:
            queue.put_nowait(response)
        self.backlog.clear()
        self.streams.add(queue)
        try:
            while True:
                # Not `asyncio.wait_for`: on Python 3.11 it can swallow the cancellation that `Server.close()`
                # sends when an event arrives at the same moment, and the stream would then never end.
                try:
                    async with asyncio.timeout(self.heartbeat_seconds):
                        response = await queue.get()
                except TimeoutError:
                    response = event(pb.EventType.EVENT_TYPE_HEARTBEAT, {"data": f"heartbeat@{self.now().isoformat()}"})
                await self.thawed.wait()
                await stream.send_message(response)
        finally:
            self.streams.discard(queue)
            # Undelivered events go to the stream that replaced this one (a bot restarted before its old
            # connection was noticed dead would otherwise never see what was published in between), else
            # wait for the next stream, as a puppet would. An event both streams hold arrives twice under one
            # message id, which the bot records once.
            heir = next(iter(self.streams), None)
            while not queue.empty():
                left = queue.get_nowait()
                if heir is not None:
                    heir.put_nowait(left)
                else:
                    self.backlog.append(left)

    async def start(self, request: pb.StartRequest) -> pb.StartResponse:
        return pb.StartResponse()

    async def stop(self, request: pb.StopRequest) -> pb.StopResponse:
        return pb.StopResponse()

    async def logout(self, request: pb.LogoutRequest) -> pb.LogoutResponse:
        return pb.LogoutResponse()

    async def ding(self, request: pb.DingRequest) -> pb.DingResponse:
        self.dings += 1
        await self.thawed.wait()
        return pb.DingResponse()

    async def version(self, request: pb.VersionRequest) -> pb.VersionResponse:
        return pb.VersionResponse(version="huiyin-loopback-gateway")

    async def dirty_payload(self, request: pb.DirtyPayloadRequest) -> pb.DirtyPayloadResponse:
        return pb.DirtyPayloadResponse()

    async def contact_payload(self, request: pb.ContactPayloadRequest) -> pb.ContactPayloadResponse:
        contact = self.world.contacts.get(request.id)
        if contact is None:
            raise grpclib.GRPCError(grpclib.const.Status.NOT_FOUND, f"no contact {request.id}")
        return pb.ContactPayloadResponse(
            id=contact.id, name=contact.name, type=pb.ContactType.CONTACT_TYPE_PERSONAL, friend=True
        )

    async def contact_list(self, request: pb.ContactListRequest) -> pb.ContactListResponse:
        return pb.ContactListResponse(ids=list(self.world.contacts))

    async def message_payload(self, request: pb.MessagePayloadRequest) -> pb.MessagePayloadResponse:
        message = self.world.messages.get(request.id)
        if message is None:
            raise grpclib.GRPCError(grpclib.const.Status.NOT_FOUND, f"no message {request.id}")
        # `Message.mention_self()` reads these ids, so a text that @-mentions the bot lists it here.
        return pb.MessagePayloadResponse(
            id=message.id,
            text=message.text,
            timestamp=int(message.timestamp.timestamp()),
            type=WIRE_TYPES[message.kind],
            from_id=message.from_id,
            room_id=message.room_id,
            to_id=message.to_id,
            mention_ids=list(message.mention_ids),
        )

    async def message_send_text(self, request: pb.MessageSendTextRequest) -> pb.MessageSendTextResponse:
        # The client sends mentions in the proto's misspelled field `mentonal_ids`, and `Room.say` then loads
        # the message it just sent (`Message.ready()`), so the id must resolve in MessagePayload. Strict, as a
        # careful puppet is: a conversation nobody knows, or a mention of someone not in the room, is refused
        # (real puppets differ: some fail, some send and the mention silently does nothing).
        if problem := self.world.send_problem(request.conversation_id, list(request.mentonal_ids)):
            raise grpclib.GRPCError(grpclib.const.Status.FAILED_PRECONDITION, problem)
        message = self.world.bot_sent(request.conversation_id, request.text, list(request.mentonal_ids), now=self.now())
        if self.echo_self:
            self.publish(message)
        async with self.sent_changed:
            self.sent_changed.notify_all()
        return pb.MessageSendTextResponse(id=message.id)

    # Forwarding. wechaty-grpc 0.20.19 has no `MessageForward`: python-wechaty forwards a photo by loading the message
    # (MessagePayload), fetching its image (MessageImage) or, for a video or file, the file (MessageFile), and sending
    # that back (MessageSendFile); bot/wechaty_transport/compat.py does the same. A message the world has expired (or
    # never had) is NOT_FOUND, as an old photo is for a real puppet; the sent copy is recorded in the destination chat
    # with the id of the message it came from.

    async def message_image(self, request: pb.MessageImageRequest) -> pb.MessageImageResponse:
        return pb.MessageImageResponse(filebox=self._filebox(request.id))

    async def message_file(self, request: pb.MessageFileRequest) -> pb.MessageFileResponse:
        return pb.MessageFileResponse(filebox=self._filebox(request.id))

    def _filebox(self, message_id: str) -> str:
        """The message's media as the client's FileBox JSON (base64), or NOT_FOUND."""
        media = self.world.media(message_id)
        if media is None:
            raise grpclib.GRPCError(grpclib.const.Status.NOT_FOUND, f"no media of message {message_id} (expired?)")
        name, content = media
        return json.dumps({"boxType": FILEBOX_BASE64, "name": name, "base64": base64.b64encode(content).decode()})

    async def message_send_file(self, request: pb.MessageSendFileRequest) -> pb.MessageSendFileResponse:
        if problem := self.world.send_problem(request.conversation_id, []):
            raise grpclib.GRPCError(grpclib.const.Status.FAILED_PRECONDITION, problem)
        try:
            content = base64.b64decode(json.loads(request.filebox)["base64"])
        except (ValueError, KeyError, TypeError) as error:
            raise grpclib.GRPCError(grpclib.const.Status.INVALID_ARGUMENT, f"not a base64 file box: {error}") from error
        message = self.world.bot_sent_file(request.conversation_id, content, now=self.now())
        if self.echo_self:
            self.publish(message)
        async with self.sent_changed:
            self.sent_changed.notify_all()
        return pb.MessageSendFileResponse(id=message.id)

    async def room_payload(self, request: pb.RoomPayloadRequest) -> pb.RoomPayloadResponse:
        room = self.world.rooms.get(request.id)
        if room is None:
            raise grpclib.GRPCError(grpclib.const.Status.NOT_FOUND, f"no room {request.id}")
        return pb.RoomPayloadResponse(
            id=room.id, topic=room.topic, owner_id=self.world.bot_id, member_ids=list(room.member_ids)
        )

    async def room_list(self, request: pb.RoomListRequest) -> pb.RoomListResponse:
        return pb.RoomListResponse(ids=[room.id for room in self.world.joined()])

    async def room_member_list(self, request: pb.RoomMemberListRequest) -> pb.RoomMemberListResponse:
        room = self.world.rooms.get(request.id)
        return pb.RoomMemberListResponse(member_ids=list(room.member_ids) if room else [])

    async def room_member_payload(self, request: pb.RoomMemberPayloadRequest) -> pb.RoomMemberPayloadResponse:
        contact = self.world.contacts.get(request.member_id)
        if contact is None:
            raise grpclib.GRPCError(grpclib.const.Status.NOT_FOUND, f"no contact {request.member_id}")
        return pb.RoomMemberPayloadResponse(id=contact.id, name=contact.name, room_alias="")


def _unary(handler):
    async def serve(stream: Stream) -> None:
        request = await stream.recv_message()
        await stream.send_message(await handler(request))

    return serve
