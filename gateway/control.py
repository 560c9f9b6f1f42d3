"""The gateway's control API: plain HTTP/1.1 with JSON bodies, on its own port (stdlib asyncio only).

POST /messages   {"sender": "张阿姨", "text": "…", "room": "1-3号楼业主群", "kind": "text", "id": "…"}
                 inject a message (no "room": a private message to the bot; "id": reuse an id to redeliver)
                 → {"id": "<message id>"}
GET  /sent?after=0&min=1&wait=5
                 what the bot sent after sequence number `after`; waits up to `wait` seconds for `min` more
                 → {"sent": [{"seq", "id", "conversation_id", "room", "text", "mention_ids", "mention_names", "at",
                              "kind", "forwarded_from"}]}   (a forwarded photo: kind "image", the original's id)
GET  /rooms      the simulated rooms and their members
GET  /health     open event streams and ding count
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)
Route = Callable[[dict, dict], Awaitable[tuple[int, dict]]]
MAX_BODY = 1 << 20


class ControlServer:
    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await self._answer(reader)
        except (ValueError, json.JSONDecodeError) as error:
            status, body = HTTPStatus.BAD_REQUEST, {"error": str(error)}
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode("ascii") + data)
        try:
            await writer.drain()
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict]:
        request_line = (await reader.readline()).decode("latin-1").strip()
        method, target, _version = request_line.split(" ", 2)
        length = 0
        while line := (await reader.readline()).decode("latin-1").strip():
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length > MAX_BODY:
            raise ValueError("body too large")
        raw = await reader.readexactly(length) if length else b""
        body = json.loads(raw.decode("utf-8")) if raw else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        url = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        route = self.routes.get((method.upper(), url.path))
        if route is None:
            return HTTPStatus.NOT_FOUND, {"error": f"no route {method} {url.path}"}
        return await route(query, body)
