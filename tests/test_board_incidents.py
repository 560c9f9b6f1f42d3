"""Known incidents (通知) on the board: at the top of the wall and the cadre view, their own page with a timeline,
as Open311 requests (`N-3`), and as rows of the 台账. On SQLite and PostgreSQL (the `chat` fixture's engine).

The incidents are opened, joined, attached to and ended with the real commands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ElementTree

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from board.export import COLUMNS
from board.web import create_app
from ledger.clock import ManualClock
from ledger.links import sign_link
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage.incidents import open_incident
from storage.tickets import Actor
from tests.chat import GROUP_G2, Chat
from tests.conftest import MONDAY_9AM

SECRET = "incident-secret"
API = "/open311/v2"
RESIDENTS = ("张阿姨", "李叔", "赵大爷", "周哥", "孙姐")


@pytest.fixture
def client(settings: Settings, chat: Chat) -> TestClient:
    """#通知1 3号楼停水: a ticket (#1, two reporters) attached, three residents joined, ended with a note;
    #通知2 第二网格停电, active, one resident joined; #2 an ordinary ticket."""
    chat.say("周哥", "3号楼家里停水了，一滴水都没有")
    chat.say("孙姐", "3号楼也没水了")
    chat.say("王芳", "通知 3号楼 停水：水箱清洗 至 15:00")
    chat.say("王芳", "关联 1 通知1")
    for name, text in [
        ("张阿姨", "怎么停水了"),
        ("李叔", "3栋停水了？"),
        ("赵大爷", "3号楼2单元没水了，电话13812345678"),
    ]:
        chat.say(name, text, advance=dt.timedelta(minutes=5))
    chat.say("王芳", "恢复 1 已恢复供水，有问题找物业 13912345678")
    chat.say("李军", "通知 第二网格 停电检修 至 18:00", group=GROUP_G2)
    chat.say("刘姐", "5号楼怎么停电了", group=GROUP_G2)
    chat.say("小何", "6号楼电梯不动了，按了没反应", group=GROUP_G2)
    app = create_app(settings, chat.app.engine, ManualClock(chat.clock.now()), BoardSecrets(SECRET, "key"))
    return TestClient(app)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _incidents(html: str) -> dict[int, str]:
    """Each incident shown on a wall, as its text without tags."""
    found = re.findall(r'<li class="incident[^"]*" data-incident="(\d+)">(.*?)</li>', html, re.S)
    return {int(number): _text(body).strip() for number, body in found}


def test_the_wall_shows_the_active_incident_at_the_top_and_the_ended_one_below(client: TestClient) -> None:
    html = client.get("/").text
    shown = _incidents(html)
    assert set(shown) == {1, 2}
    active = shown[2]
    for part in ("#通知2", "第二网格", "供电照明", "停电检修", "开始", "预计恢复", "18:00", "1 位居民反映"):
        assert part in active, (part, active)
    assert "#通知1" in shown[1] and "3号楼" in shown[1] and "已恢复" in shown[1] and "5 位居民反映" in shown[1]
    assert html.index('data-incident="2"') < html.index('data-incident="1"') < html.index('data-number="')
    assert 'href="/incidents/2"' in html and 'href="/incidents/1"' in html
    assert not any(name in _text(html) for name in ("张阿姨", "李叔", "刘姐"))


def test_the_walls_filters_select_incidents_too(client: TestClient) -> None:
    assert set(_incidents(client.get("/?grid=g1").text)) == {1}  # 3号楼 is in 第一网格
    assert set(_incidents(client.get("/?grid=g2").text)) == {2}
    assert set(_incidents(client.get("/?category=power").text)) == {2}
    assert set(_incidents(client.get("/?status=open").text)) == {2}
    assert set(_incidents(client.get("/?status=resolved").text)) == {1}
    assert _incidents(client.get("/?status=overdue").text) == {}


def test_an_ended_incidents_page_has_its_timeline_counted_not_named(client: TestClient) -> None:
    response = client.get("/incidents/1")
    assert response.status_code == 200
    page = _text(response.text)
    for part in ("#通知1 3号楼 · 给排水", "已恢复", "水箱清洗", "王芳", "5 位居民"):
        assert part in page, part
    steps = re.findall(r'<li><span class="when">(.*?)</span><p>(.*?)</p></li>', response.text, re.S)
    texts = [text for _, text in steps]
    assert texts[0] == "王芳发布通知：停水：水箱清洗"
    assert texts[1] == "#1 并入本通知，2位反映人转入（累计2位）"
    assert texts[2] == "3位居民反映（累计5位）"
    assert texts[3] == "王芳确认恢复：已恢复供水，有问题找物业 139****5678"
    assert len(texts) == 4
    assert not any(name in page for name in RESIDENTS) and "138" not in page
    assert not any(f"{name[0]}*" in page for name in RESIDENTS)


def test_the_active_incidents_page_and_unknown_numbers(client: TestClient) -> None:
    page = _text(client.get("/incidents/2").text)
    assert "进行中" in page and "李军发布通知：停电检修" in page and "1位居民反映（累计1位）" in page
    for path in ("/incidents/99", "/incidents/0", "/incidents/99999999999"):
        assert client.get(path).status_code == 404
    assert client.get("/incidents/abc").status_code == 400


def test_the_cadre_view_shows_incidents_with_its_own_links(client: TestClient) -> None:
    token = sign_link(SECRET, "wangfang", MONDAY_9AM.replace(year=2027))
    html = client.get(f"/cadre/{token}").text
    assert set(_incidents(html)) == {1, 2}
    assert f'href="/cadre/{token}/incidents/2"' in html
    page = client.get(f"/cadre/{token}/incidents/1")
    assert page.status_code == 200 and "已恢复供水，有问题找物业 13912345678" in page.text
    assert client.get("/cadre/bad-token/incidents/1").status_code == 403


def test_open311_lists_incidents_as_requests_of_their_service(client: TestClient) -> None:
    requests = client.get(f"{API}/requests.json").json()
    by_id = {r["service_request_id"]: r for r in requests}
    assert {"N-1", "N-2", "1", "2"} <= set(by_id)
    ended, active = by_id["N-1"], by_id["N-2"]
    assert (ended["status"], ended["service_code"], ended["service_name"]) == ("closed", "drainage", "给排水")
    assert ended["status_notes"] == "停水：水箱清洗；已恢复：已恢复供水，有问题找物业 139****5678"
    assert ended["address"] == "3号楼" and ended["agency_responsible"] == "王芳"
    assert (active["status"], active["service_code"], active["status_notes"]) == ("open", "power", "停电检修")
    assert active["expected_datetime"].startswith("2026-11-23T18:00:00")
    assert active["requested_datetime"] < active["updated_datetime"]  # a resident joined since
    assert ended["updated_datetime"] > ended["requested_datetime"]
    order = [r["service_request_id"] for r in requests]
    assert order.index("N-2") < order.index("N-1") < order.index("1")  # newest first
    assert [r["service_request_id"] for r in client.get(f"{API}/requests.json?status=open").json()].count("N-1") == 0
    codes = client.get(f"{API}/requests.json?service_code=power").json()
    assert "N-2" in [r["service_request_id"] for r in codes] and "N-1" not in [r["service_request_id"] for r in codes]
    picked = client.get(f"{API}/requests.json?service_request_id=N-2,1,N-99,N-01").json()
    assert [r["service_request_id"] for r in picked] == ["N-2", "1"]


def test_open311_one_incident_in_json_and_xml(client: TestClient) -> None:
    [one] = client.get(f"{API}/requests/N-1.json").json()
    assert one["service_request_id"] == "N-1" and one["status"] == "closed"
    root = ElementTree.fromstring(client.get(f"{API}/requests/N-2.xml").text)
    assert root.findtext("request/service_request_id") == "N-2" and root.findtext("request/status") == "open"
    for missing in ("N-99", "N-0", "N-x", "N-", "n-1"):
        assert client.get(f"{API}/requests/{missing}.json").status_code == 404, missing


def test_the_taizhang_has_a_row_per_incident(client: TestClient) -> None:
    table = list(csv.reader(io.StringIO(client.get("/export.csv").content.decode("utf-8-sig"))))
    assert tuple(table[0]) == COLUMNS
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in table[1:]]
    assert [r["序号"] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    assert {r["类型"] for r in rows} == {"工单", "通知"}
    incidents = {r["编号"]: r for r in rows if r["类型"] == "通知"}
    assert set(incidents) == {"通知1", "通知2"}
    first = incidents["通知1"]
    assert (first["楼栋/网格"], first["问题类别"], first["问题描述"], first["责任人"]) == (
        "3号楼",
        "给排水",
        "停水：水箱清洗",
        "王芳",
    )
    assert (first["反映人"], first["反映人数"]) == ("", "5")
    assert first["办理情况"] == "已恢复：已恢复供水，有问题找物业 139****5678" and first["办结时间"] and first["用时"]
    second = incidents["通知2"]
    assert (second["楼栋/网格"], second["反映人数"], second["办理情况"], second["办结时间"]) == (
        "第二网格",
        "1",
        "进行中",
        "",
    )
    assert second["办结时限"].endswith("18:00")
    tickets = [r for r in rows if r["类型"] == "工单"]
    assert all(r["编号"].isdigit() for r in tickets) and rows.index(tickets[-1]) < rows.index(first)
    assert not any(name in str(table) for name in RESIDENTS)
    sheet = load_workbook(io.BytesIO(client.get("/export.xlsx").content)).active
    assert [tuple("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)] == [
        tuple(row) for row in table
    ]
    open_only = list(csv.reader(io.StringIO(client.get("/export.csv?status=open").content.decode("utf-8-sig"))))
    assert [r[1] for r in open_only[1:] if r[2] == "通知"] == ["通知2"]
    in_g1 = list(csv.reader(io.StringIO(client.get("/export.csv?grid=g1").content.decode("utf-8-sig"))))
    assert [r[1] for r in in_g1[1:] if r[2] == "通知"] == ["通知1"]


def test_an_incident_for_everyone_and_one_past_its_expected_end(settings: Settings, chat: Chat) -> None:
    now = chat.clock.now()
    with chat.session() as session:
        open_incident(
            session, now=now, author=Actor("chenjie", "陈洁"), scope_kind="all", scope_value="", category="power",
            text="全小区停电", expected_end_at=None,
        )  # fmt: skip
        open_incident(
            session, now=now - dt.timedelta(hours=3), author=Actor("wangfang", "王芳"), scope_kind="grid",
            scope_value="g1", category="drainage", text="二次供水检修", expected_end_at=now - dt.timedelta(hours=1),
        )  # fmt: skip
        session.commit()
    client = TestClient(create_app(settings, chat.app.engine, ManualClock(now), BoardSecrets(SECRET, "key")))
    shown = _incidents(client.get("/").text)
    assert "全社区" in shown[1] and "预计恢复 待定" in shown[1] and "0 位居民反映" in shown[1]
    assert "已过预计恢复时间" in shown[2] and "第一网格" in shown[2]
    assert set(_incidents(client.get("/?grid=g2").text)) == {1}  # the whole community touches every grid
    [lapsed] = client.get(f"{API}/requests/N-2.json").json()
    assert lapsed["status"] == "open" and lapsed["address"] == "第一网格"  # nobody confirmed it is back
