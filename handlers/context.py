"""What a handler gets: the message, the community's settings, the classifier, a session and the time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

from sqlmodel import Session

from handlers import texts
from handlers.commands import COMMANDS, Command, CommandError, parse_command
from ledger.messages import Incoming, Outgoing
from ledger.rota import Duty, on_duty
from nlp.classification import Classifier
from settings.models import Cadre, Role, Settings, StreetRole, Unit, UnitMember
from storage.directory import swaps
from storage.models import Ticket, TriageItem
from storage.tickets import Actor, active_reporters

_LEADING_MENTION = re.compile(r"^(?:\s*[@＠][^\s\u2005@＠]+[\s\u2005]+)+")


def strip_leading_mentions(text: str) -> str:
    return _LEADING_MENTION.sub("", text).strip()


@dataclass(frozen=True)
class UnitSender:
    """A member of a partner unit writing: they act as the unit, on the tickets dispatched to it only."""

    unit: Unit
    member: UnitMember

    @property
    def actor(self) -> Actor:
        """Who the ticket's events and announcements name: `幸福里物业 张师傅`."""
        return Actor(self.member.chat_id, f"{self.unit.name} {self.member.name}")


@dataclass
class Context:
    incoming: Incoming
    settings: Settings
    classifier: Classifier
    session: Session
    now: dt.datetime

    @cached_property
    def text(self) -> str:
        """The message text without the `@回音 ` style mentions WeChat puts in front of a command."""
        return strip_leading_mentions(self.incoming.text)

    @cached_property
    def command(self) -> Command | CommandError | None:
        """The command in the message, or None for chat. A cadre's word that is a report from anyone else
        (`上报 3号楼 井盖松动`: `CommandSpec.others_report`) is no command when a resident writes it."""
        command = parse_command(self.text)
        if command is not None and COMMANDS[command.name].others_report and self.sender_cadre is None:
            return None
        return command

    @property
    def sender(self) -> Actor:
        return Actor(self.incoming.sender_id, self.incoming.sender_name)

    @property
    def sender_cadre(self) -> Cadre | None:
        return self.settings.cadre_by_chat_id(self.incoming.sender_id)

    @property
    def unit_member(self) -> UnitSender | None:
        """The partner unit whose member sent the message (config `units[].members`), or None."""
        found = self.settings.unit_member(self.incoming.sender_id)
        return UnitSender(*found) if found is not None else None

    @property
    def tz(self) -> dt.tzinfo:
        return self.settings.tz

    def reply(self, text: str, *, mention_sender: bool = True, ticket_id: int | None = None) -> Outgoing:
        """An answer in the chat the message came from (mentioning the sender in a group)."""
        incoming = self.incoming
        if incoming.is_private:
            return Outgoing(incoming.chat_id, text, incoming.chat_name, is_private=True, ticket_id=ticket_id)
        mentions = (incoming.sender_id,) if mention_sender else ()
        prefix = texts.mention_prefix([incoming.sender_name]) if mention_sender else ""
        return Outgoing(incoming.chat_id, prefix + text, incoming.chat_name, mentions, ticket_id=ticket_id)

    def duty(self, grid_id: str | None) -> Duty:
        return on_duty(self.settings, grid_id, self.now, swaps(self.session, since=self.now.date() - dt.timedelta(1)))

    def cadre_name(self, cadre_id: str | None) -> str:
        cadre = self.settings.cadre(cadre_id) if cadre_id else None
        return cadre.name if cadre else "待分派"

    def announce(self, ticket: Ticket, text: str, *, also_mention: tuple[Cadre, ...] = ()) -> list[Outgoing]:
        """Tell the ticket's group, mentioning its reporters; confirm to the sender if they wrote elsewhere."""
        reporters = active_reporters(self.session, ticket.id)
        names = [r.member_name for r in reporters] + [c.name for c in also_mention]
        ids = tuple(dict.fromkeys([r.member_id for r in reporters] + [c.chat_id for c in also_mention]))
        if ticket.chat_is_private:
            public = Outgoing(ticket.chat_id, text, ticket.chat_name, is_private=True, ticket_id=ticket.id)
        else:
            public = Outgoing(
                ticket.chat_id, texts.mention_prefix(names) + text, ticket.chat_name, ids, ticket_id=ticket.id
            )
        if ticket.chat_id == self.incoming.chat_id:
            return [public]
        return [public, self.reply(text, ticket_id=ticket.id)]

    def may_act(self, cadre: Cadre, subject: Ticket | TriageItem) -> bool:
        """Whether `cadre` may act on a ticket (签收 进度 办结 转派 退回 承诺 撤销 改类 …) or decide a triage item.

        The one rule every handler asks: the owner (the ticket's assignee, the cadre a triage item was sent to),
        the cadre on duty now for its grid (the community-wide duty when it has none; 换班 swaps included), a grid
        leader of the grid (of any grid when there is none), a secretary, or the 街道's staff. The cadre on duty may
        act because a ticket nobody has accepted is the duty's to answer (until the shift change hands it over,
        jobs/handover.py).
        """
        owner = subject.assignee_id if isinstance(subject, Ticket) else subject.asked_id
        if _owner_leader_or_secretary(cadre, owner, subject.grid_id):
            return True
        return self.duty(subject.grid_id).cadre.id == cadre.id


def _owner_leader_or_secretary(cadre: Cadre, owner_id: str | None, grid_id: str | None) -> bool:
    """The owner, a grid leader of the grid (of any grid when there is none), a secretary or the 街道's staff."""
    if cadre.role in (Role.SECRETARY, StreetRole.STREET) or cadre.id == owner_id:
        return True
    return cadre.role is Role.GRID_LEADER and (grid_id is None or grid_id in cadre.grids)
