"""The weekly statistics: figures from ledger.rates, grouped by week, category, grid and cadre; SVG charts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ElementTree

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from board import charts
from board.stats import week_of, weekly_stats
from board.web import create_app
from ledger.clock import ManualClock
from ledger.lifecycle import Status
from ledger.rates import Period, compute_rates, median_first_response
from settings.models import Settings
from settings.secrets import BoardSecrets
from tests.chat import GROUP_G2, Chat
from tests.conftest import MONDAY_9AM, SHANGHAI
from tests.test_rates import facts

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
WEEK = Period(MONDAY_9AM, MONDAY_9AM + dt.timedelta(days=7))
SVG = "{http://www.w3.org/2000/svg}"


def test_median_first_response_skips_unanswered_and_cancelled_tickets() -> None:
    start = MONDAY_9AM
    tickets = [
        facts(1, first_response_at=start + H + 10 * M),  # created at +1 h: 10 minutes
        facts(2, first_response_at=start + H + 30 * M),  # 30 minutes
        facts(3),  # not answered yet: left out
        facts(4, status=Status.CANCELLED, first_response_at=start + H + 1 * M),  # counts nowhere
        facts(5, created=-3 * 24 * H, first_response_at=start - 24 * H),  # another week
    ]
    assert median_first_response(tickets, WEEK) == 20 * M
    assert median_first_response(tickets[:1], WEEK) == 10 * M
    assert median_first_response(tickets[2:4], WEEK) is None


def test_weeks_run_from_monday_midnight_local_time() -> None:
    week = week_of(dt.date(2026, 11, 29), SHANGHAI)  # a Sunday
    assert (week.start, week.end) == (
        dt.datetime(2026, 11, 23, tzinfo=SHANGHAI),
        dt.datetime(2026, 11, 30, tzinfo=SHANGHAI),
    )


def test_weekly_stats_use_the_one_implementation_of_the_rates(settings: Settings) -> None:
    start = MONDAY_9AM
    tickets = [
        facts(1, first_response_at=start + 1.5 * H, resolved_at=start + 10 * H, status=Status.CLOSED,
              ratings=((start + 11 * H, "满意"),)),
        facts(2, first_response_at=start + 3 * H, status=Status.IN_PROGRESS),
        facts(3, created=-6 * 24 * H, first_response_at=start - 6 * 24 * H + 2 * H),  # the week before
    ]  # fmt: skip
    stats = weekly_stats(settings, tickets, dt.date(2026, 11, 25))
    week = week_of(dt.date(2026, 11, 25), settings.tz)
    assert stats.rates == compute_rates(tickets, week)
    assert (stats.response_rate, stats.satisfaction_rate) == ("50%", "100%")
    assert stats.by_category == [("给排水", 2)] and stats.by_grid == [("第一网格", 2)]
    [wangfang] = stats.cadres
    own = compute_rates(tickets, week)  # every hand-made ticket is 王芳's
    assert (wangfang.name, wangfang.received, wangfang.responded_in_time) == ("王芳", own.received, 1)
    assert (wangfang.rated, wangfang.satisfied, wangfang.satisfaction) == (1, 1, "100%")
    assert stats.median_response == "75"  # 30 and 120 minutes
    assert stats.label == "11月23日—11月29日"

    reports = ElementTree.fromstring(stats.reports_chart)
    bars = reports.findall(f"{SVG}rect")
    assert len(bars) == 8 and [b.find(f"{SVG}title").text for b in bars[-2:]] == ["11/16：1", "11/23：2"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[-1] == 2 * heights[-2] > 0 and heights[0] == 0
    points = ElementTree.fromstring(stats.response_chart).findall(f"{SVG}circle")
    assert [p.find(f"{SVG}title").text for p in points] == ["11/16：120", "11/23：75"]
    assert len(ElementTree.fromstring(stats.response_chart).findall(f"{SVG}polyline")) == 1


def test_the_running_week_counts_no_response_time_that_has_not_run_out(settings: Settings) -> None:
    start = MONDAY_9AM
    tickets = [facts(1, first_response_at=start + 1.5 * H), facts(2, created=2.5 * H)]  # #2 due at +3.5 h
    day = start.date()
    running = weekly_stats(settings, tickets, day, now=start + 3 * H)
    assert (running.rates.response_counted, running.response_rate) == (1, "100%")
    assert running.rates == compute_rates(tickets, WEEK, start + 3 * H)
    [wangfang] = running.cadres
    assert (wangfang.received, wangfang.responded_in_time) == (2, 1)
    late = weekly_stats(settings, tickets, day, now=start + 4 * H)
    assert (late.rates.response_counted, late.response_rate) == (2, "50%")


def test_the_stats_page_leaves_out_a_ticket_reported_minutes_ago(
    settings: Settings, engine: Engine, chat: Chat
) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("刘姐", "5号楼门口路灯坏了", group=GROUP_G2)
    chat.say("李军", "接单 2", group=GROUP_G2, advance=10 * M)
    client = TestClient(create_app(settings, engine, ManualClock(chat.clock.now()), BoardSecrets(None, None)))
    page = client.get("/stats")
    assert page.status_code == 200
    assert "1/1 按时响应" in page.text  # #1 is still inside its hour: neither late nor on time yet


def test_chart_labels_are_escaped() -> None:
    svg = charts.bar_chart("<b>", ["<script>alert(1)</script>"], [3])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ElementTree.fromstring(svg)  # well-formed
    empty = charts.column_chart("空", [], [])
    assert ElementTree.fromstring(empty).findall(f"{SVG}rect") == []
