"""The board in real headless Chromium (Debian `chromium`, driven by Playwright) against uvicorn on 127.0.0.1.

The ledger is a replayed week of chat. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from board.readonly import read_only_engine
from board.stats import week_of
from board.web import create_app
from ledger.clock import ManualClock
from ledger.rates import compute_rates, format_rate
from settings.models import Settings
from settings.secrets import LINK_SECRET_VARIABLE, BoardSecrets
from storage.db import new_session
from storage.tickets import ticket_facts
from tests.board_ledger import REPO, SATURDAY_NOON, replay, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = REPO / "test-artifacts"
SECRET = "browser-test-secret"

if not Path(CHROMIUM).exists() and os.environ.get("CI"):
    # CI installs chromium through `make test`; there a missing browser is a failure, never a quiet skip.
    raise RuntimeError(f"Debian chromium not found at {CHROMIUM} in CI: `make chromium` did not install it")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Debian chromium not found at {CHROMIUM}: run `apt-get install -y chromium` (make test does)",
)


@pytest.fixture(scope="module")
def database_url(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('board') / 'huiyin.db'}"
    replay(settings, url)
    return url


@pytest.fixture(scope="module")
def base_url(settings: Settings, database_url: str) -> Iterator[str]:
    app = create_app(settings, read_only_engine(database_url), ManualClock(SATURDAY_NOON), BoardSecrets(SECRET, None))
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )  # fmt: skip
        yield context
        context.close()


@pytest.fixture
def page(browser: BrowserContext, base_url: str) -> Iterator[Page]:
    """A tab that fails the test if a page asks for anything outside the board (the board has no CDN)."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    yield page
    page.close()
    assert requested and all(url.startswith(base_url + "/") for url in requested), requested


def numbers(page: Page) -> list[int]:
    return [int(n) for n in page.locator("tr.ticket").evaluate_all("rows => rows.map(r => r.dataset.number)")]


def test_the_wall_lists_the_replayed_week_with_the_overdue_ticket_first(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    # Open: #4 (overdue since Saturday 09:30). Recently done, newest first: #6 returned, #3, #2, #1 closed.
    # #5 was withdrawn and is not shown.
    assert numbers(page) == [4, 6, 3, 2, 1]
    overdue = page.locator("tr.ticket.overdue")
    assert overdue.count() == 1 and overdue.get_attribute("data-number") == "4"
    assert "超期" in overdue.inner_text() and "李军" in overdue.inner_text()
    background = overdue.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    normal = page.locator("tr.ticket:not(.overdue)").first.locator("td").first
    assert background == "rgb(253, 236, 236)" != normal.evaluate("td => getComputedStyle(td).backgroundColor")
    assert "张阿姨" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "board-wall.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("tr.ticket.overdue .badge:not(.urgent)").is_visible()
    page.screenshot(path=str(ARTIFACTS / "board-wall-phone.png"), full_page=True)


def test_the_wall_shows_each_problem_its_urgency_and_the_last_note_on_a_phone(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base_url + "/")
    urgent = page.locator("tr.ticket.urgent")
    assert urgent.count() == 1 and urgent.get_attribute("data-number") == "4"  # 电梯困人
    assert urgent.locator(".badge.urgent").is_visible() and urgent.locator(".badge.urgent").inner_text() == "紧急"
    problem = page.locator("tr.ticket[data-number='4'] td.problem")
    assert problem.is_visible() and problem.inner_text() == "6号楼电梯困人了！！有人被关在里面"
    update = page.locator("tr.ticket[data-number='6'] td.update").inner_text()
    assert update.startswith("属于城管执法范围，已移交街道综合执法队")  # 陈洁's return note, not the bot's receipt
    assert page.locator("tr.ticket[data-number='4'] td.update").inner_text() == "已签收"  # no note: the status
    assert "@" not in "".join(page.locator("td.update").all_inner_texts())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the cards fit the phone's width"
    for row in page.locator("tr.ticket").all():
        box = row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "board-wall-phone-cards.png"), full_page=True)


def test_a_filter_narrows_the_wall(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.select_option("select[name=grid]", "g2")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"grid=g2"))
    assert numbers(page) == [4, 6, 2]
    page.select_option("select[name=status]", "overdue")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"status=overdue"))
    assert numbers(page) == [4]
    assert page.locator("a", has_text="Excel").get_attribute("href") == "/export.xlsx?grid=g2&status=overdue"


def test_a_ticket_page_shows_what_its_group_saw_in_order(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.click("a[href='/tickets/1']")
    entries = page.locator("ol.timeline li p").all_inner_texts()
    assert entries[0] == "@张** @王芳 收到，已登记 #1【给排水】3号楼2单元，由今日值班 王芳 负责，1小时内回复。"
    assert entries[1] == "@李* 已有 2 位居民反映，#1【给排水】3号楼2单元 正在处理，负责人 王芳。"
    assert entries[2] == "@张** @李* #1 已由 王芳 签收，正在处理。"
    assert any(e.startswith("@张** @李* #1 已办结（王芳）：已疏通") for e in entries)
    assert entries[-1] == "@张** #1 已收到您的评价「满意」，谢谢！此事项已关闭。"
    assert page.locator(".reporters").inner_text() == "张**、李*"
    assert "张阿姨" not in page.content() and "李叔" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "board-ticket.png"), full_page=True)


def test_the_stats_page_shows_the_rates_and_its_charts(
    page: Page, base_url: str, settings: Settings, database_url: str
) -> None:
    page.goto(base_url + "/stats?week=2026-11-23")
    with new_session(read_only_engine(database_url)) as session:
        facts = ticket_facts(session)
    rates = compute_rates(facts, week_of(SATURDAY_NOON.date(), settings.tz))
    shown = page.locator(".rate .value").all_inner_texts()
    assert shown[:3] == [format_rate(rates.response_rate), format_rate(rates.resolution_rate),
                         format_rate(rates.satisfaction_rate)]  # fmt: skip
    assert rates.received == 5  # six reports, one withdrawn
    reports = page.locator("#chart-reports svg rect.bar")
    assert reports.count() == 8
    assert reports.last.locator("title").text_content() == "11/23：5"
    assert page.locator("#chart-categories svg rect.bar").count() == 5  # five categories reported this week
    assert page.locator("#chart-response svg circle.point").count() == 1  # only this week had responses
    box = page.locator("#chart-reports svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    page.screenshot(path=str(ARTIFACTS / "board-stats.png"), full_page=True)


def _link_from_the_bot(settings: Settings, database_url: str, base_url: str, when: str, prefix: str) -> str:
    """Ask the bot for a link as 李军 would, in private, at `when`; point it at the test server."""
    _app, transport = replay(settings, database_url, [f"@time {when}", "[私聊] 李军: 看板"], id_prefix=prefix)
    [reply] = transport.sent
    assert reply.is_private and reply.chat_id == "wxid_lijun"
    url = re.search(r"https?://\S+", reply.text)
    assert url is not None, reply.text
    return url[0].replace(settings.board.url.rstrip("/"), base_url)


def test_the_cadre_link_from_the_bot_works_and_an_expired_one_is_refused(
    page: Page, base_url: str, settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LINK_SECRET_VARIABLE, SECRET)
    expired = _link_from_the_bot(settings, database_url, base_url, "2026-11-27 11:00", "expired")
    fresh = _link_from_the_bot(settings, database_url, base_url, "2026-11-28 11:00", "fresh")
    response = page.goto(fresh)
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "李军的看板"
    assert "周师傅" in page.locator("table.reporters-table").inner_text()  # real names for cadres
    assert page.locator("tr.ticket.overdue").first.get_attribute("class") is not None
    page.screenshot(path=str(ARTIFACTS / "board-cadre.png"), full_page=True)
    page.click("a[href$='/tickets/4']")
    assert "周师傅" in page.locator(".reporters").inner_text()

    response = page.goto(expired)
    assert response is not None and response.status == 403
    assert "已过期" in page.locator(".message").inner_text()
    page.screenshot(path=str(ARTIFACTS / "board-expired.png"), full_page=True)

    tampered = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    response = page.goto(tampered)
    assert response is not None and response.status == 403
    assert "无效" in page.locator(".message").inner_text()
