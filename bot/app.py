"""The composition root: which handler answers what, and the transaction around each message."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers import agenda, board_link, cadre, notices, patrol, resident, texts, triage, units
from handlers.attachments import handle_attachment, is_attachment
from handlers.commands import CommandName
from handlers.context import Context
from handlers.merge import merge
from handlers.recategorise import recategorise
from handlers.reports import handle_report
from handlers.router import (
    Route,
    always,
    command_dispatcher,
    ignore,
    is_command,
    is_from_cadre,
    is_from_partner_unit,
    is_not_text,
    route,
)  # fmt: skip
from ledger.clock import Clock
from ledger.messages import Incoming, Outgoing, sanitised
from nlp.classification import Classifier
from nlp.trained import configured_classifier
from settings.models import Settings
from storage.db import make_engine, new_session, wait_for_locks_at_most
from storage.directory import remember_members, sync_directory
from storage.messages import enqueue, enqueue_rows, outbox_rows, record_inbound, record_inbound_all, repeat_of
from storage.schema import init_schema

log = logging.getLogger(__name__)

BATCH_LOCK_WAIT = dt.timedelta(milliseconds=250)
"""How long a batch waits for a row another process's transaction holds (a batch takes tens of milliseconds)."""

COMMAND_HANDLERS = {
    # Partner units' members use 接单 进度 办结 too, on the tickets dispatched to their unit (handlers/units.py).
    CommandName.ACCEPT: units.by_sender(cadre.accept, units.accept),
    CommandName.PROGRESS: units.by_sender(cadre.progress, units.progress),
    CommandName.RESOLVE: units.by_sender(cadre.resolve, units.resolve),
    CommandName.TRANSFER: cadre.transfer,
    CommandName.RETURN: cadre.return_ticket,
    CommandName.COMMIT: cadre.commit,
    CommandName.MY_QUEUE: cadre.my_queue,
    CommandName.ON_DUTY: cadre.on_duty_now,
    CommandName.SWAP: cadre.swap,
    CommandName.SHOW: cadre.show,
    CommandName.BOARD: board_link.board_link,
    CommandName.AGENDA: agenda.list_candidates,
    CommandName.MARK_AGENDA: agenda.mark,
    CommandName.RECATEGORISE: recategorise,
    CommandName.MERGE: merge,
    CommandName.REGISTER: triage.register,
    CommandName.IGNORE: triage.ignore,
    CommandName.NOTICE: notices.notice,
    CommandName.RESTORE: notices.restore,
    CommandName.LINK: notices.link,
    CommandName.DISPATCH: units.dispatch,
    CommandName.REDISPATCH: units.redispatch,
    CommandName.UNIT_RETURN: units.unit_return,
    CommandName.PATROL: patrol.report,
    CommandName.PUBLISH: patrol.publish,
    CommandName.HELP: cadre.help_text,
    CommandName.QUERY: resident.query,
    CommandName.MY_REPORTS: resident.my_reports,
    CommandName.RATE: resident.rate,
    CommandName.NOT_FIXED: resident.not_fixed,
    CommandName.WITHDRAW: resident.withdraw,
}

ROUTES = (
    Route("photos, voice, files, links: attach to the sender's open report", is_attachment, handle_attachment),
    Route("image, voice and other non-text messages open nothing", is_not_text, ignore),
    Route("commands", is_command, command_dispatcher(COMMAND_HANDLERS)),
    Route("cadres' own chat is not a report", is_from_cadre, ignore),
    Route("partner units' chat (their members, their groups) is not a report", is_from_partner_unit, ignore),
    Route("residents' messages: report, triage or chatter (addressed: introduction)", always, handle_report),
)


@dataclass
class Huiyin:
    """Handles incoming messages: dedup, route, and queue the replies atomically (one message, or a burst of them
    in one transaction)."""

    settings: Settings
    engine: Engine
    classifier: Classifier
    clock: Clock
    duplicate_window: dt.timedelta = dt.timedelta(0)
    """Same sender, chat and text again within this is a redelivery under a new id. Zero (off) unless the
    transport redelivers like that: the WeChat runner sets it from `inbound.duplicate_window_seconds`."""

    @property
    def community_id(self) -> str:
        """The community this app answers for: its sessions read and write that community's rows only."""
        return self.settings.community.id

    def prepare(self) -> None:
        """Create the schema on first start, mirror the configured directory, and have the classifier build its
        tables now (its model's scoring table is built on first use: tens of milliseconds that would otherwise
        delay the first resident's message)."""
        init_schema(self.engine, self.community_id)
        with new_session(self.engine, self.community_id) as session:
            sync_directory(session, self.settings)
            session.commit()
        self.classifier.classify("")

    def handle(self, incoming: Incoming) -> int:
        """Handle `incoming`; return how many replies were queued (0 for a redelivered message).

        Nothing a message carries escapes: a failure anywhere, recording the message id included, is
        logged, rolled back and answered with an apology (see `_apologise`)."""
        incoming = sanitised(incoming)
        now = self._now()
        try:
            with new_session(self.engine, self.community_id) as session:  # closing it rolls a failure back
                [queued] = self._handle(session, [(incoming, now)])
                session.commit()
                return queued
        except Exception:
            log.exception("handling message %s failed; nothing was changed", incoming.message_id)
        return self._apologise(incoming, now)

    def handle_batch(self, batch: Sequence[Incoming]) -> list[int]:
        """Handle messages received together, in order, in one transaction: how many replies each queued.

        Each message is handled as `handle` does it, at its own time and seeing what the ones before it wrote,
        but they share one commit, so a burst costs the database one commit (one WAL flush on PostgreSQL) instead
        of one per message. Each starts with an empty identity map, as in a session of its own. If anything fails
        (a message, the commit, a deadlock with another process), the whole batch is rolled back and its messages
        are handled one by one, so a failure still costs only its own message an apology. Two processes' batches
        that need each other's rows (a ticket both join) would deadlock: the batch does not wait for a row longer
        than `BATCH_LOCK_WAIT`, and its messages are then handled one by one."""
        if len(batch) <= 1:
            return [self.handle(incoming) for incoming in batch]
        cleaned = [sanitised(incoming) for incoming in batch]
        try:
            with new_session(self.engine, self.community_id) as session:
                wait_for_locks_at_most(session, BATCH_LOCK_WAIT)
                queued = self._handle(session, [(incoming, self._now()) for incoming in cleaned])
                session.commit()
                return queued
        except Exception:
            log.warning("a batch of %d messages failed; handling them one by one", len(batch), exc_info=True)
        return [self.handle(incoming) for incoming in cleaned]

    def _names_at_hand(self, incoming: Incoming) -> dict[str, set[str]]:
        """The names replies to `incoming` mention people by, known without asking the ledger: the sender's and each
        cadre's configured one."""
        names = {**self._cadre_names}
        names[incoming.sender_id] = names.get(incoming.sender_id, set()) | {incoming.sender_name}
        return names

    @cached_property
    def _cadre_names(self) -> dict[str, set[str]]:
        return {cadre.chat_id: {cadre.name} for cadre in self.settings.cadres}

    def _now(self) -> dt.datetime:
        return self.clock.now().astimezone(self.settings.tz)

    def _handle(self, session: Session, received: Sequence[tuple[Incoming, dt.datetime]]) -> list[int]:
        """Handle each message of `received` (with the time it came) in order, in `session`, which the caller
        commits; how many replies each queued. The ids are recorded and the residents among the senders remembered
        with one statement each for all of them; then each new message is answered in turn, a batch's each with an
        empty identity map, as in a session of its own; and all the replies are queued with one insert, in order."""
        new = record_inbound_all(session, received)
        residents = [
            (incoming.sender_id, incoming.sender_name, now, None if incoming.is_private else self.community_id)
            for (incoming, now), fresh in zip(received, new, strict=True)
            if fresh and self._is_resident(incoming.sender_id)
        ]
        remember_members(session, residents)
        queued, outbox = [], []
        for (incoming, now), fresh in zip(received, new, strict=True):
            if not fresh:
                log.info("duplicate delivery of %s ignored", incoming.message_id)
                queued.append(0)
                continue
            replies = self._answer(session, incoming, now)
            outbox += outbox_rows(session, replies, now=now, at_hand=self._names_at_hand(incoming))
            queued.append(len(replies))
            if len(received) > 1:
                session.flush()
                session.expunge_all()
        enqueue_rows(session, outbox)
        return queued

    def _is_resident(self, sender_id: str) -> bool:
        return self.settings.cadre_by_chat_id(sender_id) is None and self.settings.unit_member(sender_id) is None

    def _answer(self, session: Session, incoming: Incoming, now: dt.datetime) -> list[Outgoing]:
        """The replies to a new message (none to the repeat of one handled before)."""
        if (original := self._repeats(session, incoming, now)) is not None:
            log.info("duplicate delivery of %s (same text as %s) ignored", incoming.message_id, original)
            return []
        return route(ROUTES, Context(incoming, self.settings, self.classifier, session, now))

    def _repeats(self, session: Session, incoming: Incoming, now: dt.datetime) -> str | None:
        """The id of a message this one repeats: a redelivery under a new id, or the same message received by
        another bot account (process) in the same group. Checked in the database (ledger/dedup.py,
        storage/messages.repeat_of), so it holds across processes."""
        if not self.duplicate_window:
            return None
        return repeat_of(session, incoming, now=now, window=self.duplicate_window)

    def _apologise(self, incoming: Incoming, now: dt.datetime) -> int:
        """Keep the message id (a redelivery must not fail again) and say sorry, in a fresh transaction.

        If even that fails (the database is gone), it is logged and the message counts as unanswered."""
        try:
            with new_session(self.engine, self.community_id) as session:
                if not record_inbound(session, incoming, now=now):
                    return 0  # a concurrent delivery of the same message has it
                ctx = Context(incoming, self.settings, self.classifier, session, now)
                enqueue(session, ctx.reply(texts.INTERNAL_ERROR), now=now)
                session.commit()
        except Exception:
            log.exception("could not apologise for message %s", incoming.message_id)
            return 0
        return 1


def build_app(settings: Settings, database_url: str, clock: Clock) -> tuple[Huiyin, Engine]:
    """The bot on `database_url` with the configured classifier, schema migrated and directory mirrored."""
    engine = make_engine(database_url)
    app = Huiyin(settings, engine, configured_classifier(settings), clock)
    app.prepare()
    return app, engine
