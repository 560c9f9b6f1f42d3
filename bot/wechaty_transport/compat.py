"""Makes python-wechaty 0.10.x importable on Python 3.11 and 3.12, and works around its quirks. Import wechaty only
through here.

python-wechaty 0.10.7 declares `WechatyOptions.puppet_options: PuppetOptions = PuppetOptions()`, a
dataclass default that is an instance of another (non-frozen, so unhashable) dataclass. Python 3.11
refuses such "mutable defaults" at class creation (it checks `__hash__ is None`), so `import wechaty`
fails. Giving PuppetOptions the identity hash before the import lets the class be created; the shared
default instance is only read, never mutated, by wechaty.

A message is forwarded by `forward_message`, not by the library's `message_forward` (why: there).

wechaty also imports `telnetlib`, removed in Python 3.13, so this transport runs on 3.11/3.12 only;
the rest of Huiyin never imports this package. The matching pins (pyee<9, urllib3<2 and the exact
wechaty, wechaty-puppet-service and wechaty-grpc versions) are in pyproject.toml.
"""

from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType
from typing import Any


def load_wechaty() -> ModuleType:
    if sys.version_info >= (3, 13):
        raise RuntimeError("python-wechaty 0.10 needs Python 3.11 or 3.12 (it imports telnetlib)")
    from wechaty_puppet.schemas.puppet import PuppetOptions

    if PuppetOptions.__hash__ is None:
        PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]
    # wechaty creates its cache directory (CACHE_DIR, default `.wechaty` in the working directory) on
    # import; Huiyin uses no wechaty plugins, so keep it out of the checkout.
    os.environ.setdefault("CACHE_DIR", os.path.join(tempfile.gettempdir(), "huiyin-wechaty-cache"))
    import wechaty

    return wechaty


def own_caches(bot: object) -> None:
    """Give a `Wechaty` (after `init_puppet`) its own Contact and Room caches.

    `Wechaty.init_puppet` makes per-bot subclasses (`type('Room', (Room,), meta_info)`) bound to its puppet, but
    `Contact._pool` / `Room._pool` stay class attributes of the base classes, shared by every bot in the process:
    a second account (or a test running two) would load rooms and contacts bound to the first one's puppet, and
    a reconnect would keep objects bound to the dead one. Each bot's subclasses get empty pools of their own.
    """
    for name in ("Contact", "ContactSelf", "Room"):
        cls = getattr(bot, name, None)
        if cls is not None:
            cls._pool = {}


class ForwardRefused(Exception):
    """The puppet cannot give the message to forward: it expired (WeChat keeps a photo only for a while), the puppet
    does not know it, or it is of a kind that cannot be forwarded."""


# A puppet's answer that the connection, not the message, is the trouble: the forward is tried again later.
_TRANSIENT = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "RESOURCE_EXHAUSTED", "ABORTED"})
_ARTWORK = 3  # wechaty-grpc ImageType.IMAGE_TYPE_ARTWORK: the original photo, what `message_forward` asks for


async def forward_message(puppet: Any, to_id: str, message_id: str) -> str | None:
    """Forward the received message `message_id` (a photo or video) to the room or contact `to_id`; returns the
    puppet's id of the copy it sent.

    python-wechaty 0.10.7 has no forward on the wire: wechaty-grpc 0.20.19 has no `MessageForward` RPC, and
    `PuppetService.message_forward(to_id, message_id)` loads the message (MessagePayload), fetches its photo
    (MessageImage, the original) or, for a video or file, the file (MessageFile), and sends that again
    (MessageSendFile). It returns nothing, and `Message.forward(to)` on top of it prints the target to stdout and
    turns every error into one `WechatyOperationError`. So the same three steps are taken here, telling apart what
    the library cannot: a step that fetches the original failing for the message's sake raises ForwardRefused (sending
    again will not help), while a failed send, or any step failing for the connection's sake, raises as it came.
    """
    from grpclib.exceptions import GRPCError
    from wechaty_puppet import MessageType

    try:
        payload = await puppet.message_payload(message_id=message_id)
        if payload.type == MessageType.MESSAGE_TYPE_IMAGE:
            file_box = await puppet.message_image(message_id=message_id, image_type=_ARTWORK)
        elif payload.type in (MessageType.MESSAGE_TYPE_VIDEO, MessageType.MESSAGE_TYPE_ATTACHMENT):
            file_box = await puppet.message_file(message_id=message_id)
        else:
            raise ForwardRefused(f"message {message_id} is a {payload.type.name}, not a photo, video or file")
    except GRPCError as error:
        if error.status.name in _TRANSIENT:
            raise
        raise ForwardRefused(f"{error.status.name}: {error.message}") from error
    return await puppet.message_send_file(conversation_id=to_id, file=file_box)
