"""Huiyin on WeChat: the app, the wechaty transport, the paced outbox and the connection supervisor together.

Several bot accounts, one ledger (`community.bot_accounts` lists them; one `huiyin run` per account, on
PostgreSQL): a message from any of them is never handled (another account's reply echoed in a group both are
in is not a resident's report), and each process sends only the outbox rows of the chats its own account can
reach (`PacedOutbox.chats`): the ids and topics of the rooms it is in (`RoomList`, refreshed at every login, on
room join/leave/topic events and every OWNERSHIP_REFRESH_SECONDS; a room it receives a message in counts at once),
the ids of its friends, and the contacts who wrote to it privately since it started (the reply to a private message
goes from the account that received it). A chat two accounts share is sent by whichever claims the row first
(once: `storage.messages.claim`). With no other account listed the process sends for every chat, as before.

Received messages go through the inbox (`bot.inbox.Inbox`): those that arrive while the app is busy are handled
together, in one transaction; when the runner stops, what is still waiting is handled before it returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from typing import Any

from bot.app import Huiyin
from bot.inbox import Inbox
from bot.outbound import PacedOutbox, Sleep
from bot.outbox import RetryPolicy
from bot.wechaty_transport import texts
from bot.wechaty_transport.compat import load_wechaty
from bot.wechaty_transport.supervisor import Supervisor
from bot.wechaty_transport.transport import WechatyTransport
from ledger.messages import Incoming, Outgoing
from settings.models import Role
from storage.db import new_session
from storage.messages import enqueue

log = logging.getLogger(__name__)
DEFAULT_TOKEN = "huiyin-self-hosted"
# How often the chats this account is in are looked up again (besides login and room join/leave events).
OWNERSHIP_REFRESH_SECONDS = 300.0
ROOM_EVENTS = ("room-join", "room-leave", "room-topic")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WechatyRunner:
    """`await run()` until cancelled. `endpoint` is host:port of a puppet service; `token` its token."""

    def __init__(
        self,
        app: Huiyin,
        *,
        endpoint: str | None,
        token: str | None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not endpoint and not token:
            raise ValueError("set WECHATY_PUPPET_SERVICE_TOKEN (and for a self-hosted service the _ENDPOINT) in .env")
        self.app = app
        self.settings = app.settings
        app.duplicate_window = dt.timedelta(seconds=self.settings.inbound.duplicate_window_seconds)
        self.endpoint = endpoint
        self.token = token or DEFAULT_TOKEN
        self.wechaty = load_wechaty()
        self.transport = WechatyTransport()
        self.outbox = PacedOutbox(
            app.engine,
            self.transport.deliver,
            app.clock,
            self.settings.outbound,
            self.settings.tz,
            policy=RetryPolicy.of(self.settings),
            sleep=sleep,
        )
        self.supervisor = Supervisor(
            make_bot=self.make_bot,
            wechaty=self.wechaty,
            limits=self.settings.connection,
            clock=app.clock,
            on_message=self.on_message,
            on_online=self.on_online,
            on_offline=self.on_offline,
            on_outage=self.on_outage,
            sleep=sleep,
        )
        self.outbox.on_failure = self.supervisor.suspect
        self.inbox = Inbox(app, self._handled)
        self.sleep = sleep
        self.bot_accounts = frozenset(self.settings.community.bot_accounts)
        self.correspondents: set[str] = set()  # contacts who wrote to this account privately
        self.chats: set[str] | None = None  # what the outbox sends for; None: every chat (the only account)
        self.handled = 0
        self.own_messages = 0
        self.other_accounts_messages = 0

    def make_bot(self) -> Any:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from wechaty_puppet.schemas.puppet import PuppetOptions

        # `WechatyOptions.puppet_options` defaults to one shared PuppetOptions instance that the puppet
        # mutates (end_point, token): always pass a fresh one. The plugin manager checks, at login, that
        # its web port is free (default 5000) and otherwise fails the login: give it a free port. A fresh
        # scheduler keeps it from creating its SQLite job store.
        options = self.wechaty.WechatyOptions(
            puppet="wechaty-puppet-service",
            puppet_options=PuppetOptions(end_point=self.endpoint, token=self.token),
            host="127.0.0.1",
            port=free_port(),
            scheduler=AsyncIOScheduler(),
        )
        return self.wechaty.Wechaty(options)

    async def on_message(self, msg: Any) -> None:
        # Errors raised in here are only logged by the client (pyee), so everything is caught and logged.
        try:
            if msg.is_self():  # the echo of what the bot sent: confirms rows still marked in flight
                self.own_messages += 1
                self.outbox.confirm_echo(self.transport.echo_chats(msg), msg.text(), msg.message_id)
                return
            if (sender := self.transport.sender_of(msg)) in self.bot_accounts:  # another account's echo
                self.other_accounts_messages += 1
                log.debug("message %s from bot account %s ignored", msg.message_id, sender)
                return
            incoming = self.transport.to_incoming(msg)
            self._reaches(incoming)
            self.inbox.put(incoming)
        except Exception:
            log.exception("receiving wechaty message %s failed", getattr(msg, "message_id", "?"))

    def _handled(self, messages: int, replies: int) -> None:
        self.handled += messages
        if replies:
            self.outbox.wake.set()

    async def on_online(self, bot: Any) -> None:
        self.transport.attach(bot)
        await self.refresh_chats()
        for event in ROOM_EVENTS:
            bot.on(event, self._rooms_changed)
        self.outbox.online.set()
        self.outbox.wake.set()

    def shares_ledger(self) -> bool:
        """Whether another bot account is configured besides this one (then each sends only for its own chats)."""
        return bool(self.bot_accounts - {self.transport.self_id()})

    async def refresh_chats(self) -> None:
        """Look up the rooms (and friends) of the account and give the outbox the chats it may send to."""
        bot = self.transport.bot
        joined = await self.transport.learn_rooms()
        if not self.shares_ledger():
            self.chats = self.outbox.chats = None  # the only account: every chat
            return
        try:
            friends = await self.transport.friends()
        except Exception as error:  # the rooms and those who wrote privately are enough to go on
            log.warning("could not list the account's friends (%s)", error)
            friends = set()
        if self.transport.bot is not bot:  # went offline meanwhile
            return
        self.chats = joined | friends | self.correspondents
        self.outbox.chats = self.chats
        log.info("this account sends for %d room ids and names and %d contacts", len(joined), len(self.chats - joined))

    def _reaches(self, incoming: Incoming) -> None:
        """A message received in a chat proves the account is in it: the reply is this process's to send."""
        if self.chats is None:
            return
        if incoming.is_private:
            self.correspondents.add(incoming.chat_id)
            self.chats.add(incoming.chat_id)
        else:
            self.chats.update((incoming.chat_id, incoming.chat_name))

    async def _rooms_changed(self, *_args: Any) -> None:
        try:
            await self.refresh_chats()
        except Exception:
            log.exception("refreshing the account's rooms failed")

    async def _refresh_periodically(self) -> None:
        while True:
            await self.sleep(OWNERSHIP_REFRESH_SECONDS)
            if self.transport.bot is not None:
                await self._rooms_changed()

    def on_offline(self) -> None:
        self.outbox.online.clear()
        self.transport.detach()

    def on_outage(self, down_since: dt.datetime, back_at: dt.datetime) -> None:
        tz = self.settings.tz
        minutes = max(1, round((back_at - down_since).total_seconds() / 60))
        text = texts.OUTAGE_ALERT.format(
            minutes=minutes,
            start=down_since.astimezone(tz).strftime("%H:%M"),
            end=back_at.astimezone(tz).strftime("%H:%M"),
        )
        with new_session(self.app.engine) as session:
            for cadre in self.settings.cadres:
                if cadre.role is Role.SECRETARY:
                    enqueue(session, Outgoing(cadre.chat_id, text, cadre.name, is_private=True), now=back_at)
            session.commit()
        log.warning("connection back after an outage of %d min; the secretary was alerted", minutes)
        self.outbox.wake.set()

    async def run(self) -> None:
        # `bot.stop()` does not end `bot.start()`, and the supervisor never calls `bot.start()`: cancelling
        # this coroutine is how the bot stops.
        inbox = asyncio.create_task(self.inbox.run(), name="huiyin inbox")
        outbox = asyncio.create_task(self.outbox.run(), name="huiyin outbox")
        refresh = asyncio.create_task(self._refresh_periodically(), name="huiyin chats refresh")
        try:
            await self.supervisor.run()
        finally:
            for task in (inbox, outbox, refresh):
                task.cancel()
            await asyncio.gather(inbox, outbox, refresh, return_exceptions=True)
            self.inbox.drain()  # what was received is recorded, and answered at the next start
