"""Small helpers the jobs share: names, places and the cadres' group as a reply target."""

from __future__ import annotations

from ledger.messages import Outgoing
from ledger.views import TicketView
from ledger.wording import mention_prefix
from settings.models import Cadre, Settings


def cadre_name(settings: Settings, cadre_id: str | None) -> str:
    cadre = settings.cadre(cadre_id) if cadre_id else None
    return cadre.name if cadre else "待分派"


def to_cadres(settings: Settings, text: str, mention: list[Cadre], ticket_id: int | None = None) -> list[Outgoing]:
    """A message in the cadres' group mentioning `mention`; privately to each of them when there is no such group."""
    group = settings.cadres_group()
    if group is None:
        return [Outgoing(c.chat_id, text, c.name, is_private=True, ticket_id=ticket_id) for c in mention]
    ids = tuple(dict.fromkeys(c.chat_id for c in mention))
    prefix = mention_prefix(c.name for c in mention)
    return [Outgoing(group.id or group.name, prefix + text, group.name, ids, ticket_id=ticket_id)]


def private(cadre: Cadre, text: str, ticket_id: int | None = None) -> Outgoing:
    return Outgoing(cadre.chat_id, text, cadre.name, is_private=True, ticket_id=ticket_id)


def to_reporters(view: TicketView, text: str) -> Outgoing:
    """A message in the ticket's own chat, mentioning its reporters."""
    if view.chat_is_private:
        return Outgoing(view.chat_id, text, view.chat_name, is_private=True, ticket_id=view.number)
    names = [name for _, name in view.reporters]
    ids = tuple(member for member, _ in view.reporters)
    return Outgoing(view.chat_id, mention_prefix(names) + text, view.chat_name, ids, ticket_id=view.number)
