"""What the wall says about each ticket: its problem, urgency and last human word; privately reported tickets.

Run on SQLite and (with HUIYIN_TEST_DATABASE_URL) PostgreSQL through the `chat` fixture's engine.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from board import texts
from board.web import create_app
from ledger.clock import ManualClock
from ledger.links import sign_link
from settings.models import Settings
from settings.secrets import BoardSecrets
from tests.chat import GROUP_G2, Chat
from tests.conftest import MONDAY_9AM

SECRET = "wall-secret"
PRIVATE_TEXT = "4号楼楼道灯不亮了，我家门口那盏，我叫钱小梅"


@pytest.fixture
def client(settings: Settings, chat: Chat) -> TestClient:
    """#1 drainage with a cadre's progress note, #2 urgent with none, #3 reported to the bot in private."""
    chat.say("张阿姨", "3号楼2单元下水道堵了，电话13812345678")
    chat.say("王芳", "进度 1 已联系疏通公司，师傅电话 139 8765 4321，下午上门")
    chat.say("周师傅", "6号楼电梯困人了！！有人被关在里面", group=GROUP_G2)
    chat.private("钱阿姨", PRIVATE_TEXT)
    app = create_app(settings, chat.app.engine, ManualClock(chat.clock.now()), BoardSecrets(SECRET, "key"))
    return TestClient(app)


def wall_cells(html: str) -> dict[int, dict[str, str]]:
    """Each row of the wall as {column label: its text without tags}."""
    rows = {}
    for number, body in re.findall(r'<tr class="ticket[^"]*" data-number="(\d+)">(.*?)</tr>', html, re.S):
        cells = re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', body, re.S)
        rows[int(number)] = {label: re.sub(r"<[^>]+>", " ", text).strip() for label, text in cells}
    return rows


def test_the_wall_shows_the_problem_masked(client: TestClient) -> None:
    rows = wall_cells(client.get("/").text)
    assert rows[1]["问题"] == "3号楼2单元下水道堵了，电话138****5678"
    assert rows[2]["问题"] == "6号楼电梯困人了！！有人被关在里面"


def test_the_last_update_is_the_cadres_note_or_the_status(client: TestClient) -> None:
    rows = wall_cells(client.get("/").text)
    assert rows[1]["最新公开进展"].startswith("已联系疏通公司，师傅电话 139****4321，下午上门")
    assert rows[2]["最新公开进展"] == "已分派"  # no note yet: the status in words, not the bot's receipt
    assert not any("@" in row["最新公开进展"] for row in rows.values())


def test_urgent_tickets_are_marked(client: TestClient) -> None:
    html = client.get("/").text
    urgent = re.findall(r'<tr class="ticket[^"]*\burgent\b[^"]*" data-number="(\d+)"', html)
    assert urgent == ["2"]
    assert "紧急" in wall_cells(html)[2]["状态"] and "紧急" not in wall_cells(html)[1]["状态"]
    assert "紧急" in client.get("/tickets/2").text and "紧急" not in client.get("/tickets/1").text


def test_a_privately_reported_ticket_shows_without_its_text(client: TestClient) -> None:
    row = wall_cells(client.get("/").text)[3]
    assert (row["类别"], row["状态"]) == ("供电照明", "已分派")
    assert row["地点"].startswith("4号楼") and row["问题"] == texts.PRIVATE_REPORT
    assert row["最新公开进展"] == "已分派"
    page = client.get("/tickets/3").text
    assert texts.PRIVATE_REPORT in page and "楼道灯不亮" not in page and "钱*" not in page
    for fmt in ("json", "xml"):
        body = client.get(f"/open311/v2/requests/3.{fmt}").text
        assert "楼道灯不亮" not in body and "供电照明" in body
    [request] = client.get("/open311/v2/requests/3.json").json()
    assert request["description"] is None and request["status_notes"] is None and request["address"]
    table = list(csv.reader(io.StringIO(client.get("/export.csv").content.decode("utf-8-sig"))))
    assert "楼道灯不亮" not in str(table) and "钱*" not in str(table)
    sheet = load_workbook(io.BytesIO(client.get("/export.xlsx").content)).active
    assert "楼道灯不亮" not in str(list(sheet.iter_rows(values_only=True)))


def test_the_cadre_view_still_shows_a_privately_reported_ticket(client: TestClient) -> None:
    token = sign_link(SECRET, "lijun", MONDAY_9AM.replace(year=2027))
    assert PRIVATE_TEXT in client.get(f"/cadre/{token}").text
    page = client.get(f"/cadre/{token}/tickets/3").text
    assert PRIVATE_TEXT in page and "钱阿姨" in page
