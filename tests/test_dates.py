import datetime as dt

import pytest

from ledger.dates import format_day, parse_day

D = dt.date
MONDAY = D(2026, 11, 23)  # a Monday
FRIDAY = D(2026, 11, 27)
NEW_YEARS_EVE = D(2026, 12, 31)  # a Thursday

PARSE = [
    # Full dates, returned as given even when past.
    ("2026-11-30", MONDAY, D(2026, 11, 30)),
    ("2026/11/30", MONDAY, D(2026, 11, 30)),
    ("2026.11.30", MONDAY, D(2026, 11, 30)),
    ("2026-1-5", MONDAY, D(2026, 1, 5)),
    ("2026年11月30日", MONDAY, D(2026, 11, 30)),
    ("2027年1月5号", MONDAY, D(2027, 1, 5)),
    ("２０２６－１１－３０", MONDAY, D(2026, 11, 30)),
    ("2028-02-29", MONDAY, D(2028, 2, 29)),
    ("2028年2月29日", MONDAY, D(2028, 2, 29)),
    # Month and day: this year, or next year once past.
    ("11-30", MONDAY, D(2026, 11, 30)),
    ("11/30", MONDAY, D(2026, 11, 30)),
    ("11.30", MONDAY, D(2026, 11, 30)),
    ("11月30日", MONDAY, D(2026, 11, 30)),
    ("11月30号", MONDAY, D(2026, 11, 30)),
    ("11月30", MONDAY, D(2026, 11, 30)),
    ("11 月 30 日", MONDAY, D(2026, 11, 30)),
    ("１１月３０日", MONDAY, D(2026, 11, 30)),
    ("11月23日", MONDAY, D(2026, 11, 23)),  # today has not passed
    ("11月22日", MONDAY, D(2026, 11, 22)),  # yesterday is nearer than next year: a past day the caller refuses
    ("2月1日", MONDAY, D(2027, 2, 1)),
    ("6月1日", MONDAY, D(2026, 6, 1)),
    ("1月5日", MONDAY, D(2027, 1, 5)),
    ("12月31日", NEW_YEARS_EVE, D(2026, 12, 31)),
    ("1月1日", NEW_YEARS_EVE, D(2027, 1, 1)),
    ("01/02", NEW_YEARS_EVE, D(2027, 1, 2)),
    ("2月29日", D(2028, 1, 10), D(2028, 2, 29)),
    ("2月29日", D(2028, 2, 29), D(2028, 2, 29)),
    ("2月29日", D(2028, 3, 1), D(2028, 2, 29)),  # yesterday: a past day the caller refuses
    # Day of month: this month, or next month once past.
    ("30日", MONDAY, D(2026, 11, 30)),
    ("30号", MONDAY, D(2026, 11, 30)),
    ("23号", MONDAY, D(2026, 11, 23)),
    ("5号", MONDAY, D(2026, 12, 5)),
    ("5号", NEW_YEARS_EVE, D(2027, 1, 5)),
    ("29号", D(2028, 1, 30), D(2028, 2, 29)),
    # Relative days.
    ("今天", MONDAY, MONDAY),
    ("明天", MONDAY, D(2026, 11, 24)),
    ("后天", MONDAY, D(2026, 11, 25)),
    ("大后天", MONDAY, D(2026, 11, 26)),
    ("明天", NEW_YEARS_EVE, D(2027, 1, 1)),
    ("明天", D(2028, 2, 28), D(2028, 2, 29)),
    # Weekdays: strictly after today.
    ("周五", MONDAY, FRIDAY),
    ("星期五", MONDAY, FRIDAY),
    ("礼拜五", MONDAY, FRIDAY),
    ("周一", MONDAY, D(2026, 11, 30)),
    ("周日", MONDAY, D(2026, 11, 29)),
    ("周天", MONDAY, D(2026, 11, 29)),
    ("星期天", MONDAY, D(2026, 11, 29)),
    ("周五", FRIDAY, D(2026, 12, 4)),
    ("周六", FRIDAY, D(2026, 11, 28)),
    ("周四", FRIDAY, D(2026, 12, 3)),
    ("周五", NEW_YEARS_EVE, D(2027, 1, 1)),
    # This week (Monday to Sunday) and next week.
    ("本周五", MONDAY, FRIDAY),
    ("这周五", MONDAY, FRIDAY),
    ("这个星期五", MONDAY, FRIDAY),
    ("本周一", FRIDAY, MONDAY),
    ("本周日", FRIDAY, D(2026, 11, 29)),
    ("下周一", MONDAY, D(2026, 11, 30)),
    ("下周一", FRIDAY, D(2026, 11, 30)),
    ("下周五", MONDAY, D(2026, 12, 4)),
    ("下个礼拜五", MONDAY, D(2026, 12, 4)),
    ("下星期日", FRIDAY, D(2026, 12, 6)),
    ("下周一", D(2026, 12, 29), D(2027, 1, 4)),
    # Deadline words and the weekday as format_day writes it.
    ("11月30日前", MONDAY, D(2026, 11, 30)),
    ("11月30日之前", MONDAY, D(2026, 11, 30)),
    ("周五以前", MONDAY, FRIDAY),
    ("11月30日（周一）", MONDAY, D(2026, 11, 30)),
    ("11月30日(星期一)", MONDAY, D(2026, 11, 30)),
    ("11月30日（周一）前", MONDAY, D(2026, 11, 30)),
    ("2027年1月5日（周二）", MONDAY, D(2027, 1, 5)),
    ("明天（周二）", MONDAY, D(2026, 11, 24)),
]


@pytest.mark.parametrize(("text", "today", "expected"), PARSE)
def test_parse_day(text: str, today: dt.date, expected: dt.date) -> None:
    assert parse_day(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today"),
    [
        ("", MONDAY),
        ("前", MONDAY),
        ("2月30日", MONDAY),
        ("2026-02-30", MONDAY),
        ("13月1日", MONDAY),
        ("0月1日", MONDAY),
        ("11月0日", MONDAY),
        ("11月31日", MONDAY),
        ("4/31", MONDAY),
        ("2027-02-29", MONDAY),
        ("2月29日", MONDAY),  # next 2月29日 would be in 2027, which has none
        ("31号", MONDAY),  # November has 30 days
        ("30号", D(2027, 1, 31)),  # past, and February has no 30th
        ("0号", MONDAY),
        ("0000-01-01", MONDAY),
        ("2026-11/30", MONDAY),
        ("30", MONDAY),
        ("11月", MONDAY),
        ("11月30日晚上", MONDAY),
        ("下周", MONDAY),
        ("周八", MONDAY),
        ("下下周一", MONDAY),
        ("昨天", MONDAY),
        ("月底", MONDAY),
        ("十一月三十日", MONDAY),
        ("11月30日（周二）", MONDAY),  # the weekday does not match the date
        ("（周一）", MONDAY),
        ("过几天", MONDAY),
    ],
)
def test_parse_day_rejects(text: str, today: dt.date) -> None:
    assert parse_day(text, today) is None


@pytest.mark.parametrize(
    ("day", "today", "expected"),
    [
        (D(2026, 11, 30), MONDAY, "11月30日（周一）"),
        (MONDAY, MONDAY, "11月23日（周一）"),
        (D(2026, 11, 24), MONDAY, "11月24日（周二）"),
        (D(2026, 11, 25), MONDAY, "11月25日（周三）"),
        (D(2026, 11, 26), MONDAY, "11月26日（周四）"),
        (FRIDAY, MONDAY, "11月27日（周五）"),
        (D(2026, 11, 28), MONDAY, "11月28日（周六）"),
        (D(2026, 11, 29), MONDAY, "11月29日（周日）"),
        (D(2026, 1, 5), MONDAY, "2026年1月5日（周一）"),  # over half a year back: the year keeps it unambiguous
        (D(2027, 1, 5), MONDAY, "2027年1月5日（周二）"),
        (D(2027, 1, 1), NEW_YEARS_EVE, "2027年1月1日（周五）"),
        (D(2025, 12, 31), D(2026, 1, 1), "2025年12月31日（周三）"),
        (D(2028, 2, 29), D(2028, 1, 1), "2月29日（周二）"),
    ],
)
def test_format_day(day: dt.date, today: dt.date, expected: str) -> None:
    assert format_day(day, today) == expected


@pytest.mark.parametrize("today", [MONDAY, NEW_YEARS_EVE, D(2027, 3, 1), D(2028, 2, 28)])
def test_format_day_reads_back(today: dt.date) -> None:
    """A day the bot shows, copied back into a command, is read as the same day."""
    for offset in range(800):
        day = today + dt.timedelta(days=offset)
        assert parse_day(format_day(day, today), today) == day
