"""The community's configuration (`config.yaml`), validated into typed settings.

Everything a community edits lives here: grids, cadres, the rota, groups and problem
categories. Validation messages are written for the secretary who edits the file, so
they say what is wrong with the value rather than which Python type was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from settings import texts
from settings.limits import CHAT_ID_LENGTH, DEFAULT_COMMUNITY_ID, ID_LENGTH, NAME_LENGTH

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_time(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as the sexagesimal integer 480.
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = _TIME.match(str(value).strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour == 24 and minute == 0:
            return dt.time(0, 0)
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise ValueError(texts.NOT_A_TIME.format(value=value))


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(texts.NOT_A_DATE.format(value=value)) from None


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(texts.UNKNOWN_TIMEZONE.format(value=value)) from None
    return value


def _check_weekday(value: object) -> str:
    day = str(value).strip().lower()[:3]
    if day not in WEEKDAYS:
        raise ValueError(texts.NOT_A_WEEKDAY.format(value=value, days=", ".join(WEEKDAYS)))
    return day


ClockTime = Annotated[dt.time, BeforeValidator(_parse_time)]
CalendarDate = Annotated[dt.date, BeforeValidator(_parse_date)]
Weekday = Annotated[str, BeforeValidator(_check_weekday)]
TimezoneName = Annotated[str, AfterValidator(_check_timezone)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$", min_length=1, max_length=ID_LENGTH)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    CADRE = "cadre"
    GRID_LEADER = "grid_leader"
    SECRETARY = "secretary"


class StreetRole(StrEnum):
    """The role of the 街道's staff (the 街道 file's `staff:`, settings/street.py): they may act on any community's
    ticket. Not a `Role`, so no community file can give it: the staff join each community's cadres from outside."""

    STREET = "street"


class GroupKind(StrEnum):
    RESIDENTS = "residents"
    CADRES = "cadres"
    UNIT = "unit"  # a partner unit's own group (物业维修群): dispatches go there; nothing said there is a report


class UnitKind(StrEnum):
    """What a partner unit (合作单位) is; 社区点单、部门响应."""

    PROPERTY = "property"  # 物业
    WATER = "water"
    POWER = "power"
    GAS = "gas"
    HEATING = "heating"
    CITY_MANAGEMENT = "city_management"  # 城管
    POLICE = "police"
    OTHER = "other"


class Community(_Strict):
    id: Identifier = Field(
        default=DEFAULT_COMMUNITY_ID,
        description="the community's id in a ledger several communities share (a 街道): its board is /c/<id>/",
    )
    name: str = Field(min_length=1)
    timezone: TimezoneName = "Asia/Shanghai"
    bot_name: str = Field(
        default="回音", min_length=1, max_length=NAME_LENGTH, description="the bot's name: `@回音` addresses it"
    )
    bot_accounts: list[Annotated[str, Field(min_length=1, max_length=CHAT_ID_LENGTH)]] = Field(
        default_factory=list,
        description="WeChat ids of the community's bot accounts (one `huiyin run` each, on one PostgreSQL ledger): "
        "their messages are never a resident's, and with another account listed each process sends only for the "
        "chats its own account is in",
    )


class Grid(_Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    buildings: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list, description="named spots such as 东门, 地下车库")


class Cadre(_Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    chat_id: str = Field(min_length=1, max_length=CHAT_ID_LENGTH, description="WeChat contact id the cadre writes from")
    aliases: list[str] = Field(default_factory=list)
    role: Role = Role.CADRE
    grids: list[str] = Field(default_factory=list)


class Shift(_Strict):
    """A weekly shift. `grid` omitted means the community-wide shift. `end` <= `start` crosses midnight."""

    grid: str | None = None
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: ClockTime
    end: ClockTime
    cadre: str


class HolidayShift(_Strict):
    """A shift of the holiday rota: it runs on every public holiday and local day off, when the weekly rota does not.
    `grid` omitted means community-wide; `end` <= `start` crosses midnight."""

    grid: str | None = None
    start: ClockTime
    end: ClockTime
    cadre: str


class Holidays(_Strict):
    """Days off and working days beyond the chinese-calendar package's: local days off, and the public holidays and
    make-up working days (调休) of a year the package does not know yet."""

    # Not `off:` and `on:`/`work:`: YAML reads an unquoted `off` key as false.
    days_off: list[CalendarDate] = Field(default_factory=list, description="no weekly shift: the holiday rota")
    working_days: list[CalendarDate] = Field(default_factory=list, description="worked, e.g. a 调休 Saturday")
    workday_pattern: Weekday = Field(default="mon", description="whose weekly shifts run on a working Saturday/Sunday")

    def years(self) -> set[int]:
        """The years of which config names a day: their days off are taken as written here."""
        return {day.year for day in (*self.days_off, *self.working_days)}


class RotaOverride(_Strict):
    """On `date`, the shifts of `cadre` (that start on that date) go to `replacement`, or to nobody (leave)."""

    date: CalendarDate
    cadre: str
    replacement: str | None = None
    reason: str = ""


class ChatGroup(_Strict):
    name: str = Field(min_length=1, max_length=CHAT_ID_LENGTH)
    id: str | None = Field(
        default=None, max_length=CHAT_ID_LENGTH, description="room id; the name is matched when absent"
    )
    grids: list[str] = Field(default_factory=list)
    kind: GroupKind = GroupKind.RESIDENTS


class Category(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    weights: dict[str, float] = Field(
        default_factory=dict, description="keyword -> weight (default 1.0); a word listed only here is a keyword too"
    )
    first_response_minutes: int = Field(default=60, gt=0)
    resolution_hours: int = Field(default=72, gt=0)
    pause_outside_shift: bool = Field(default=False, description="deadlines run only during the grid's shifts")
    default_unit: str | None = Field(default=None, description="the unit `派单 12` sends this category to (units[].id)")
    auto_dispatch: bool = Field(default=False, description="a resident's report goes to default_unit at once (派单)")


class UnitMember(_Strict):
    """Someone of a partner unit who answers its dispatches (接单 / 进度 / 办结 / 退单) from this WeChat id."""

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    chat_id: str = Field(min_length=1, max_length=CHAT_ID_LENGTH)


class WorkingHours(_Strict):
    """When a partner unit's clock runs: these weekdays from `start` to `end` (`end` <= `start` crosses midnight).
    Not on a public holiday; on a 调休 working Saturday or Sunday as on `holidays.workday_pattern`
    (ledger/workdays.py)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: ClockTime
    end: ClockTime


class Unit(_Strict):
    """A partner unit (合作单位) the community dispatches tickets to (派单): the property company, water, power, gas,
    heating, 城管, police. The cadre who dispatched stays responsible (督办); the unit's members act on the tickets
    dispatched to it. Its limits count from the dispatch; absent, the category's apply. With `working_hours` they
    count only working time (absent: round the clock)."""

    id: Identifier
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    short: str | None = Field(default=None, max_length=NAME_LENGTH, description="what cadres type: 派单 12 物业")
    kind: UnitKind = UnitKind.OTHER
    group: str | None = Field(default=None, max_length=CHAT_ID_LENGTH, description="its group (in groups:, kind: unit)")
    members: list[UnitMember] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, description="the categories it handles")
    first_response_minutes: int | None = Field(default=None, gt=0, description="from the dispatch; else the category's")
    resolution_hours: int | None = Field(default=None, gt=0, description="from the dispatch; else the category's")
    working_hours: WorkingHours | None = Field(default=None, description="its limits count only then; else always")

    @property
    def names(self) -> tuple[str, ...]:
        """What names it in a command: its short name, its name and its id."""
        return tuple(n for n in (self.short, self.name, self.id) if n)


class Tickets(_Strict):
    merge_window_hours: int = Field(default=72, gt=0, description="a report of the same problem within this joins")
    follow_up_days: int = Field(
        default=7, gt=0, description="a reporter's words (还是堵的, 谢谢) answer a ticket resolved this many days ago"
    )


def _check_cron(value: str) -> str:
    try:
        CronTrigger.from_crontab(value)
    except ValueError as error:
        raise ValueError(texts.NOT_A_CRON_LINE.format(value=value, error=error)) from None
    return value


class Schedule(_Strict):
    """When the jobs run and how far ahead they chase. Fractions are of a time limit (first response,
    resolution or commitment): the assignee is reminded at `reminder_fraction`, the grid leader is told at
    the deadline (1.0) and the secretary at `secretary_fraction`."""

    reminder_fraction: float = Field(default=0.75, gt=0, lt=1)
    secretary_fraction: float = Field(default=2.0, gt=1)
    check_minutes: int = Field(default=1, gt=0, description="how often deadlines and follow-ups are checked")
    follow_up_hours: int = Field(default=24, gt=0, description="回访: ask the reporters to rate after 办结")
    auto_close_days: int = Field(default=3, gt=0, description="close an unrated resolved ticket (not rated)")
    daily_report: ClockTime = dt.time(18, 0)
    digest_cron: Annotated[str, AfterValidator(_check_cron)] = "0 9 * * mon"
    handover_grace_minutes: int = Field(default=60, gt=0, description="a handover later than this is skipped")
    agenda_households: int = Field(default=3, gt=1, description="reporters that make a ticket an agenda candidate")
    agenda_repeats: int = Field(default=3, gt=1, description="tickets of one category and place that recur")
    agenda_window_days: int = Field(default=30, gt=0)
    digest_top: int = Field(default=3, gt=0, description="categories, places and open tickets listed")


class Nlp(_Strict):
    """How messages are read: an optional trained keyword model and the thresholds the core loop uses."""

    model: str | None = Field(default=None, description="keyword model written by `huiyin train` (path)")
    min_confidence: float = Field(default=0.45, ge=0.0, le=1.0, description="below this a report goes to 其他")
    duplicate_threshold: float = Field(default=0.6, ge=0.0, le=1.0, description="similarity that joins a ticket")


class FaqEntry(_Strict):
    """One service of the 一站式 directory: an inquiry naming one of `keywords` and asking one of `asks`
    (default: how to apply, where, what to bring, …; see nlp/faq.py) gets `answer` at once."""

    id: Identifier
    keywords: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    asks: list[str] = Field(default_factory=list, description="question cues this entry answers (empty: the default)")


class Board(_Strict):
    """The progress wall (`huiyin board`): where it listens, the address cadres' links point to, how long they last."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    url: str = Field(default="http://127.0.0.1:8000", description="the wall's address as cadres' phones reach it")
    link_hours: int = Field(default=24, gt=0, description="how long a cadre's 看板 link stays valid")


class TransportName(StrEnum):
    CONSOLE = "console"
    WECHATY = "wechaty"


class Outbound(_Strict):
    """How fast the bot may speak in WeChat: accounts that send fast get restricted ("操作过于频繁")."""

    group_interval_seconds: float = Field(default=3.0, gt=0, description="at most one message per group this often")
    per_minute: int = Field(default=20, gt=0, description="messages per minute over all chats")
    daily_cap: int = Field(default=500, gt=0, description="messages per local day; the rest wait in the outbox")
    merge_max: int = Field(default=10, ge=1, description="queued replies to one chat merged into one message")
    max_attempts: int = Field(default=8, ge=1, description="tries of one reply (back-off doubling) before it fails")
    poll_seconds: float = Field(default=2.0, gt=0, description="look for replies queued by other processes this often")


class Connection(_Strict):
    """Health of the puppet-service connection: probes, reconnect backoff, the secretary's outage alert."""

    probe_interval_seconds: float = Field(default=15.0, gt=0)
    silence_seconds: float = Field(default=60.0, gt=0, description="no event this long: probe with ding")
    ding_timeout_seconds: float = Field(default=10.0, gt=0)
    backoff_initial_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    outage_alert_minutes: float = Field(default=5.0, ge=0, description="alert the secretary after a longer outage")


class Inbound(_Strict):
    duplicate_window_seconds: int = Field(
        default=30, ge=0, description="same sender, chat and text again within this is a duplicate delivery"
    )


# A phone number as the secretary writes it; YAML reads an unquoted `119` as a number, so numbers are taken as text.
PHONE_PROBLEM = (
    "{value!r} 不是电话号码（只写数字，可带 - 和空格，如 '96333'、'0731-8888 3000'；以 0 开头的号码请加引号）"
)
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{1,30}[0-9]$")


def _parse_phone(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _PHONE.match(value.strip()):
        return value.strip()
    raise ValueError(PHONE_PROBLEM.format(value=value))


Phone = Annotated[str, BeforeValidator(_parse_phone)]


class Contact(_Strict):
    """A company residents are told to call in an emergency: its name and (optionally) its emergency line."""

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    phone: Phone | None = None


class Emergency(_Strict):
    """Urgent tickets (danger to people now): their first-response limit and the numbers residents are told to
    call, per hazard (handlers/emergency.py). The cadre on duty, the grid leader and the secretary are told at once."""

    first_response_minutes: int = Field(default=10, gt=0, description="an urgent ticket's first-response limit")
    fire: Phone = Field(default="119", description="fire and rescue (火灾, 被困)")
    police: Phone = Field(default="110", description="crime, violence, a missing person")
    ambulance: Phone = Field(default="120", description="injury and sudden illness")
    lift_platform: Phone = Field(default="96333", description="电梯应急处置服务平台")
    gas_company: Contact = Field(default_factory=lambda: Contact(name="燃气公司"), description="gas leak line")
    power_company: Contact = Field(
        default_factory=lambda: Contact(name="供电公司", phone="95598"), description="fallen or live wires"
    )
    lift_company: Contact | None = Field(default=None, description="the lifts' maintenance company (维保单位)")


class Settings(_Strict):
    community: Community
    grids: list[Grid] = Field(min_length=1)
    cadres: list[Cadre] = Field(min_length=1)
    rota: list[Shift] = Field(default_factory=list)
    rota_overrides: list[RotaOverride] = Field(default_factory=list)
    holidays: Holidays = Field(default_factory=Holidays)
    holiday_rota: list[HolidayShift] = Field(default_factory=list)
    groups: list[ChatGroup] = Field(default_factory=list)
    categories: list[Category] = Field(min_length=1)
    units: list[Unit] = Field(default_factory=list)
    tickets: Tickets = Field(default_factory=Tickets)
    transport: TransportName = TransportName.CONSOLE
    outbound: Outbound = Field(default_factory=Outbound)
    connection: Connection = Field(default_factory=Connection)
    inbound: Inbound = Field(default_factory=Inbound)
    board: Board = Field(default_factory=Board)
    nlp: Nlp = Field(default_factory=Nlp)
    faq: list[FaqEntry] = Field(default_factory=list)
    schedule: Schedule = Field(default_factory=Schedule)
    emergency: Emergency = Field(default_factory=Emergency)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.community.timezone)

    def cadre(self, cadre_id: str) -> Cadre | None:
        return next((c for c in self.cadres if c.id == cadre_id), None)

    def cadre_by_chat_id(self, chat_id: str) -> Cadre | None:
        return next((c for c in self.cadres if c.chat_id == chat_id), None)

    def cadre_by_name(self, name: str) -> Cadre | None:
        name = name.strip().lstrip("@")
        return next((c for c in self.cadres if name == c.name or name in c.aliases or name == c.id), None)

    def grid(self, grid_id: str | None) -> Grid | None:
        return next((g for g in self.grids if g.id == grid_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def category_by_name(self, name: str) -> Category | None:
        return next((c for c in self.categories if name in (c.id, c.name)), None)

    def group(self, chat_id: str, chat_name: str = "") -> ChatGroup | None:
        by_id = next((g for g in self.groups if g.id and g.id == chat_id), None)
        return by_id or next((g for g in self.groups if g.name in (chat_name, chat_id)), None)

    def unit(self, unit_id: str | None) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def unit_by_name(self, name: str) -> Unit | None:
        """The unit `name` names: its short name, name or id."""
        name = name.strip().lstrip("@")
        return next((u for u in self.units if name in u.names), None)

    def unit_member(self, chat_id: str) -> tuple[Unit, UnitMember] | None:
        """The unit whose member writes from `chat_id`, and that member."""
        return next(((u, m) for u in self.units for m in u.members if m.chat_id == chat_id), None)

    def unit_member_by_name(self, name: str) -> UnitMember | None:
        return next((m for u in self.units for m in u.members if m.name == name), None)

    def cadres_group(self) -> ChatGroup | None:
        return next((g for g in self.groups if g.kind is GroupKind.CADRES), None)

    @property
    def fallback_category(self) -> Category:
        return self.category("other") or self.categories[-1]
