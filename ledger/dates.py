"""Reading and writing the days people type for 承诺 (commitment) and 换班 (shift swap).

`parse_day` understands the forms people actually type in a group chat:

- full dates: 2026-11-30, 2026/11/30, 2026.11.30, 2026年11月30日
- month and day: 11-30, 11/30, 11.30, 11月30日, 11月30号, 11月30 — the such day nearest to today
  (last, this or next year), so 1月5日 said in December is next January
- day of month: 30日, 30号 — this month, or next month if it has already passed
- 今天, 明天, 后天, 大后天
- weekdays: 周五, 星期五, 礼拜五 (周日 also 周天, 星期天) — the next such day strictly after today,
  so 周五 said on a Friday is a week later; 本周五 / 这周五 is the Friday of this week (Monday to
  Sunday, so possibly already past) and 下周五 / 下个星期五 the Friday of next week.

Spaces are ignored, a trailing 前 / 之前 / 以前 is dropped (承诺 12 11月30日前), and a weekday in
brackets as `format_day` writes it is accepted if it agrees with the date. Text naming no real day
(2月30日, 31号 in a 30-day month, 2月29日 in a year without one) gives None; so does anything else.
Past full dates are returned as given: whether a day in the past is acceptable is the caller's call.

How far ahead a command may reach is bounded (`last_day`): a 承诺 within a year (`COMMITMENT_DAYS`), a 换班
within `SWAP_DAYS`. A promise further off is no promise, and a date such as 9999-12-31 would overflow
the deadline arithmetic of the reminders (the end of the promised day).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

COMMITMENT_DAYS = 365
"""A 承诺 names a day at most this many days after today."""
SWAP_DAYS = 60
"""A 换班 names a day at most this many days after today. The rota is a weekly pattern, so any day could be
swapped, but a 换班 is for the coming weeks: a longer absence belongs in config.yaml's `rota_overrides`,
where the secretary sees it, and every duty lookup reads all the swaps from yesterday on."""

_WEEKDAYS = "一二三四五六日"
_WEEKDAY_INDEX = {name: index for index, name in enumerate(_WEEKDAYS)} | {"天": 6}
_WEEKDAY = r"(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天])"

_RELATIVE = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
_DEADLINE = re.compile(r"(?:之|以)?前$")
_CHECK_WEEKDAY = re.compile(rf"\({_WEEKDAY}\)$")

_FULL_DATE = re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})")
_CHINESE_DATE = re.compile(r"(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]?")
_MONTH_DAY = re.compile(r"(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})")
_DAY = re.compile(r"(?P<day>\d{1,2})[日号]")
_WEEKDAY_DATE = re.compile(rf"(?:(?P<week>下|本|这)个?)?{_WEEKDAY}")


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """The day `text` names, seen from `today`, or None (see the module docstring for the forms)."""
    text = "".join(unicodedata.normalize("NFKC", text).split())
    text = _DEADLINE.sub("", text)
    expected_weekday = None
    if check := _CHECK_WEEKDAY.search(text):
        expected_weekday = _WEEKDAY_INDEX[check["weekday"]]
        text = text[: check.start()]
    try:
        day = _parse(text, today)
    except ValueError:  # a month or day that does not exist
        return None
    if day is None or expected_weekday not in (None, day.weekday()):
        return None
    return day


def _nearest(month: int, day: int, today: dt.date) -> dt.date:
    """The real day with this month and day closest to today: last, this or next year.

    In late December 1月5日 means next January; in late November 11月1日 is a typo for a past day
    (the caller refuses it) rather than a promise for next November.
    """
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError(f"no year has {month}月{day}日")
    return min(candidates, key=lambda candidate: abs((candidate - today).days))


def _parse(text: str, today: dt.date) -> dt.date | None:
    if text in _RELATIVE:
        return today + dt.timedelta(days=_RELATIVE[text])
    if match := _FULL_DATE.fullmatch(text) or _CHINESE_DATE.fullmatch(text) or _MONTH_DAY.fullmatch(text):
        fields = match.groupdict()
        month, day = int(fields["month"]), int(fields["day"])
        if fields.get("year"):
            return dt.date(int(fields["year"]), month, day)
        return _nearest(month, day, today)
    if match := _DAY.fullmatch(text):
        day = int(match["day"])
        year, month = today.year, today.month
        if day < today.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(year, month, day)
    if match := _WEEKDAY_DATE.fullmatch(text):
        weekday = _WEEKDAY_INDEX[match["weekday"]]
        if match["week"] is None:
            return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
        monday = today - dt.timedelta(days=today.weekday())
        return monday + dt.timedelta(days=weekday + (7 if match["week"] == "下" else 0))
    return None


def last_day(today: dt.date, days: int) -> dt.date:
    """The last day a command may name when it may reach `days` days ahead of `today`."""
    return today + dt.timedelta(days=days)


def format_day(day: dt.date, today: dt.date) -> str:
    """`11月30日（周一）`, with the year in front (`2027年1月5日（周二）`) when it is not today's year
    or when the day without it would be read back as another year (more than half a year away)."""
    ambiguous = day.year != today.year or _nearest(day.month, day.day, today) != day
    year = f"{day.year}年" if ambiguous else ""
    return f"{year}{day.month}月{day.day}日（周{_WEEKDAYS[day.weekday()]}）"
