"""Due times from a category's service levels."""

from __future__ import annotations

import datetime as dt

from settings.models import Category


def response_due(category: Category, since: dt.datetime) -> dt.datetime:
    return since + dt.timedelta(minutes=category.first_response_minutes)


def resolution_due(category: Category, since: dt.datetime) -> dt.datetime:
    return since + dt.timedelta(hours=category.resolution_hours)


def describe_minutes(minutes: int) -> str:
    """`60` → `1小时`, `90` → `1小时30分钟`, `30` → `30分钟`, `2880` → `2天`."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins else ""]
    return "".join(parts) or "0分钟"
