"""Open311 GeoReport v2: the spec's fields in JSON and XML, filters, errors, POST as a chat report, schemathesis."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import text

from board.readonly import read_only_engine
from board.web import create_app
from ledger.clock import ManualClock
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage.db import new_session
from storage.tickets import get_ticket, ledger_fields, ticket_events
from tests.board_ledger import SATURDAY_NOON, replay

API = "/open311/v2"
KEY = "test-api-key"
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address",
    "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip


def board_app(settings: Settings, url: str, *, bot=None, now: dt.datetime = SATURDAY_NOON) -> FastAPI:
    clock = bot.clock if bot is not None else ManualClock(now)
    return create_app(settings, read_only_engine(url), clock, BoardSecrets(None, KEY), bot=bot)


@pytest.fixture
def week(settings: Settings, tmp_path) -> Iterator[tuple[TestClient, object]]:
    url = f"sqlite:///{tmp_path / 'huiyin.db'}"
    bot, _transport = replay(settings, url)
    bot.clock.set(SATURDAY_NOON)
    yield TestClient(board_app(settings, url, bot=bot)), bot


def xml_items(text: str, item: str) -> list[dict[str, str | None]]:
    root = ElementTree.fromstring(text)
    return [{child.tag: child.text for child in element} for element in root.findall(item)]


def test_services_list_the_categories_with_the_spec_fields(week, settings: Settings) -> None:
    client, _ = week
    services = client.get(f"{API}/services.json").json()
    assert [s["service_code"] for s in services] == [c.id for c in settings.categories]
    assert all(set(s) == SERVICE_FIELDS for s in services)
    drainage = services[1]
    assert (drainage["service_name"], drainage["type"], drainage["metadata"]) == ("给排水", "realtime", False)
    assert "下水道" in drainage["keywords"].split(",")
    response = client.get(f"{API}/services.xml")
    assert response.headers["content-type"].startswith("text/xml")
    assert xml_items(response.text, "service")[1]["service_name"] == "给排水"
    definition = client.get(f"{API}/services/drainage.json").json()
    assert definition == {"service_code": "drainage", "attributes": []}
    root = ElementTree.fromstring(client.get(f"{API}/services/drainage.xml").text)
    assert root.tag == "service_definition" and root.findtext("service_code") == "drainage"


def test_a_request_has_the_spec_fields_in_json_and_xml(week) -> None:
    client, _ = week
    [request] = client.get(f"{API}/requests/1.json").json()
    assert set(request) == REQUEST_FIELDS
    assert request["service_request_id"] == "1" and request["status"] == "closed"
    assert (request["service_code"], request["service_name"], request["agency_responsible"]) == (
        "drainage",
        "给排水",
        "王芳",
    )
    assert request["requested_datetime"] == "2026-11-23T08:55:03+08:00"
    assert request["expected_datetime"] == "2026-11-24T23:59:59+08:00"  # the commitment 承诺 1 明天
    assert request["status_notes"].startswith("已疏通") and request["address"] == "3号楼2单元 第一网格"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert dt.datetime.fromisoformat(request[field]).utcoffset() == dt.timedelta(hours=8)
    [from_xml] = xml_items(client.get(f"{API}/requests/1.xml").text, "request")
    assert set(from_xml) == REQUEST_FIELDS
    assert {k: v for k, v in from_xml.items() if v is not None} == {k: v for k, v in request.items() if v is not None}


def test_request_filters_paging_and_the_default_window(week) -> None:
    client, _ = week

    def ids(query: str) -> list[str]:
        response = client.get(f"{API}/requests.json?{query}")
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert ids("") == ["6", "5", "4", "3", "2", "1"]
    assert ids("status=open") == ["4"]
    assert ids("status=open,closed&service_code=power,facilities") == ["4", "2"]
    assert ids("service_request_id=2,1,99&status=open") == ["2", "1"]  # ids win over the other filters
    assert ids("start_date=2026-11-25T00:00:00%2B08:00&end_date=2026-11-26T23:59:59%2B08:00") == ["5", "4"]
    assert ids("page_size=2&page=2") == ["4", "3"]
    assert ids("end_date=2027-03-01T00:00:00Z") == []  # 90 days before March 2027 holds none of them


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "words"),
    [
        ("get", "/requests/99.json", None, 404, "99"),
        ("get", "/services/nope.xml", None, 404, "nope"),
        ("get", "/requests.json?start_date=yesterday", None, 400, "start_date"),
        ("get", "/requests.json?status=pending", None, 400, "status"),
        ("get", "/requests.xml?page=0", None, 400, "page"),
        ("post", "/requests.json", {"description": "3号楼漏水"}, 403, "api_key"),
        ("post", "/requests.json", {"description": "3号楼漏水", "api_key": "wrong"}, 403, "api_key"),
        ("post", "/requests.json", {"api_key": KEY}, 400, "description"),
        ("post", "/requests.xml", {"api_key": KEY, "description": "x", "service_code": "zzz"}, 400, "zzz"),
        ("post", "/requests.json", {"api_key": KEY, "description": "谢谢大家"}, 400, "service_code"),
        ("get", "/requests.json?start_date=9999-12-31", None, 400, "start_date"),
        ("get", "/requests.xml?start_date=9999-12-31T23:59:59-12:00", None, 400, "start_date"),
        ("get", "/requests.xml?end_date=0001-01-01", None, 400, "end_date"),
        ("get", "/requests.json?end_date=0001-01-01T00:00:00%2B14:00", None, 400, "end_date"),
        ("post", "/requests.xml", {"api_key": KEY, "description": "漏水", "account_id": "a\x01b"}, 400, "account_id"),
        ("post", "/requests.json", {"api_key": KEY, "description": "3号楼\x0b漏水"}, 400, "description"),
        ("post", "/requests.xml", {"api_key": KEY, "description": "漏水", "last_name": "\ufffe"}, 400, "last_name"),
    ],
)
def test_errors_come_as_the_spec_error_list(week, method, path, data, status, words) -> None:
    client, _ = week
    response = client.request(method.upper(), API + path, data=data)
    assert response.status_code == status
    if path.endswith(".xml") or ".xml?" in path:
        [error] = xml_items(response.text, "error")
    else:
        [error] = response.json()
    assert int(error["code"]) == status and words in error["description"]


def test_xml_is_well_formed_whatever_the_ledger_holds(settings: Settings, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'huiyin.db'}"
    bot, _ = replay(settings, url, ["@time 2026-11-27 09:00", "[1-3号楼业主群] 张阿姨: 3号楼2单元下水道堵了"])
    with bot.engine.begin() as connection:  # as an older version of the bot, or another writer, may have stored it
        connection.execute(text("UPDATE ticket SET description = :text"), {"text": "3号楼2单元\x07下水道堵了\x1b[0m"})
    client = TestClient(board_app(settings, url))
    for path in ("/requests.xml", "/requests/1.xml"):
        [request] = xml_items(client.get(API + path).text, "request")
        assert request["description"] == "3号楼2单元下水道堵了[0m"
    [error] = xml_items(client.get(f"{API}/requests/1%01%0C.xml").text, "error")
    assert error["code"] == "404"


def test_post_opens_a_ticket_exactly_as_a_chat_report_would(settings: Settings, tmp_path) -> None:
    by_chat, _ = replay(
        settings, f"sqlite:///{tmp_path / 'chat.db'}", ["@time 2026-11-30 10:00", "[私聊] 钱阿姨: 4号楼楼道灯不亮了"]
    )
    api_url = f"sqlite:///{tmp_path / 'api.db'}"
    bot, _ = replay(settings, api_url, ["@time 2026-11-30 10:00"])
    bot.clock.advance(dt.timedelta(seconds=1))
    client = TestClient(board_app(settings, api_url, bot=bot))
    response = client.post(
        f"{API}/requests.json",
        data={"api_key": KEY, "description": "4号楼楼道灯不亮了", "first_name": "阿姨", "last_name": "钱"},
    )
    assert response.status_code == 201
    [created] = response.json()
    assert created["service_request_id"] == "1" and "/tickets/1" in created["service_notice"]
    with new_session(by_chat.engine) as chat_session, new_session(bot.engine) as api_session:
        chat_ticket, api_ticket = get_ticket(chat_session, 1), get_ticket(api_session, 1)
        differs = {"chat_id", "chat_name", "chat_is_private"}  # where it was raised: the cadres' group for the API
        same = {k: v for k, v in ledger_fields(chat_ticket).items() if k not in differs}
        assert {k: v for k, v in ledger_fields(api_ticket).items() if k not in differs} == same
        assert same["category"] == "power" and same["assignee_id"] == "lijun" and same["location"] == "4号楼"
        assert [e.action for e in ticket_events(api_session, 1)] == [e.action for e in ticket_events(chat_session, 1)]
        assert api_ticket.chat_name == "幸福里社区工作群"
    [shown] = client.get(f"{API}/requests/1.json").json()
    assert shown["status"] == "open" and shown["agency_responsible"] == "李军"


def test_a_service_code_replaces_classification_and_a_duplicate_joins(week) -> None:
    client, bot = week
    post = {"api_key": KEY, "description": "小区东边那块地方有点问题", "service_code": "greening"}
    response = client.post(f"{API}/requests.xml", data=post)
    assert response.status_code == 201
    [created] = xml_items(response.text, "request")
    with new_session(bot.engine) as session:
        ticket = get_ticket(session, int(created["service_request_id"]))
        assert ticket.category == "greening" and ticket.description == post["description"]
    same_place = {"api_key": KEY, "description": "单元门坏了", "address_string": "2号楼", "service_code": "facilities"}
    [first] = client.post(f"{API}/requests.json", data=same_place).json()
    [again] = client.post(f"{API}/requests.json", data={**same_place, "description": "门禁也坏了"}).json()
    assert again["service_request_id"] == first["service_request_id"] != created["service_request_id"]
    with new_session(bot.engine) as session:
        assert [e.action for e in ticket_events(session, int(first["service_request_id"]))] == [
            "create",
            "assign",
            "join",
        ]


def test_schemathesis_finds_no_server_error(settings: Settings, tmp_path) -> None:
    """Every operation of the OpenAPI document, with valid and invalid generated input (POSTs with the key)."""
    url = f"sqlite:///{tmp_path / 'huiyin.db'}"
    bot, _ = replay(settings, url)
    bot.clock.set(SATURDAY_NOON)
    schema = schemathesis.openapi.from_asgi("/openapi.json", board_app(settings, url, bot=bot))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /",
        "GET /stats",
        f"GET {API}/requests.{{fmt}}",
        f"POST {API}/requests.{{fmt}}",
    }
    failures: list[str] = []
    unsatisfiable: list[str] = []
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
            )
            def call(case) -> None:
                if case.method.upper() == "POST" and isinstance(case.body, dict):
                    # With the key, a real category when none was generated and a description when the one
                    # generated is empty, so fuzzed input reaches the bot (the refusals have their own tests).
                    case.body = {"service_code": "other", **case.body, "api_key": KEY}
                    case.body["description"] = case.body.get("description") or "3号楼楼道灯坏了"
                response = case.call()
                statuses.setdefault(case.operation.label, set()).add(response.status_code)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {case.body!r}: {response.status_code}"
                    )

            try:
                call()
            except Unsatisfiable:
                # Some operations accept every value of every parameter: there is no invalid input to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
                unsatisfiable.append(operation.label)
    assert failures == []
    assert len(unsatisfiable) < len(operations)
    assert 201 in statuses[f"POST {API}/requests.{{fmt}}"]  # generated reports really became tickets
    assert 200 in statuses["GET /"] and 400 in statuses[f"GET {API}/requests.{{fmt}}"]
