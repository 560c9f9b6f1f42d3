"""Known incidents (`通知`): opening one, its reporters, and `change_incident`, the only code that changes one.

Like `storage.tickets.apply_action`, `change_incident` sets the fields and writes an `IncidentEvent` with them,
so what happened to an incident (opened, joined, a ticket attached, ended) can be read back from its events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, func, or_, select

from storage.models import Incident, IncidentEvent, IncidentReporter
from storage.tickets import Actor


class IncidentStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class IncidentAction(StrEnum):
    OPEN = "open"
    JOIN = "join"  # a resident reported it while it lasted
    ATTACH = "attach"  # 关联: an open ticket's reporters moved to it
    END = "end"  # 恢复
    ASK = "ask"  # its expected end passed: the author was asked privately to confirm (jobs/incidents.py)


def change_incident(
    session: Session, incident: Incident, action: IncidentAction, *, actor: Actor, now: dt.datetime, note: str = "",
    changes: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Set `changes` on `incident` and record the event that did it."""
    for field, value in (changes or {}).items():
        setattr(incident, field, value)
    session.add(incident)
    session.flush()
    event = IncidentEvent(
        incident_id=incident.id, at=now, actor_id=actor.id, actor_name=actor.name, action=action.value, note=note
    )
    session.add(event)
    return event


def open_incident(
    session: Session, *, now: dt.datetime, author: Actor, scope_kind: str, scope_value: str, category: str,
    text: str, expected_end_at: dt.datetime | None,
) -> Incident:
    incident = Incident(
        scope_kind=scope_kind, scope_value="", category="", text="", starts_at=now, author_id=author.id,
        author_name=author.name, status=IncidentStatus.ACTIVE.value,
    )
    change_incident(
        session, incident, IncidentAction.OPEN, actor=author, now=now, note=text,
        changes={
            "scope_value": scope_value, "category": category, "text": text, "expected_end_at": expected_end_at,
        },
    )
    return incident


def end_incident(session: Session, incident: Incident, *, actor: Actor, now: dt.datetime, note: str = "") -> None:
    change_incident(
        session, incident, IncidentAction.END, actor=actor, now=now, note=note,
        changes={"status": IncidentStatus.ENDED.value, "ended_at": now},
    )


def add_incident_reporter(
    session: Session, incident: Incident, reporter: Actor, *, chat_id: str, chat_name: str, now: dt.datetime,
    note: str = "", action: IncidentAction = IncidentAction.JOIN,
) -> bool:
    """Record `reporter` as having reported `incident` (in `chat_id`); False if they already had."""
    existing = session.exec(
        select(IncidentReporter).where(
            IncidentReporter.incident_id == incident.id, IncidentReporter.member_id == reporter.id
        )
    ).first()
    if existing is not None:
        return False
    change_incident(session, incident, action, actor=reporter, now=now, note=note)
    session.add(
        IncidentReporter(
            incident_id=incident.id, member_id=reporter.id, member_name=reporter.name, chat_id=chat_id,
            chat_name=chat_name, joined_at=now,
        )
    )
    session.flush()
    return True


def incident_reporters(session: Session, incident_id: int) -> Sequence[IncidentReporter]:
    return session.exec(
        select(IncidentReporter).where(IncidentReporter.incident_id == incident_id).order_by(col(IncidentReporter.id))
    ).all()


def active_incidents(session: Session, now: dt.datetime) -> Sequence[Incident]:
    """Incidents not ended whose expected end (if any) is still ahead, newest first."""
    return session.exec(
        select(Incident)
        .where(
            Incident.status == IncidentStatus.ACTIVE.value,
            col(Incident.starts_at) <= now,
            or_(col(Incident.expected_end_at).is_(None), col(Incident.expected_end_at) > now),
        )
        .order_by(col(Incident.id).desc())
    ).all()


def incidents_past_expected_end(session: Session, until: dt.datetime | None = None) -> Sequence[Incident]:
    """Incidents not ended that have an expected end (at or before `until`, when given), oldest end first."""
    query = select(Incident).where(
        Incident.status == IncidentStatus.ACTIVE.value, col(Incident.expected_end_at).is_not(None)
    )
    if until is not None:
        query = query.where(col(Incident.expected_end_at) <= until)
    return session.exec(query.order_by(col(Incident.expected_end_at), col(Incident.id))).all()


def incidents_started_in(session: Session, start: dt.datetime, end: dt.datetime) -> Sequence[Incident]:
    """Incidents announced in [start, end), oldest first."""
    return session.exec(
        select(Incident)
        .where(col(Incident.starts_at) >= start, col(Incident.starts_at) < end)
        .order_by(col(Incident.id))
    ).all()


def all_incidents(session: Session) -> Sequence[Incident]:
    return session.exec(select(Incident).order_by(col(Incident.id))).all()


def unended_incidents(session: Session) -> Sequence[Incident]:
    """Incidents not ended (恢复), whether or not their expected end passed, oldest first."""
    return session.exec(
        select(Incident).where(Incident.status == IncidentStatus.ACTIVE.value).order_by(col(Incident.id))
    ).all()


def reporter_counts(session: Session, incident_ids: Sequence[int] | None = None) -> dict[int, int]:
    """How many residents reported each incident (of `incident_ids`, or all)."""
    query = select(IncidentReporter.incident_id, func.count()).group_by(col(IncidentReporter.incident_id))
    if incident_ids is not None:
        if not incident_ids:
            return {}
        query = query.where(col(IncidentReporter.incident_id).in_(list(incident_ids)))
    return {incident_id: count for incident_id, count in session.exec(query).all()}


def incidents_ended_since(session: Session, since: dt.datetime) -> Sequence[Incident]:
    """Incidents ended (恢复) at or after `since`, newest first."""
    return session.exec(
        select(Incident)
        .where(Incident.status == IncidentStatus.ENDED.value, col(Incident.ended_at) >= since)
        .order_by(col(Incident.id).desc())
    ).all()


def reported_incidents(session: Session, member_id: str, incident_ids: Sequence[int]) -> set[int]:
    """Which of `incident_ids` `member_id` reported."""
    if not incident_ids:
        return set()
    rows = session.exec(
        select(IncidentReporter.incident_id).where(
            IncidentReporter.member_id == member_id, col(IncidentReporter.incident_id).in_(list(incident_ids))
        )
    ).all()
    return set(rows)


def get_incident(session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id)
