"""Urgent tickets: what the residents are told to do first, who is alerted, and how soon someone must answer.

An urgent report (`Classification.urgent`: danger to people right now) gets

- advice that fits the hazard, read from the message with `nlp.danger` (fire → 119; gas → the gas company and
  `不要开关电器，开窗通风，到户外打电话`; a person trapped in a lift → 96333 and the lift company; injury or
  illness → 120; crime → 110; …), with the numbers from config (`emergency:`), one wording per hazard
  (handlers/texts.py `EMERGENCY_ADVICE`); a hazard that cannot be told gets the generic 110/119/120 line;
- its own first-response limit (`emergency.first_response_minutes`, 10 minutes by default), never paused;
- private alerts to the cadre on duty, the grid's leaders and the secretaries at once (each once), and one to the
  cadres' group. Reopening an urgent ticket alerts them all again (`reopen_alerts`).

Pure functions over `Settings`: the caller (handlers/reports.py, handlers/resident.py) stores the ticket and sends.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import NamedTuple

from handlers import texts
from ledger.deadlines import describe_minutes
from ledger.messages import Outgoing
from ledger.rota import Duty, escalation_chain
from nlp import danger
from nlp.weighted import message_core
from settings.models import Cadre, Contact, Role, Settings


class Hazard(StrEnum):
    """What kind of danger an urgent message reports: it decides the advice (`texts.EMERGENCY_ADVICE`)."""

    FIRE = "fire"
    GAS = "gas"
    LIVE_WIRE = "live_wire"
    LIFT = "lift"  # a lift accident, above all someone trapped in one: 96333 and the lift company
    TRAPPED = "trapped"  # trapped anywhere else: 119
    WATER = "water"
    LEDGE = "ledge"  # someone about to jump, a child climbing out of a window
    CRIME = "crime"
    COLLAPSE = "collapse"
    FALLING = "falling"
    ANIMAL = "animal"
    INJURY = "injury"  # a fall, fainting, bleeding, sudden illness: 120
    MISSING = "missing"
    MANHOLE = "manhole"
    UNKNOWN = "unknown"


# A lift, however residents write it: 𨋢 is the Cantonese word, 扶梯 an escalator (the 96333 platform covers both).
_LIFT = re.compile(r"电梯|电悌|轿厢|升降机|扶梯|直梯|𨋢|\blift|elevator|escalator")
# Jumping or climbing out over a height (`nlp.danger` files these under violence).
_LEDGE = re.compile(r"跳|轻生|爬")
# A fire match that is only sparks or a (threatened) explosion: beside a live wire or a gas leak, that hazard leads.
_ONLY_SPARKS = re.compile(r"^[^火烟烧焦糊着]*(?:火花|火星|冒火|打火)[^烟烧焦糊着]*$")
_ONLY_EXPLOSION = re.compile(r"^[^火烟烧焦糊着]*(?:爆|炸)[^火烟烧焦糊着]*$")
# A call for help that names the ambulance.
_AMBULANCE = re.compile(r"120|救护车|急救")
# Illness and injury `nlp.danger` has no concept for (it finds falls, fainting and bleeding).
_ILLNESS = re.compile(
    r"受伤|伤(?:得|了|到)|心脏病|心梗|心绞痛|脑梗|中风|犯病|发病|病危|急病|噎住|卡住喉咙|哮喘|喘不过气|胸口疼|胸痛"
    r"|高烧|抽风|烫伤|烧伤|割伤|中毒|吃错药|过敏|跌低|晕低|起不来|爬不起来|起唔到身|不能动|动不了"
)
# Crime `nlp.danger` has no concept for; read only when the message names no other danger.
_CRIME = re.compile(
    r"抢劫|抢包|打劫|行凶|砍人|追砍|(?:拿|持|举)着?(?:刀|棍|凶器)|凶器|绑架|劫持|猥亵|非礼|入室|小偷|贼|报警"
)
# Which hazard a live `nlp.danger` concept points to (trapped and violence are refined in `hazards_of`).
_BY_CONCEPT = {
    "fire": Hazard.FIRE,
    "gas": Hazard.GAS,
    "live_wire": Hazard.LIVE_WIRE,
    "trapped": Hazard.TRAPPED,
    "water": Hazard.WATER,
    "violence": Hazard.CRIME,
    "collapse": Hazard.COLLAPSE,
    "falling": Hazard.FALLING,
    "bitten": Hazard.ANIMAL,
    "fallen": Hazard.INJURY,
    "missing": Hazard.MISSING,
    "manhole": Hazard.MANHOLE,
}
# When a message names several dangers, the first of these leads (the others' people are still alerted: the advice
# names what to do first). Most acute and most specific first.
PRIORITY = (
    Hazard.FIRE, Hazard.GAS, Hazard.LIVE_WIRE, Hazard.LIFT, Hazard.TRAPPED, Hazard.WATER, Hazard.LEDGE, Hazard.CRIME,
    Hazard.COLLAPSE, Hazard.FALLING, Hazard.ANIMAL, Hazard.INJURY, Hazard.MISSING, Hazard.MANHOLE,
)  # fmt: skip
# Hazards whose advice already names the ambulance: no extra `有人受伤请拨打 120`.
_NAMES_AMBULANCE = frozenset({Hazard.INJURY, Hazard.WATER, Hazard.ANIMAL, Hazard.LIVE_WIRE, Hazard.FALLING})


class UrgentMessages(NamedTuple):
    """What an urgent report gets: the public reply's text (the caller mentions the reporter and the cadre on duty),
    the private alerts and the cadres' group's (`Outgoing`s), and the hazard read."""

    reply: str
    alerts: list[Outgoing]
    hazard: Hazard


def hazards_of(text: str) -> tuple[Hazard, ...]:
    """Every hazard a message reports, the leading one first (`PRIORITY`); `(Hazard.UNKNOWN,)` when none is told."""
    core = message_core(text)
    lift = _LIFT.search(core) is not None
    found: set[Hazard] = set()
    live = danger.read(core).live
    for item in live:
        if item.concept == "call_for_help":
            if _AMBULANCE.search(item.match):
                found.add(Hazard.INJURY)
            continue
        hazard = _BY_CONCEPT.get(item.concept)
        if hazard is Hazard.TRAPPED and lift:
            hazard = Hazard.LIFT
        elif hazard is Hazard.CRIME and _LEDGE.search(item.match):
            hazard = Hazard.LEDGE
        if hazard is not None:
            found.add(hazard)
    fire = next((item.match for item in live if item.concept == "fire"), None)
    if fire is not None and _only_a_side_effect(fire, found):
        found.discard(Hazard.FIRE)
    if _ILLNESS.search(core):
        found.add(Hazard.INJURY)
    if not found and lift:
        found.add(Hazard.LIFT)  # an urgent message about a lift (`电梯卡住了 我妈在里面`, `困𨋢`): a lift accident
    elif not found and _CRIME.search(core):
        found.add(Hazard.CRIME)
    ordered = tuple(hazard for hazard in PRIORITY if hazard in found)
    return ordered or (Hazard.UNKNOWN,)


def _only_a_side_effect(fire: str, found: set[Hazard]) -> bool:
    """Sparks beside a live wire, or an explosion a gas leak threatens: that hazard's advice fits, not the fire's."""
    if Hazard.LIVE_WIRE in found and _ONLY_SPARKS.match(fire):
        return True
    return Hazard.GAS in found and _ONLY_EXPLOSION.match(fire) is not None


def hazard_of(text: str) -> Hazard:
    """The leading hazard of an urgent message (raw or normalised text)."""
    return hazards_of(text)[0]


def contact_text(contact: Contact) -> str:
    """`燃气公司 96777`, or the name alone when config gives no phone."""
    if contact.phone:
        return texts.EMERGENCY_CONTACT.format(name=contact.name, phone=contact.phone)
    return contact.name


def advice(settings: Settings, hazard: Hazard, *, injured: bool = False) -> str:
    """What the residents are told to do first, with the numbers from config; `injured` (someone is hurt too)
    adds the ambulance where the hazard's own line does not name it."""
    numbers = settings.emergency
    lift_company = numbers.lift_company
    line = texts.EMERGENCY_ADVICE[hazard.value].format(
        fire=numbers.fire, police=numbers.police, ambulance=numbers.ambulance, lift_platform=numbers.lift_platform,
        gas=contact_text(numbers.gas_company), power=contact_text(numbers.power_company),
        lift_company=texts.EMERGENCY_LIFT_COMPANY.format(contact=contact_text(lift_company)) if lift_company else "",
    )  # fmt: skip
    if injured and hazard not in _NAMES_AMBULANCE and hazard is not Hazard.UNKNOWN:
        line += texts.EMERGENCY_INJURED.format(ambulance=numbers.ambulance)
    return line


def advice_for(settings: Settings, text: str) -> tuple[Hazard, str]:
    """The leading hazard of a message and the advice for it (the ambulance added when someone is hurt too)."""
    hazards = hazards_of(text)
    return hazards[0], advice(settings, hazards[0], injured=Hazard.INJURY in hazards[1:])


def response_due(settings: Settings, now: dt.datetime) -> dt.datetime:
    """When an urgent ticket opened (or reopened) at `now` must have its first answer: never paused off shift."""
    return now + dt.timedelta(minutes=settings.emergency.first_response_minutes)


def within(settings: Settings) -> str:
    """The urgent first-response limit in words: `10分钟`."""
    return describe_minutes(settings.emergency.first_response_minutes)


def recipients(settings: Settings, first: Cadre | None, grid_id: str | None) -> list[Cadre]:
    """Who is alerted privately, each once: `first` (the cadre on duty, or the assignee), the grid's leaders
    (none when the grid is unknown), then the secretaries."""
    chain: dict[str, Cadre] = {first.id: first} if first is not None else {}
    for cadre in escalation_chain(settings, grid_id):
        chain.setdefault(cadre.id, cadre)
    return list(chain.values())


def _to_cadres_group(settings: Settings, text: str, ticket_id: int) -> list[Outgoing]:
    group = settings.cadres_group()
    if group is None:
        return []
    return [Outgoing(group.id or group.name, text, group.name, ticket_id=ticket_id)]


def _private(cadres: list[Cadre], text: str, ticket_id: int) -> list[Outgoing]:
    return [Outgoing(cadre.chat_id, text, cadre.name, is_private=True, ticket_id=ticket_id) for cadre in cadres]


def _titled(cadre: Cadre) -> str:
    """`网格长 赵敏`, `书记 陈洁`, or the name alone for a cadre."""
    label = {Role.GRID_LEADER: texts.DUTY_LABELS["grid_leader"], Role.SECRETARY: texts.DUTY_LABELS["secretary"]}
    return label.get(cadre.role, "") + cadre.name


def urgent_messages(
    settings: Settings,
    *,
    ticket_id: int,
    text: str,
    reporter: str,
    duty: Duty,
    grid_id: str | None,
    fields: Mapping[str, object],
) -> UrgentMessages:
    """The reply and the alerts for an urgent ticket just opened.

    `fields` are the ticket's template fields (`number`, `category`, `place` as handlers/reports.py builds them);
    `text` is the resident's message, `reporter` their name, `duty` who answers for the grid now.
    """
    hazard, told_to_do = advice_for(settings, text)
    cadres = recipients(settings, duty.cadre, grid_id)
    others = [_titled(cadre) for cadre in cadres[1:]]
    told = "、".join([texts.DUTY_LABELS[duty.source.value] + duty.cadre.name, *others])
    values = {**fields, "number": ticket_id, "advice": told_to_do, "within": within(settings)}
    reply = texts.EMERGENCY_OPENED.format(**values, told=told)
    alert = texts.EMERGENCY_ALERT.format(
        **values, hazard=texts.EMERGENCY_HAZARDS[hazard.value], reporter=reporter, text=text
    )
    alerts = _private(cadres, alert, ticket_id) + _to_cadres_group(settings, alert, ticket_id)
    return UrgentMessages(reply, alerts, hazard)


def reopen_alerts(
    settings: Settings,
    *,
    ticket_id: int,
    category: str,
    place: str,
    assignee_id: str | None,
    grid_id: str | None,
    text: str = "",
    note: str = "",
) -> list[Outgoing]:
    """The alerts when a resident reopens an urgent ticket: at once to its assignee, the grid's leaders and the
    secretaries (each once) and the cadres' group. `category` is the category's name, `place` the place text
    (`texts.place_text`), `text` the ticket's description (for the hazard), `note` what the resident said."""
    assignee = settings.cadre(assignee_id) if assignee_id else None
    hazard = hazard_of(text) if text else Hazard.UNKNOWN
    alert = texts.EMERGENCY_REOPENED_ALERT.format(
        number=ticket_id, category=category, place=place, hazard=texts.EMERGENCY_HAZARDS[hazard.value],
        within=within(settings),
    )  # fmt: skip
    if note:
        alert += texts.EMERGENCY_REOPENED_NOTE.format(note=note)
    return _private(recipients(settings, assignee, grid_id), alert, ticket_id) + _to_cadres_group(
        settings, alert, ticket_id
    )
