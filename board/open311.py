"""Open311 GeoReport v2 under `/open311/v2/`: categories as services, tickets and known incidents (`通知`) as
service requests.

A ticket's `service_request_id` is its number (`12`); an incident's is `N-` and its number (`N-3`), so the two
never collide. An incident is a request of its category's service, open until a cadre ends it (恢复); its
`status_notes` are the notice's text and, once ended, the cadre's note.

GETs read the ledger like the wall does (only the page asked for, `storage.board_queries`) and show only
public, masked fields. `POST requests.{fmt}` hands
the request to the bot (`bot.app.Huiyin.handle`) as a message in the cadres' group, so it becomes a ticket
exactly as a chat report would: same classification (skipped for the category when `service_code` is
given), duplicate merging, rota, deadlines and announcements.

Every answer, errors included, is well-formed XML: characters XML 1.0 cannot carry are dropped from what is
written, and a POST whose fields hold control characters is refused with 400, as are dates out of range.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from board.reader import MAX_NUMBER, LedgerReader
from board.views import Masker
from ledger.incidents import scope_text
from ledger.lifecycle import OPEN_STATES, Status
from ledger.messages import Incoming
from nlp.classification import Classification, Classifier, Intent
from settings.models import Category, Settings
from storage import incident_queries
from storage.board_queries import Note, details, existing_ids, shown_publicly, tickets_by_id
from storage.db import new_session
from storage.incidents import IncidentStatus, get_incident
from storage.models import Incident, Ticket
from storage.tickets import get_ticket, tickets_reported_by

if TYPE_CHECKING:
    from bot.app import Huiyin

PREFIX = "/open311/v2"
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_DESCRIPTION = 2000
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
"""The dates a query may give: far enough inside Python's range that the 90-day default window fits."""
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What XML 1.0 cannot carry at all: dropped from every text written as XML."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Control characters (tab and line breaks aside) and non-characters: refused in what clients send."""
API_SENDER_NAME = "Open311"
API_CHAT_NAME = "Open311"

ERRORS = {
    "bad_api_key": "api_key missing or invalid",
    "posting_disabled": "creating requests is not enabled on this server",
    "missing_description": "description is required",
    "long_description": f"description is longer than {MAX_DESCRIPTION} characters",
    "unknown_service": "service_code {code!r} is not a service of this community",
    "not_a_problem": "the description does not read as a problem report; give a service_code",
    "bad_date": "{field} is not an ISO 8601 date-time",
    "date_out_of_range": "{field} must be from 1970 to 2999",
    "control_characters": "{field} contains control characters",
    "bad_status": "status must be open, closed or both (comma-separated)",
    "bad_range": "end_date is before start_date",
    "not_found": "no service request {id!r}",
    "no_service": "no service {code!r}",
}
SERVICE_DESCRIPTION = (
    "{category.name}（{category.first_response_minutes}分钟内回复，{category.resolution_hours}小时内办结）"
)
SERVICE_NOTICE = "已登记 #{number}，可在看板查看进度：{url}/tickets/{number}"
INCIDENT_PREFIX = "N-"
"""Before an incident's number in its `service_request_id`."""
INCIDENT_DESCRIPTION = "通知{number}（{scope}）：{text}"
INCIDENT_NOTICE = "已知情况，{count}位居民反映，恢复后通知"
INCIDENT_ENDED_NOTE = "已恢复：{note}"
INCIDENT_ENDED = "已恢复"


class Format(StrEnum):
    JSON = "json"
    XML = "xml"


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# Rendering ------------------------------------------------------------------------------------------------


def _xml_value(parent: ElementTree.Element, key: str, value: Any) -> None:
    child = ElementTree.SubElement(parent, key)
    if isinstance(value, list):
        for item in value:
            _xml_value(child, "item", item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = _XML_ILLEGAL.sub("", str(value))  # ElementTree would write them, and no parser reads that


def to_xml(root: str, item: str, items: Sequence[Mapping[str, Any]]) -> bytes:
    """`<root><item><key>value</key>…</item>…</root>`, the GeoReport v2 XML shape."""
    top = ElementTree.Element(root)
    for entry in items:
        element = ElementTree.SubElement(top, item)
        for key, value in entry.items():
            _xml_value(element, key, value)
    return ElementTree.tostring(top, encoding="utf-8", xml_declaration=True)


def respond(fmt: Format, root: str, item: str, items: Sequence[Mapping[str, Any]], status: int = 200) -> Response:
    if fmt is Format.XML:
        return Response(to_xml(root, item, items), status_code=status, media_type="text/xml")
    return JSONResponse(list(items), status_code=status)


def error_response(fmt: Format, status: int, description: str) -> Response:
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status)


def format_of_path(path: str) -> Format:
    return Format.XML if path.endswith(".xml") else Format.JSON


# Pure mapping of the ledger to GeoReport fields -----------------------------------------------------------


def service(settings: Settings, category: Category) -> dict[str, Any]:
    return {
        "service_code": category.id,
        "service_name": category.name,
        "description": SERVICE_DESCRIPTION.format(category=category),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": settings.community.name,
    }


def _iso(instant: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    return instant.astimezone(tz).isoformat(timespec="seconds") if instant else None


def service_request(settings: Settings, ticket: Ticket, note: Note | None, masker: Masker) -> dict[str, Any]:
    """The GeoReport fields of `ticket`, whose latest note is `note`."""
    tz = settings.tz
    category = settings.category(ticket.category)
    grid = settings.grid(ticket.grid_id)
    owner = settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    hidden = masker.hides(ticket)
    note = None if hidden else note
    if ticket.commitment_date:
        expected = dt.datetime.combine(ticket.commitment_date, dt.time(23, 59, 59), tzinfo=tz)
    else:
        expected = ticket.resolution_due_at
    address = " ".join(part for part in (ticket.location, grid.name if grid else None) if part)
    return {
        "service_request_id": str(ticket.id),
        "status": "open" if Status(ticket.status) in OPEN_STATES else "closed",
        "status_notes": masker.text(note.text) if note else None,
        "service_name": category.name if category else ticket.category,
        "service_code": ticket.category,
        "description": None if hidden else masker.text(ticket.description),
        "agency_responsible": owner.name if owner else None,
        "service_notice": None,
        "requested_datetime": _iso(ticket.created_at, tz),
        "updated_datetime": _iso(ticket.updated_at, tz),
        "expected_datetime": _iso(expected, tz),
        "address": address or None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def incident_request(
    settings: Settings, incident: Incident, *, reporters: int, updated: dt.datetime | None, end_note: str | None,
    masker: Masker,
) -> dict[str, Any]:  # fmt: skip
    """The GeoReport fields of a known incident: a request of its category's service, made by its author."""
    tz = settings.tz
    category = settings.category(incident.category)
    ended = incident.status == IncidentStatus.ENDED.value
    notes = [masker.text(incident.text)]
    if ended:
        notes.append(INCIDENT_ENDED_NOTE.format(note=masker.text(end_note)) if end_note else INCIDENT_ENDED)
    scope = scope_text(settings, incident)
    return {
        "service_request_id": f"{INCIDENT_PREFIX}{incident.id}",
        "status": "closed" if ended else "open",
        "status_notes": "；".join(notes),
        "service_name": category.name if category else incident.category,
        "service_code": incident.category,
        "description": INCIDENT_DESCRIPTION.format(number=incident.id, scope=scope, text=masker.text(incident.text)),
        "agency_responsible": incident.author_name,
        "service_notice": INCIDENT_NOTICE.format(count=reporters),
        "requested_datetime": _iso(incident.starts_at, tz),
        "updated_datetime": _iso(updated or incident.ended_at or incident.starts_at, tz),
        "expected_datetime": _iso(incident.ended_at if ended else incident.expected_end_at, tz),
        "address": scope,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def parse_when(value: str | None, field: str, tz: dt.tzinfo) -> dt.datetime | None:
    if not value:
        return None
    try:
        instant = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Open311Error(400, ERRORS["bad_date"].format(field=field)) from None
    instant = instant if instant.tzinfo else instant.replace(tzinfo=tz)
    if not EARLIEST <= instant < LATEST:
        raise Open311Error(400, ERRORS["date_out_of_range"].format(field=field))
    return instant


def ticket_number(text: str) -> int | None:
    """The ticket `text` names as its number is written (`12`, not `012` or `１２`), if it can be one."""
    if not (text.isascii() and text.isdigit()) or str(int(text)) != text:
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None


RequestKey = tuple[int, int]
"""`(incident_queries.TICKET or INCIDENT, number)`."""


def request_key(text: str) -> RequestKey | None:
    """The request a `service_request_id` names: a ticket's number (`12`) or an incident's (`N-3`)."""
    if text.startswith(INCIDENT_PREFIX):
        number = ticket_number(text[len(INCIDENT_PREFIX) :])
        return (incident_queries.INCIDENT, number) if number is not None else None
    number = ticket_number(text)
    return (incident_queries.TICKET, number) if number is not None else None


def select_requests(
    session: Session,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    ids: str | None,
    codes: str | None,
    start: str | None,
    end: str | None,
    status: str | None,
    page: int,
    page_size: int,
) -> list[Ticket | Incident]:
    """The page of tickets and incidents a GET requests query asks for (ids win over every other filter, as the
    spec says)."""
    if ids:
        wanted = [key for key in (request_key(part.strip()) for part in ids.split(",")) if key is not None]
        found = {
            (incident_queries.TICKET, n)
            for n in existing_ids(session, {n for kind, n in wanted if kind == incident_queries.TICKET}, public=True)
        } | {
            (incident_queries.INCIDENT, n)
            for n in incident_queries.existing_incident_ids(
                session, {n for kind, n in wanted if kind == incident_queries.INCIDENT}
            )
        }
        chosen = [key for key in wanted if key in found]
        return _load(session, chosen[(page - 1) * page_size : page * page_size])
    start_at, end_at = parse_when(start, "start_date", tz), parse_when(end, "end_date", tz)
    end_at = end_at or (start_at + DEFAULT_WINDOW if start_at else now)
    start_at = start_at or end_at - DEFAULT_WINDOW
    if end_at < start_at:
        raise Open311Error(400, ERRORS["bad_range"])
    statuses = {part.strip() for part in (status or "").split(",") if part.strip()}
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, ERRORS["bad_status"])
    services = {part.strip() for part in (codes or "").split(",") if part.strip()}
    keys = incident_queries.requests_page(
        session, start=start_at, end=end_at, states=statuses, codes=services, offset=(page - 1) * page_size,
        limit=page_size,
    )  # fmt: skip
    return _load(session, keys)


def _load(session: Session, keys: Sequence[RequestKey]) -> list[Ticket | Incident]:
    """The tickets and incidents `keys` name, in their order (a page: at most `MAX_PAGE_SIZE`)."""
    tickets = tickets_by_id(session, [n for kind, n in keys if kind == incident_queries.TICKET])
    incidents = incident_queries.incidents_by_id(session, [n for kind, n in keys if kind == incident_queries.INCIDENT])
    return [tickets[n] if kind == incident_queries.TICKET else incidents[n] for kind, n in keys]


@dataclasses.dataclass(frozen=True)
class ForcedCategory:
    """A classifier that keeps the place and urgency `base` finds but takes the category the client chose."""

    base: Classifier
    category_id: str

    def classify(self, text: str) -> Classification:
        found = self.base.classify(text)
        intent = Intent.REPORT if found.intent is Intent.CHATTER else found.intent
        return dataclasses.replace(found, intent=intent, category=self.category_id, confidence=1.0)


# The router -----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Open311Deps:
    """What the API needs from the board: settings, the ledger's reader, the time, the key, and the bot."""

    settings: Settings
    reader: LedgerReader
    now: Callable[[], dt.datetime]
    api_key: str | None
    bot: Huiyin | None  # None when the board runs without write access: POST is refused
    board_url: str


def make_router(deps: Open311Deps) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["Open311 GeoReport v2"])
    settings = deps.settings
    reader = deps.reader

    def answer(fmt: Format, session: Session, shown: Sequence[Ticket | Incident]) -> Response:
        masker = reader.masker(session)
        notes = details(session, [t.id for t in shown if isinstance(t, Ticket)]).notes
        incident_ids = [i.id for i in shown if isinstance(i, Incident) and i.id is not None]
        reporters = incident_queries.reporter_counts(session, incident_ids)
        updated = incident_queries.last_changes(session, incident_ids)
        ended = incident_queries.end_notes(session, incident_ids)
        items = []
        for item in shown:
            if isinstance(item, Ticket):
                items.append(service_request(settings, item, notes.get(item.id), masker))
                continue
            number = item.id or 0
            items.append(
                incident_request(
                    settings,
                    item,
                    reporters=reporters.get(number, 0),
                    updated=updated.get(number),
                    end_note=ended.get(number),
                    masker=masker,
                )
            )
        return respond(fmt, "service_requests", "request", items)

    @router.get("/services.{fmt}", summary="The community's problem categories as services")
    def services(fmt: Format) -> Response:
        return respond(fmt, "services", "service", [service(settings, c) for c in settings.categories])

    @router.get("/services/{service_code}.{fmt}", summary="A service definition (no extra attributes)")
    def service_definition(service_code: str, fmt: Format) -> Response:
        if settings.category(service_code) is None:
            return error_response(fmt, 404, ERRORS["no_service"].format(code=service_code))
        definition = {"service_code": service_code, "attributes": []}
        if fmt is Format.XML:  # one object, not a list: `<service_definition>` is the document's root
            root = ElementTree.Element("service_definition")
            for key, value in definition.items():
                _xml_value(root, key, value)
            return Response(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True), media_type="text/xml")
        return JSONResponse(definition)

    @router.get("/requests.{fmt}", summary="Service requests, newest first (90 days unless dates are given)")
    def requests(
        fmt: Format,
        service_request_id: str | None = None,
        service_code: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        status: str | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    ) -> Response:
        with reader.session() as session:
            try:
                shown = select_requests(
                    session, now=deps.now(), tz=settings.tz, ids=service_request_id, codes=service_code,
                    start=start_date, end=end_date, status=status, page=page, page_size=page_size,
                ) if reader.ready() else []  # fmt: skip
            except Open311Error as error:
                return error_response(fmt, error.status, error.description)
            return answer(fmt, session, shown)

    @router.get("/requests/{service_request_id}.{fmt}", summary="One service request")
    def one_request(service_request_id: str, fmt: Format) -> Response:
        key = request_key(service_request_id)
        with reader.session() as session:
            found: Ticket | Incident | None = None
            if key is not None and reader.ready():
                kind, number = key
                ticket = kind == incident_queries.TICKET
                found = get_ticket(session, number) if ticket else get_incident(session, number)
            if isinstance(found, Ticket) and not shown_publicly(found):  # a patrol finding before 公开
                found = None
            if found is None:
                return error_response(fmt, 404, ERRORS["not_found"].format(id=service_request_id))
            return answer(fmt, session, [found])

    @router.post("/requests.{fmt}", summary="Create a service request, as a resident's report in chat would")
    def create_request(
        fmt: Format,
        api_key: Annotated[str | None, Form()] = None,
        service_code: Annotated[str | None, Form()] = None,
        description: Annotated[str | None, Form()] = None,
        address_string: Annotated[str | None, Form()] = None,
        first_name: Annotated[str | None, Form()] = None,
        last_name: Annotated[str | None, Form()] = None,
        account_id: Annotated[str | None, Form()] = None,
    ) -> Response:
        fields = {
            "api_key": api_key, "service_code": service_code, "description": description,
            "address_string": address_string, "first_name": first_name, "last_name": last_name,
            "account_id": account_id,
        }  # fmt: skip
        try:
            refuse_control_characters(fields)
            ticket_id = _create(deps, api_key, service_code, description, address_string, first_name, last_name)
        except Open311Error as error:
            return error_response(fmt, error.status, error.description)
        notice = SERVICE_NOTICE.format(number=ticket_id, url=deps.board_url.rstrip("/"))
        answer = {"service_request_id": str(ticket_id), "service_notice": notice, "account_id": account_id}
        return respond(fmt, "service_requests", "request", [answer], status=201)

    return router


def refuse_control_characters(fields: Mapping[str, str | None]) -> None:
    """400 for the first field that holds a control character (XML cannot carry most; none belongs in a report)."""
    for name, value in fields.items():
        if value and _CONTROL.search(value):
            raise Open311Error(400, ERRORS["control_characters"].format(field=name))


def _create(
    deps: Open311Deps,
    api_key: str | None,
    service_code: str | None,
    description: str | None,
    address: str | None,
    first_name: str | None,
    last_name: str | None,
) -> int:
    """Hand the request to the bot as a report; the number of the ticket it opened or joined."""
    if deps.bot is None:
        raise Open311Error(403, ERRORS["posting_disabled"])
    if not deps.api_key or not api_key or not hmac.compare_digest(api_key.encode(), deps.api_key.encode()):
        raise Open311Error(403, ERRORS["bad_api_key"])
    text = " ".join(part.strip() for part in (address, description) if part and part.strip())
    if not description or not description.strip():
        raise Open311Error(400, ERRORS["missing_description"])
    if len(text) > MAX_DESCRIPTION:
        raise Open311Error(400, ERRORS["long_description"])
    settings = deps.settings
    bot = deps.bot
    if service_code:
        if settings.category(service_code) is None:
            raise Open311Error(400, ERRORS["unknown_service"].format(code=service_code))
        bot = dataclasses.replace(bot, classifier=ForcedCategory(bot.classifier, service_code))
    sender_id = f"open311:{uuid.uuid4().hex}"
    name = "".join(part.strip() for part in (last_name, first_name) if part) or API_SENDER_NAME
    group = settings.cadres_group()
    if group is not None:
        chat_id, chat_name, private = group.id or group.name, group.name, False
    else:
        chat_id, chat_name, private = sender_id, API_CHAT_NAME, True
    incoming = Incoming(
        message_id=f"open311-{uuid.uuid4().hex}", chat_id=chat_id, chat_name=chat_name, sender_id=sender_id,
        sender_name=name[:64], text=text, timestamp=deps.now(), is_private=private,
    )  # fmt: skip
    bot.handle(incoming)
    with new_session(bot.engine, bot.community_id) as session:  # the sender is new: its one ticket is this one
        found = tickets_reported_by(session, sender_id, limit=1)
    if not found:
        raise Open311Error(400, ERRORS["not_a_problem"])
    return found[0].id
