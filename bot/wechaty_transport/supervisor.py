"""Owns the connection to the puppet service: connect, watch, reconnect with backoff, report outages.

python-wechaty's own `Wechaty.start()` is not used: on a network error it sleeps 60 s and restarts
itself, on a `WechatyPuppetError` it stops the whole event loop, and other errors are only printed.
Instead each connection is a fresh `Wechaty` whose puppet this supervisor starts and watches:
- the event stream ending (the task running `puppet.start()` finishes or raises) means disconnected;
- silence longer than `silence_seconds` (no heartbeat or other event) is checked with a `ding` probe;
- a failed delivery asks for a probe at once (`suspect`).
Verified facts about wechaty 0.10.7 this relies on, see comments below.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from bot.outbound import Sleep
from bot.wechaty_transport.compat import own_caches
from ledger.clock import Clock
from settings.models import Connection

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 30.0


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"


def backoff_seconds(attempt: int, initial: float, maximum: float) -> float:
    """Wait before reconnect attempt `attempt` (0-based): initial, doubling, at most `maximum`."""
    return min(maximum, initial * 2 ** min(attempt, 30))


def outage_worth_reporting(down_since: dt.datetime | None, back_at: dt.datetime, threshold_minutes: float) -> bool:
    return down_since is not None and back_at - down_since > dt.timedelta(minutes=threshold_minutes)


class Supervisor:
    """Runs connections one after another until cancelled.

    `make_bot()` returns a new, unstarted `Wechaty`; `on_online(bot)` / `on_offline()` attach and detach
    the transport and open or close the outbox; `on_message(msg)` handles one ready message;
    `on_outage(down_since, back_at)` is called when the connection is back after a long outage.
    """

    def __init__(
        self,
        *,
        make_bot: Callable[[], Any],
        wechaty: Any,
        limits: Connection,
        clock: Clock,
        on_message: Callable[[Any], Awaitable[None]],
        on_online: Callable[[Any], Awaitable[None]],
        on_offline: Callable[[], None],
        on_outage: Callable[[dt.datetime, dt.datetime], None],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.make_bot = make_bot
        self.wechaty = wechaty
        self.limits = limits
        self.clock = clock
        self.on_message = on_message
        self.on_online = on_online
        self.on_offline = on_offline
        self.on_outage = on_outage
        self.sleep = sleep
        self.state = ConnectionState.OFFLINE
        self.connections = 0
        self._last_alive = clock.now()
        self._suspect = asyncio.Event()
        self._down_since: dt.datetime | None = None

    def _set(self, state: ConnectionState, reason: str = "") -> None:
        if state is not self.state:
            log.warning("puppet-service connection: %s → %s%s", self.state, state, f" ({reason})" if reason else "")
            self.state = state

    def alive(self, *_args: Any) -> None:
        self._last_alive = self.clock.now()

    def suspect(self) -> None:
        """Something failed (a delivery): probe the connection now instead of at the next interval."""
        self._suspect.set()

    async def run(self) -> None:
        attempt = 0
        while True:
            self._set(ConnectionState.CONNECTING, f"attempt {attempt + 1}")
            bot = self.make_bot()
            try:
                await self._connection(bot)
                reason = "event stream ended"
            except asyncio.CancelledError:
                await self._teardown(bot)
                raise
            except Exception as error:  # every failure of a connection means: reconnect
                reason = f"{type(error).__name__}: {error}"
            await self._teardown(bot)
            was_online = self.state is ConnectionState.ONLINE
            if was_online:
                self._down_since = self.clock.now()
            attempt = 0 if was_online else attempt + 1
            self._set(ConnectionState.OFFLINE, reason)
            await self.sleep(
                backoff_seconds(attempt, self.limits.backoff_initial_seconds, self.limits.backoff_max_seconds)
            )

    def _clear_class_caches(self) -> None:
        # `Contact._pool` / `Room._pool` are class-level dicts shared by every bot's dynamic subclasses
        # (Wechaty.init_puppet builds them with type()); a cached object stays bound to the puppet that
        # loaded it, which is dead after a reconnect, so each connection starts with empty caches.
        self.wechaty.Contact._pool.clear()
        self.wechaty.Room._pool.clear()

    async def _connection(self, bot: Any) -> None:
        """One connection's life; returns when its event stream ends, raises when it fails or goes silent."""
        self._clear_class_caches()
        logged_in = asyncio.Event()
        await bot.init_puppet()
        own_caches(bot)
        await bot.init_puppet_event_bridge(bot.puppet)
        puppet = bot.puppet
        # The bridge listens for 'heart-beat' but the puppet emits 'heartbeat', so `bot.on('heartbeat')`
        # never fires: listen on the puppet itself. Any event counts as a sign of life.
        for name in ("heartbeat", "message", "dong", "ready"):
            puppet.on(name, self.alive)
        bot.on("login", lambda *_: logged_in.set())
        bot.on("message", self.on_message)
        self.connections += 1
        started = asyncio.create_task(puppet.start(), name="wechaty puppet event stream")
        try:
            waiting = asyncio.create_task(logged_in.wait())
            await asyncio.wait({started, waiting}, timeout=CONNECT_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if started.done():
                started.result()
                return
            if not logged_in.is_set():
                raise TimeoutError("no login event from the puppet service")
            self.alive()
            await self.on_online(bot)
            self._set(ConnectionState.ONLINE)
            now = self.clock.now()
            if outage_worth_reporting(self._down_since, now, self.limits.outage_alert_minutes):
                assert self._down_since is not None
                self.on_outage(self._down_since, now)
            self._down_since = None
            await self._watch(puppet, started)
        finally:
            self.on_offline()
            if not started.done():
                started.cancel()
                with contextlib.suppress(BaseException):
                    await started

    async def _watch(self, puppet: Any, started: asyncio.Task) -> None:
        silence = dt.timedelta(seconds=self.limits.silence_seconds)
        while True:
            pause = asyncio.create_task(self.sleep(self.limits.probe_interval_seconds))
            suspect = asyncio.create_task(self._suspect.wait())
            await asyncio.wait({started, pause, suspect}, return_when=asyncio.FIRST_COMPLETED)
            pause.cancel()
            suspect.cancel()
            if started.done():
                started.result()
                return
            if self._suspect.is_set() or self.clock.now() - self._last_alive >= silence:
                self._suspect.clear()
                await self._ding(puppet)
                self.alive()

    async def _ding(self, puppet: Any) -> None:
        """Probe the service; the timeout runs on the injected sleep, like every other wait here."""
        probe = asyncio.create_task(puppet.ding("huiyin"))
        timer = asyncio.create_task(self.sleep(self.limits.ding_timeout_seconds))
        done, _ = await asyncio.wait({probe, timer}, return_when=asyncio.FIRST_COMPLETED)
        timer.cancel()
        if probe not in done:
            probe.cancel()
            raise ConnectionError(f"no answer to ding within {self.limits.ding_timeout_seconds:g} s")
        if (error := probe.exception()) is not None:
            raise ConnectionError(f"ding probe failed: {type(error).__name__}") from error

    async def _teardown(self, bot: Any) -> None:
        """Close the old puppet's channel and the scheduler its plugin manager started."""
        puppet = getattr(bot, "_puppet", None)
        if puppet is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(puppet.stop(), 2.0)
        scheduler = getattr(getattr(bot, "_plugin_manager", None), "scheduler", None)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
