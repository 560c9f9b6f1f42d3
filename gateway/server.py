"""The loopback gateway: the gRPC puppet service and the control API around one simulated community."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from http import HTTPStatus

from grpclib.protocol import H2Protocol
from grpclib.server import Server

from gateway.control import ControlServer
from gateway.service import PuppetService
from gateway.world import Message, Sent, WireKind, World
from settings.models import Settings

log = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _KillableServer(Server):
    """A grpclib server whose `kill()` drops every TCP connection, as a dead process would.

    grpclib's own `close()` only cancels the request handlers; an event stream's client would then
    wait forever on an open connection, which is not what a crashed gateway looks like.
    """

    def __init__(self, handlers: list) -> None:
        super().__init__(handlers)
        self._transports: list[asyncio.BaseTransport] = []

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        made = protocol.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            self._transports.append(transport)
            made(transport)

        protocol.connection_made = connection_made  # type: ignore[method-assign]
        return protocol

    def kill(self) -> None:
        self.close()
        for transport in self._transports:
            transport.abort()  # type: ignore[attr-defined]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Gateway:
    """Start with `await start()`; `inject` messages; `wait_sent` for what the bot answered; `stop()` to kill."""

    def __init__(
        self,
        settings: Settings | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = 0,
        heartbeat_seconds: float = 15.0,
        echo_self: bool = True,
        world: World | None = None,
    ) -> None:
        self.world = world or World(settings)
        self.host = host
        self.port = port or free_port(host)
        self.control_port = control_port
        self.service = PuppetService(self.world, now=utc_now, heartbeat_seconds=heartbeat_seconds, echo_self=echo_self)
        self.control = ControlServer(
            {
                ("POST", "/messages"): self._post_message,
                ("GET", "/sent"): self._get_sent,
                ("GET", "/rooms"): self._get_rooms,
                ("GET", "/health"): self._get_health,
            }
        )
        self._server: _KillableServer | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = _KillableServer([self.service])
        # host/port rather than a pre-bound socket: with `sock=` each RPC took ~45 ms on loopback.
        await self._server.start(self.host, self.port, reuse_address=True)
        if self.control_port is not None:
            self.control_port = await self.control.start(self.host, self.control_port)
        log.info("gateway serving puppet-service on %s, control API on %s", self.endpoint, self.control_port)

    async def stop(self) -> None:
        """Close every connection at once, like a killed process (event streams are not ended politely)."""
        await self.control.stop()
        if self._server is not None:
            self._server.kill()
            await self._server.wait_closed()
            self._server = None

    def freeze(self) -> None:
        """Go silent without closing anything (a half-open connection): no events, `Ding` never answers."""
        self.service.thawed.clear()

    def thaw(self) -> None:
        self.service.thawed.set()

    def inject(
        self,
        sender: str,
        text: str,
        *,
        room: str | None = None,
        sender_id: str | None = None,
        kind: WireKind = WireKind.TEXT,
        message_id: str | None = None,
    ) -> Message:
        message = self.world.inject(
            sender=sender, text=text, room=room, sender_id=sender_id, kind=kind, message_id=message_id, now=utc_now()
        )
        self.service.publish(message)
        return message

    async def wait_sent(self, count: int, *, after: int = 0, timeout: float = 10.0) -> list[Sent]:
        """The bot's messages after sequence `after`, once there are at least `count` (TimeoutError if not)."""
        async with self.service.sent_changed:
            await asyncio.wait_for(
                self.service.sent_changed.wait_for(lambda: len(self.world.sent) - after >= count), timeout
            )
        return self.world.sent[after:]

    async def _post_message(self, query: dict, body: dict) -> tuple[int, dict]:
        try:
            message = self.inject(
                str(body["sender"]),
                str(body.get("text", "")),
                room=body.get("room"),
                sender_id=body.get("sender_id"),
                kind=WireKind(body.get("kind", "text")),
                message_id=body.get("id"),
            )
        except KeyError as error:
            return HTTPStatus.BAD_REQUEST, {"error": f"missing or unknown: {error}"}
        except ValueError as error:
            return HTTPStatus.BAD_REQUEST, {"error": str(error)}
        return HTTPStatus.OK, {"id": message.id, "mention_ids": list(message.mention_ids)}

    async def _get_sent(self, query: dict, body: dict) -> tuple[int, dict]:
        after, wanted, wait = int(query.get("after", 0)), int(query.get("min", 0)), float(query.get("wait", 0))
        try:
            sent = await self.wait_sent(wanted, after=after, timeout=wait) if wanted else self.world.sent[after:]
        except TimeoutError:
            sent = self.world.sent[after:]
        return HTTPStatus.OK, {"sent": [s.as_json() for s in sent]}

    async def _get_rooms(self, query: dict, body: dict) -> tuple[int, dict]:
        rooms = [
            {"id": r.id, "topic": r.topic, "members": [self.world.contacts[m].name for m in r.member_ids]}
            for r in self.world.rooms.values()
        ]
        return HTTPStatus.OK, {"rooms": rooms}

    async def _get_health(self, query: dict, body: dict) -> tuple[int, dict]:
        return HTTPStatus.OK, {"streams": len(self.service.streams), "dings": self.service.dings}


async def serve(gateway: Gateway) -> None:
    """Run until cancelled (the `huiyin gateway` command)."""
    await gateway.start()
    try:
        await asyncio.Event().wait()
    finally:
        await gateway.stop()
