"""Makes python-wechaty 0.10.x importable on Python 3.11 and 3.12. Import wechaty only through here.

python-wechaty 0.10.7 declares `WechatyOptions.puppet_options: PuppetOptions = PuppetOptions()`, a
dataclass default that is an instance of another (non-frozen, so unhashable) dataclass. Python 3.11
refuses such "mutable defaults" at class creation (it checks `__hash__ is None`), so `import wechaty`
fails. Giving PuppetOptions the identity hash before the import lets the class be created; the shared
default instance is only read, never mutated, by wechaty.

wechaty also imports `telnetlib`, removed in Python 3.13, so this transport runs on 3.11/3.12 only;
the rest of Huiyin never imports this package. The matching pins (pyee<9, urllib3<2 and the exact
wechaty, wechaty-puppet-service and wechaty-grpc versions) are in pyproject.toml.
"""

from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType


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
