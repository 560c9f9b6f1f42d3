"""Huiyin's real WeChat stack against a loopback gateway, in one event loop: for end-to-end tests and bench/.

`VirtualTime` lets rate limits, backoff and probes of minutes run in a fraction of a second: every
`sleep(s)` of the bot takes `s * scale` real seconds and moves the injected clock forward by `s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.app import Huiyin
from bot.street import StreetApp
from bot.wechaty_transport.runner import WechatyRunner
from bot.wechaty_transport.supervisor import ConnectionState
from gateway.server import Gateway
from gateway.world import World
from ledger.clock import ManualClock
from nlp.weighted import WeightedClassifier
from settings.models import Settings
from settings.street import Street


class VirtualTime:
    """A ManualClock that the bot's own sleeps move forward; concurrent sleeps never move it backwards."""

    def __init__(self, start: dt.datetime, scale: float = 0.01) -> None:
        self.clock = ManualClock(start)
        self.scale = scale

    async def sleep(self, seconds: float) -> None:
        target = self.clock.now() + dt.timedelta(seconds=seconds)
        await asyncio.sleep(seconds * self.scale)
        if self.clock.now() < target:
            self.clock.set(target)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Stack:
    gateway: Gateway
    runner: WechatyRunner
    app: Huiyin | StreetApp
    time: VirtualTime

    async def online(self, timeout: float = 20.0) -> None:
        await wait_until(lambda: self.runner.supervisor.state is ConnectionState.ONLINE, timeout, "the bot online")

    async def restart_gateway(self) -> None:
        """Start a new gateway on the same port: the same people and rooms, new message ids."""
        old = self.gateway
        self.gateway = Gateway(
            None,
            host=old.host,
            port=old.port,
            control_port=None,
            heartbeat_seconds=old.service.heartbeat_seconds,
            world=old.world.restarted(),
        )
        await self.gateway.start()


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    engine: Engine,
    start: dt.datetime,
    *,
    scale: float = 0.01,
    heartbeat_seconds: float = 1.0,
    world: World | None = None,
    time: VirtualTime | None = None,
    street: Street | None = None,
) -> AsyncIterator[Stack]:
    """A gateway on a free 127.0.0.1 port and the bot connected to it; both stopped on exit.

    `world`: the account and rooms the gateway serves (default: the community's, one account); `time`: a clock
    to share with another stack (two accounts on one ledger), else a new one from `start`; `street`: serve a
    街道's communities (`settings` is then ignored: the gateway has every community's rooms)."""
    virtual = time or VirtualTime(start, scale)
    app: Huiyin | StreetApp
    if street is None:
        app = Huiyin(settings, engine, WeightedClassifier(settings), virtual.clock)
    else:
        apps = {s.community.id: Huiyin(s, engine, WeightedClassifier(s), virtual.clock) for s in street.communities}
        app = StreetApp(street, engine, virtual.clock, apps)
        settings = app.settings
    app.prepare()
    gateway = Gateway(settings, control_port=None, heartbeat_seconds=heartbeat_seconds, world=world)
    await gateway.start()
    runner = WechatyRunner(app, endpoint=gateway.endpoint, token="huiyin-test", sleep=virtual.sleep)
    stack = Stack(gateway, runner, app, virtual)
    task = asyncio.create_task(runner.run(), name="huiyin wechaty runner")
    try:
        await stack.online()
        yield stack
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await stack.gateway.stop()
