"""A 街道's deployment: one process answering the groups of several communities on one ledger.

Each community keeps its own app (`bot.app.Huiyin`: its config, its classifier, sessions that see only its
rows); `StreetApp` only decides whose a message is (`route`) and hands it over:

- a group belongs to the community whose config lists it (by id, else by name); a group no file lists goes to the
  first community, as a single community's bot answers every group it is in;
- in private, a cadre or a partner unit's member writes to their community (of several, the one whose ticket the
  message names); a resident to the community they last wrote in, in a group;
- the 街道's staff act on the ticket a command names, in its community (their `street` role lets them); anything
  else they send is answered with the 街道's overdue list (督办), read across the communities.

A ticket number is global, so a cadre naming another community's ticket reaches their own community, where that
number does not exist: they are told so, and nothing of the other community is shown or changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from bot.app import Huiyin
from handlers.commands import Command, parse_command
from handlers.context import strip_leading_mentions
from jobs.street import overdue_message
from ledger.clock import Clock
from ledger.messages import Incoming, Outgoing, sanitised
from nlp.trained import configured_classifier
from settings.models import Settings
from settings.street import Street
from storage.db import make_engine, new_session
from storage.messages import enqueue, record_inbound
from storage.street_queries import community_of_member, community_of_ticket

log = logging.getLogger(__name__)


@dataclass
class StreetApp:
    """The communities' apps behind one `handle`, as a transport sees a single app."""

    street: Street
    engine: Engine
    clock: Clock
    apps: dict[str, Huiyin]
    _unlisted: set[str] = field(default_factory=set)

    @cached_property
    def settings(self) -> Settings:
        """What a transport and a console read: the 街道's communities as one (`Street.as_one`)."""
        return self.street.as_one()

    @property
    def duplicate_window(self) -> dt.timedelta:
        return next(iter(self.apps.values())).duplicate_window

    @duplicate_window.setter
    def duplicate_window(self, window: dt.timedelta) -> None:
        for app in self.apps.values():
            app.duplicate_window = window

    def prepare(self) -> None:
        for app in self.apps.values():
            app.prepare()

    def handle(self, incoming: Incoming) -> int:
        """Hand `incoming` to its community's app, or answer a staff member's 督办; replies queued (0: none)."""
        incoming = sanitised(incoming)
        try:
            community = self.route(incoming)
        except Exception:
            log.exception("routing message %s failed; the first community answers it", incoming.message_id)
            community = self.street.communities[0].community.id
        if community is not None:
            return self.apps[community].handle(incoming)
        try:
            return self._supervise(incoming)
        except Exception:  # like a community's app, the 街道's answer never lets a message's failure out
            log.exception("answering %s with the overdue list failed", incoming.message_id)
            return 0

    def handle_batch(self, batch: Sequence[Incoming]) -> list[int]:
        """Handle messages received together: each run of consecutive group messages of one community in one
        transaction of its app (`Huiyin.handle_batch`); a private message alone, after the ones before it are
        written (a resident's community is where they last wrote)."""
        queued: list[int] = []
        run: list[Incoming] = []
        community: str | None = None
        for incoming in batch:
            owner = self._group_community(incoming)
            if run and owner != community:
                queued += self.apps[community].handle_batch(run)
                run = []
            if owner is None:
                queued.append(self.handle(incoming))
            else:
                run.append(incoming)
            community = owner
        if run:
            queued += self.apps[community].handle_batch(run)
        return queued

    def _group_community(self, incoming: Incoming) -> str | None:
        """The community of a group message its config lists (None: private, or a group no file lists)."""
        if incoming.is_private:
            return None
        listed = self.street.community_of_group(incoming.chat_id, incoming.chat_name)
        return None if listed is None else listed.community.id

    def route(self, incoming: Incoming) -> str | None:
        """The id of the community whose message this is; None for the 街道 itself (a staff member's 督办)."""
        street = self.street
        first = street.communities[0].community.id
        if not incoming.is_private:
            listed = street.community_of_group(incoming.chat_id, incoming.chat_name)
            if listed is not None:
                return listed.community.id
            if incoming.chat_id not in self._unlisted:
                self._unlisted.add(incoming.chat_id)
                log.warning("group %s (%s) is in no community's config: %s answers it", incoming.chat_name,
                            incoming.chat_id, first)  # fmt: skip
            return first
        sender = incoming.sender_id
        named = self._named_ticket_community(incoming)
        if street.staff_member(sender) is not None:
            return named
        own = [s.community.id for s in street.communities_of_person(sender)]
        if own:
            return named if named in own else own[0]
        with new_session(self.engine) as session:
            last_seen = community_of_member(session, sender)
        return last_seen if street.community(last_seen or "") is not None else first

    def _named_ticket_community(self, incoming: Incoming) -> str | None:
        command = parse_command(strip_leading_mentions(incoming.text))
        if not isinstance(command, Command) or command.ticket is None:
            return None
        with new_session(self.engine) as session:
            return community_of_ticket(session, command.ticket)

    def _supervise(self, incoming: Incoming) -> int:
        """Answer a staff member with the 街道's overdue list (督办), once per message id."""
        now = self.clock.now()
        text = overdue_message(self.street, self.engine, now)
        with new_session(self.engine) as session:
            if not record_inbound(session, incoming, now=now):
                return 0
            enqueue(session, Outgoing(incoming.chat_id, text, incoming.chat_name, is_private=True), now=now)
            session.commit()
        return 1


def build_street_app(street: Street, database_url: str, clock: Clock) -> tuple[StreetApp, Engine]:
    """Every community's app on one engine, the schema migrated (a one-community ledger adopted as the first
    community) and each directory mirrored."""
    engine = make_engine(database_url)
    apps = {
        settings.community.id: Huiyin(settings, engine, configured_classifier(settings), clock)
        for settings in street.communities
    }
    app = StreetApp(street, engine, clock, apps)
    app.prepare()
    return app, engine
