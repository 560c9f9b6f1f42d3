"""A test driver for the whole loop: say something as someone, get back what the bot delivered."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from bot.app import Huiyin
from bot.console import PRIVATE, ConsoleSession, Speaker
from bot.outbox import OutboxSender
from ledger.clock import ManualClock
from ledger.messages import Incoming, MessageKind, Outgoing
from nlp.classification import Classification
from storage.db import new_session

GROUP_G1 = "1-3号楼业主群"
GROUP_G2 = "4-6号楼业主群"


@dataclass(frozen=True)
class FixedClassifier:
    """Says the same about every message: tests the loop's handling of a verdict, whatever today's model thinks."""

    verdict: Classification

    def classify(self, text: str) -> Classification:
        return self.verdict


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, outgoing: Outgoing) -> None:
        self.sent.append(outgoing)


class Chat:
    def __init__(self, app: Huiyin) -> None:
        self.app = app
        self.transport = RecordingTransport()
        self.sender = OutboxSender(app.engine, self.transport, app.clock)
        self._console = ConsoleSession(app.settings, app, self.sender, app.clock, lambda _line: None)
        self._ids = itertools.count(1)

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.app.clock, ManualClock)
        return self.app.clock

    def message(self, name: str, text: str, *, group: str = GROUP_G1, kind: MessageKind | None = None) -> Incoming:
        incoming = self._console.incoming(Speaker(group, name), text, f"test-{next(self._ids)}")
        return incoming if kind is None else Incoming(**{**incoming.__dict__, "kind": kind})

    def deliver(self, incoming: Incoming) -> list[Outgoing]:
        before = len(self.transport.sent)
        self.app.handle(incoming)
        self.sender.drain()
        return self.transport.sent[before:]

    def say(self, name: str, text: str, *, group: str = GROUP_G1, advance: dt.timedelta = dt.timedelta(seconds=1)):
        self.clock.advance(advance)
        return self.deliver(self.message(name, text, group=group))

    def private(self, name: str, text: str) -> list[Outgoing]:
        return self.say(name, text, group=PRIVATE)

    def texts(self, name: str, text: str, **kwargs) -> list[str]:
        return [o.text for o in self.say(name, text, **kwargs)]

    def session(self):
        return new_session(self.app.engine)
