"""The daily ledger report to the cadres' group: new and resolved today, overdue now, commitments due tomorrow,
and the known incidents (`通知`) not ended, with how many residents reported each (those past their expected
end are marked: their author was asked to confirm, see jobs/incidents.py).

"Overdue now" is an open ticket whose resolution deadline has passed; the weekly digest's overdue count
follows `ledger.rates` instead (a period's overdue, which includes tickets resolved late in the period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from jobs import texts
from jobs.common import cadre_name, private
from jobs.incidents import IncidentFacts, time_text
from jobs.model import Occurrence
from ledger.dates import format_day
from ledger.incidents import scope_text
from ledger.lifecycle import is_open
from ledger.messages import Outgoing
from ledger.views import TicketView, category_name, place
from settings.models import Role, Settings

JOB = "daily"


def daily_report(
    settings: Settings, views: list[TicketView], at: dt.datetime, incidents: Sequence[IncidentFacts] = ()
) -> Occurrence:
    """The report posted at `at`; `incidents` are those not ended (others, and any announced later, are left out)."""
    local = at.astimezone(settings.tz)
    start = dt.datetime.combine(local.date(), dt.time(0), tzinfo=settings.tz)
    tomorrow = local.date() + dt.timedelta(days=1)
    new = [v for v in views if start <= v.created_at < at]
    resolved = [v for v in views if v.resolved_at is not None and start <= v.resolved_at < at]
    overdue = [v for v in views if is_open(v.status) and v.resolution_due_at is not None and v.resolution_due_at < at]
    committed = [v for v in views if is_open(v.status) and v.commitment_date == tomorrow]
    lines = [
        texts.DAILY_HEADER.format(day=format_day(local.date(), local.date())),
        texts.DAILY_COUNTS.format(new=len(new), resolved=len(resolved), overdue=len(overdue)),
    ]
    for header, listed in ((texts.DAILY_OVERDUE, overdue), (texts.DAILY_COMMITMENTS, committed)):
        if listed:
            lines.append(header)
            lines += [_line(settings, v) for v in sorted(listed, key=lambda v: v.number)]
    active = sorted((i for i in incidents if i.active and i.starts_at <= at), key=lambda i: i.number)
    if active:
        lines.append(texts.DAILY_INCIDENTS)
        lines += [_incident_line(settings, i, at) for i in active]
    text = "\n".join(lines)
    group = settings.cadres_group()
    if group is not None:
        replies = [Outgoing(group.id or group.name, text, group.name)]
    else:
        replies = [private(c, text) for c in settings.cadres if c.role is Role.SECRETARY]
    return Occurrence(JOB, period_of(settings, at), at, tuple(replies))


def period_of(settings: Settings, at: dt.datetime) -> str:
    return at.astimezone(settings.tz).date().isoformat()


def _line(settings: Settings, view: TicketView) -> str:
    return texts.DAILY_LINE.format(
        number=view.number, category=category_name(settings, view), place=place(view),
        assignee=cadre_name(settings, view.assignee_id),
    )



def _incident_line(settings: Settings, incident: IncidentFacts, at: dt.datetime) -> str:
    end = incident.expected_end_at
    if end is None:
        until = texts.DAILY_INCIDENT_NO_END
    else:
        wording = texts.DAILY_INCIDENT_OVERDUE if end <= at else texts.DAILY_INCIDENT_UNTIL
        until = wording.format(time=time_text(settings, end, at))
    return texts.DAILY_INCIDENT_LINE.format(
        number=incident.number, scope=scope_text(settings, incident), text=incident.text, until=until,
        residents=incident.reporters,
    )
