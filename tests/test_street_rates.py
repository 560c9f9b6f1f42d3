"""The 街道 overview's three rates per community (`rates_by_community`, SQL over every community) agree with the
definitions of `ledger.rates` applied to each community's own tickets. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Engine

from board.stats import FactFigures, total, week_of
from ledger.rates import Period
from settings.models import Settings
from storage.board_queries import rates_by_community
from storage.db import new_session
from storage.tickets import ticket_facts
from tests.board_ledger import GENERATED_NOW, seed_generated

COMMUNITIES = ("main", "minzhu", "xingfuli")


def test_each_communitys_rates_counted_in_sql_agree_with_the_definitions(settings: Settings, engine: Engine) -> None:
    seed_generated(settings, engine, 1500, days=60)
    with engine.begin() as connection:  # spread the generated ledger over three communities, events and all
        for index, community in enumerate(COMMUNITIES[1:], start=1):
            for table, key in (("ticket", "id"), ("ticket_event", "ticket_id"), ("ticket_reporter", "ticket_id")):
                connection.execute(
                    text(f"UPDATE {table} SET community_id = :c WHERE {key} % 3 = :i"), {"c": community, "i": index}
                )
    weeks = [week_of((GENERATED_NOW - dt.timedelta(weeks=back)).date(), settings.tz) for back in range(8)]
    weeks.append(Period(GENERATED_NOW - dt.timedelta(days=400), GENERATED_NOW))
    with new_session(engine) as session:
        by_community = {(p, now): rates_by_community(session, p, now) for p in weeks for now in (None, GENERATED_NOW)}
    for community in COMMUNITIES:
        with new_session(engine, community) as session:
            facts = FactFigures(ticket_facts(session))
        for (period, now), counted in by_community.items():
            expected = total(list(facts.rates(period, now).values()))
            assert counted.get(community, total([])) == expected, (community, period, now)
    assert all(by_community[(weeks[-1], GENERATED_NOW)][c].received > 300 for c in COMMUNITIES)
    assert all(by_community[(weeks[-1], GENERATED_NOW)][c].rated > 0 for c in COMMUNITIES)
