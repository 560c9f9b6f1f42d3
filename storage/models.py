"""The ledger's tables. Every change of a ticket is also a `TicketEvent`, from which the ticket can be rebuilt."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from settings.limits import CHAT_ID_LENGTH, DEFAULT_COMMUNITY_ID, ID_LENGTH, MESSAGE_ID_LENGTH, NAME_LENGTH
from storage.db import CommunityScoped
from storage.types import UTCDateTime


def _community(*, index: bool = False) -> Any:
    """The community a row belongs to (`community.id` of its config file); filled in by a community's session."""
    return Field(default=DEFAULT_COMMUNITY_ID, max_length=ID_LENGTH, index=index)


def _when(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def column_defaults(model: type[SQLModel]) -> dict[str, Any]:
    """The defaults of `model`'s fields that have one (none is mutable), but its number's: what a row written with
    a Core insert holds before its own values, as the model's constructor would fill it."""
    fields = model.model_fields.items()
    return {name: field.get_default() for name, field in fields if not field.is_required() and name != "id"}


class Member(SQLModel, table=True):
    """A resident the bot has heard from, keyed by their chat id; `community_id` is where they last wrote in a
    group, which is whom a private message from them is for."""

    id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=128)
    first_seen_at: dt.datetime = _when()
    community_id: str | None = Field(default=None, max_length=ID_LENGTH)


class CadreRecord(CommunityScoped, SQLModel, table=True):
    """A cadre as configured; synchronised from its community's config file at start-up."""

    __tablename__ = "cadre"
    community_id: str = Field(default=DEFAULT_COMMUNITY_ID, primary_key=True, max_length=ID_LENGTH)
    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=NAME_LENGTH)
    chat_id: str = Field(max_length=CHAT_ID_LENGTH)
    role: str = Field(max_length=32)
    grids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class GridRecord(CommunityScoped, SQLModel, table=True):
    __tablename__ = "grid"
    community_id: str = Field(default=DEFAULT_COMMUNITY_ID, primary_key=True, max_length=ID_LENGTH)
    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    name: str = Field(max_length=NAME_LENGTH)
    buildings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class GroupRecord(CommunityScoped, SQLModel, table=True):
    __tablename__ = "chat_group"
    community_id: str = Field(default=DEFAULT_COMMUNITY_ID, primary_key=True, max_length=ID_LENGTH)
    name: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    chat_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    kind: str = Field(max_length=32)
    grids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Ticket(CommunityScoped, SQLModel, table=True):
    """One matter in the ledger. `id` is the short number residents see (`#12`); numbers run across the
    communities of one ledger, so a number names one ticket in the whole 街道."""

    # The board's and the rates' paths (storage/board_queries.py): tickets ended since a day, and tickets past
    # their resolution deadline that were never resolved or resolved since a day; a community's open tickets
    # and its tickets reported in a period.
    __table_args__ = (
        Index("ix_ticket_resolved_at_resolution_due_at", "resolved_at", "resolution_due_at"),
        Index("ix_ticket_community_status", "community_id", "status"),
        Index("ix_ticket_community_created_at", "community_id", "created_at"),
        # A report's duplicate candidates: open tickets of its category since the merge window (storage/tickets.py).
        Index("ix_ticket_merge_candidates", "community_id", "category", "status", "created_at"),
        # …and those of another category at the report's place (the other half of the candidates' union).
        Index("ix_ticket_community_location", "community_id", "location"),
    )
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community()
    status: str = Field(max_length=32, index=True)
    category: str = Field(max_length=64, index=True)
    description: str
    location: str | None = Field(default=None, max_length=128)
    grid_id: str | None = Field(default=None, max_length=64)
    chat_id: str = Field(max_length=128)
    chat_name: str = Field(default="", max_length=128)
    chat_is_private: bool = False
    assignee_id: str | None = Field(default=None, max_length=64, index=True)
    urgent: bool = False
    confidence: float = 1.0
    created_at: dt.datetime = _when(index=True)
    first_response_at: dt.datetime | None = _when(nullable=True)
    resolved_at: dt.datetime | None = _when(nullable=True)
    closed_at: dt.datetime | None = _when(nullable=True, index=True)
    response_due_at: dt.datetime | None = _when(nullable=True)
    resolution_due_at: dt.datetime | None = _when(nullable=True, index=True)
    commitment_date: dt.date | None = None
    rating: str | None = Field(default=None, max_length=16)
    agenda: bool = False  # 立项: a meeting item, shown in the weekly digest until resolved
    updated_at: dt.datetime = _when()
    # 派单: the partner unit (config `units:`) the ticket was dispatched to, and when; the cadre stays responsible.
    unit_id: str | None = Field(default=None, max_length=ID_LENGTH, index=True)
    dispatched_at: dt.datetime | None = _when(nullable=True)
    # The unit's own time limits, counted from the dispatch, and its first answer (接单/进度/办结/退单 by a member).
    unit_response_due_at: dt.datetime | None = _when(nullable=True)
    unit_resolution_due_at: dt.datetime | None = _when(nullable=True)
    unit_first_response_at: dt.datetime | None = _when(nullable=True)
    # Who found it: `resident` (居民反映) or `patrol` (主动发现: a cadre's 上报 on the rounds), and when a patrol
    # finding was made public in the residents' group (公开); residents' reports are public from the start.
    source: str = Field(default="resident", max_length=16, sa_column_kwargs={"server_default": "resident"})
    published_at: dt.datetime | None = _when(nullable=True)
    # What merging compares (the report's words and problems, as JSON), written with the ticket so that a new
    # report reads its candidates' features instead of segmenting their texts again (handlers/reports.py).
    merge_features: str | None = None


class TicketReporter(CommunityScoped, SQLModel, table=True):
    __tablename__ = "ticket_reporter"
    __table_args__ = (UniqueConstraint("ticket_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community()
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    member_id: str = Field(max_length=128, index=True)
    member_name: str = Field(max_length=128)
    joined_at: dt.datetime = _when()
    active: bool = True


class TicketEvent(CommunityScoped, SQLModel, table=True):
    """The audit trail: who did what to which ticket, when, with the exact field values it set."""

    __tablename__ = "ticket_event"
    # The ratings given in a period (满意率).
    __table_args__ = (Index("ix_ticket_event_action_at", "action", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community()
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: dt.datetime = _when()
    actor_id: str = Field(max_length=128)
    actor_name: str = Field(max_length=128)
    action: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = ""


class InboundMessage(SQLModel, table=True):
    """Every message id handled once: a redelivered message finds its row and changes nothing.

    `ticket_id`: the ticket a photo, voice note, file or link was attached to (handlers/attachments.py), whose
    dispatch forwards its photos to the partner unit."""

    __tablename__ = "inbound_message"
    # The same-text duplicate check looks up one sender's recent messages in one chat.
    __table_args__ = (Index("ix_inbound_message_sender_chat_received", "sender_id", "chat_id", "received_at"),)
    message_id: str = Field(primary_key=True, max_length=MESSAGE_ID_LENGTH)
    chat_id: str = Field(max_length=128)
    sender_id: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    text: str
    received_at: dt.datetime = _when()
    ticket_id: int | None = Field(default=None, index=True)


class OutboxMessage(SQLModel, table=True):
    """A reply waiting to be delivered; written in the same transaction as the change it announces.

    Delivery state: waiting (no `sent_at`, no `failed_at`; not before `retry_at`), sending (`claimed_at` set
    and committed before the transport is called, `attempts` counted then), sent (`sent_at`) or failed
    (`failed_at`, after `outbound.max_attempts` tries; `last_error` says why). `mention_names[i]` is the name
    the text's leading `@…` uses for `mention_ids[i]` ("" when unknown), so names with spaces parse.
    `forward_message_id`: the row forwards that received message instead of sending `text` (ledger.messages.Outgoing).
    """

    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128)
    chat_name: str = Field(default="", max_length=128)
    text: str
    mention_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mention_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_private: bool = False
    ticket_id: int | None = Field(default=None, index=True)
    created_at: dt.datetime = _when()
    sent_at: dt.datetime | None = _when(nullable=True, index=True)
    attempts: int = 0
    claimed_at: dt.datetime | None = _when(nullable=True)
    retry_at: dt.datetime | None = _when(nullable=True)
    failed_at: dt.datetime | None = _when(nullable=True, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    forward_message_id: str | None = Field(default=None, max_length=MESSAGE_ID_LENGTH)


class TriageItem(CommunityScoped, SQLModel, table=True):
    """A message the classifier was unsure about, held privately for a cadre (`P7`): 登记 opens the ticket,
    忽略 drops it, and nobody answering by `response_due_at` opens it after all (jobs/triage.py).

    `intent`, `category` and `confidence` are the classifier's guesses; `asked_id` the cadre asked; once decided,
    `decision` is registered / ignored / timed_out and `ticket_id` the ticket it opened or joined."""

    __tablename__ = "triage_item"
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community(index=True)
    text: str
    chat_id: str = Field(max_length=128)
    chat_name: str = Field(default="", max_length=128)
    chat_is_private: bool = False
    sender_id: str = Field(max_length=128)
    sender_name: str = Field(max_length=128)
    intent: str = Field(max_length=16)
    category: str = Field(max_length=64)
    confidence: float
    location: str | None = Field(default=None, max_length=128)
    grid_id: str | None = Field(default=None, max_length=64)
    asked_id: str = Field(max_length=64)
    created_at: dt.datetime = _when()
    response_due_at: dt.datetime = _when(index=True)
    decided_at: dt.datetime | None = _when(nullable=True)
    decision: str | None = Field(default=None, max_length=16, index=True)
    decided_by: str | None = Field(default=None, max_length=128)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class RotaSwap(CommunityScoped, SQLModel, table=True):
    """A `换班` made in chat: on `date`, `cadre_id`'s shifts go to `replacement_id`."""

    __tablename__ = "rota_swap"
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community(index=True)
    date: dt.date
    cadre_id: str = Field(max_length=64)
    replacement_id: str = Field(max_length=64)
    created_by: str = Field(max_length=128)
    created_at: dt.datetime = _when()


class JobRun(CommunityScoped, SQLModel, table=True):
    """One occurrence of a scheduled job that was carried out, keyed by community, job and period (e.g. digest
    2026-W47).

    Written in the same transaction as the events and outbox rows the occurrence produced; the unique key
    is what makes a job happen once across restarts, coalesced runs and concurrent schedulers.
    `output` keeps the text that was posted (the weekly digest), so it can be shown again exactly.
    """

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("community_id", "job", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community()
    job: str = Field(max_length=32)
    period: str = Field(max_length=160)
    due_at: dt.datetime = _when()
    ran_at: dt.datetime = _when()
    sent: int = 0
    output: str | None = None


class InboundFingerprint(SQLModel, table=True):
    """The last time each (chat, sender, text) came in, and the message it was: the same message under another
    id within `inbound.duplicate_window_seconds` (a redelivery, or another bot account in the same group receiving
    it) is handled once. The primary key makes the check hold across processes (storage/messages.repeat_of)."""

    __tablename__ = "inbound_fingerprint"
    chat_id: str = Field(primary_key=True, max_length=128)
    sender_id: str = Field(primary_key=True, max_length=128)
    text_hash: str = Field(primary_key=True, max_length=64)
    message_id: str = Field(max_length=MESSAGE_ID_LENGTH)
    seen_at: dt.datetime = _when()


class Incident(CommunityScoped, SQLModel, table=True):
    """A known incident a cadre announced (`通知`): a water or power cut, a lift out of service. Reports of it
    while it lasts join it instead of opening tickets; `恢复` ends it. Every change is an `IncidentEvent`."""

    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community(index=True)
    scope_kind: str = Field(max_length=16)  # building | grid | all
    scope_value: str = Field(default="", max_length=128)  # `3号楼`, a grid id, or empty for all
    category: str = Field(max_length=64)
    text: str
    starts_at: dt.datetime = _when()
    expected_end_at: dt.datetime | None = _when(nullable=True)
    ended_at: dt.datetime | None = _when(nullable=True)
    author_id: str = Field(max_length=128)
    author_name: str = Field(max_length=128)
    status: str = Field(max_length=16, index=True)  # active | ended


class IncidentReporter(CommunityScoped, SQLModel, table=True):
    """A resident who reported an incident while it lasted; told when it ends."""

    __tablename__ = "incident_reporter"
    __table_args__ = (UniqueConstraint("incident_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community()
    incident_id: int = Field(foreign_key="incident.id", index=True)
    member_id: str = Field(max_length=128, index=True)
    member_name: str = Field(max_length=128)
    chat_id: str = Field(max_length=128)
    chat_name: str = Field(default="", max_length=128)
    joined_at: dt.datetime = _when()


class IncidentEvent(CommunityScoped, SQLModel, table=True):
    """The audit trail of an incident: opened, joined, ticket attached, ended."""

    __tablename__ = "incident_event"
    id: int | None = Field(default=None, primary_key=True)
    community_id: str = _community()
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: dt.datetime = _when()
    actor_id: str = Field(max_length=128)
    actor_name: str = Field(max_length=128)
    action: str = Field(max_length=32)
    note: str = ""
