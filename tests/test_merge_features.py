"""What merging compares is stored with each ticket (`Ticket.merge_features`) and read from there: duplicate
detection and follow-ups never segment a stored ticket's text again; a ticket stored without (an older ledger)
is read from its text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from ledger.lifecycle import Action
from nlp import similarity
from nlp.classification import normalise_message
from nlp.similarity import FEATURES_VERSION, facts, merge_features
from storage.db import make_engine, new_session
from storage.models import Ticket
from storage.schema import init_schema
from storage.tickets import (
    Actor,
    active_reporters,
    all_tickets,
    apply_action,
    merge_candidates,
    open_candidates,
    open_ticket,
    resolved_candidates,
)
from tests.chat import Chat

DRAIN = "3号楼2单元下水道堵了，一楼返水"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def stored(chat: Chat, number: int) -> Ticket:
    with chat.session() as session:
        found = session.get(Ticket, number)
        assert found is not None
        return found


def never_segment(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Make segmenting `text` (as `nlp.similarity.content_words` does) fail; other texts segment as usual."""
    real = similarity.tokens
    forbidden = normalise_message(text).casefold()

    def tokens(given: str) -> list[str]:
        assert given != forbidden, f"segmented a stored ticket's text again: {text}"
        return real(given)

    monkeypatch.setattr(similarity, "tokens", tokens)


def test_an_opened_ticket_stores_its_words_and_problems(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    ticket = stored(chat, 1)
    assert ticket.merge_features == merge_features(facts(DRAIN, ticket.category, ticket.location))
    features = json.loads(ticket.merge_features)
    assert features["v"] == FEATURES_VERSION
    assert "drain" in features["problems"] and "下水道" in features["words"]


def test_a_report_joins_a_ticket_compared_by_its_stored_features(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    chat.say("张阿姨", DRAIN)
    never_segment(monkeypatch, DRAIN)
    [joined] = chat.say("李叔", "3号楼2单元下水道又堵了，臭死了")
    assert joined.text.startswith("@李叔 已有 2 位居民反映，#1")


def test_a_follow_up_is_matched_by_the_stored_features(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    chat.say("张阿姨", DRAIN)
    never_segment(monkeypatch, DRAIN)
    [reply] = chat.say("孙大爷", "三号楼那个下水道到底有没有人来弄啊")
    assert "已有 2 位居民反映，#1" in reply.text


def test_a_ticket_stored_without_features_is_read_from_its_text(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    with chat.session() as session:  # as a ledger written before the features were stored
        session.exec(update(Ticket).values(merge_features=None))
        session.commit()
    [joined] = chat.say("李叔", "3号楼2单元下水道又堵了，臭死了")
    assert joined.text.startswith("@李叔 已有 2 位居民反映，#1")
    with chat.session() as session:
        assert [r.member_name for r in active_reporters(session, 1)] == ["张阿姨", "李叔"]


def test_features_of_another_version_are_read_again_from_the_text() -> None:
    old = json.dumps({"v": FEATURES_VERSION - 1, "words": ["别的"], "problems": []})
    assert similarity.stored_facts(old, DRAIN, "drainage", None) == facts(DRAIN, "drainage", None)


def test_a_new_description_rewrites_the_features(engine: Engine) -> None:
    init_schema(engine)
    with new_session(engine) as session:
        ticket = open_ticket(
            session, now=NOW, reporter=Actor("r1", "张阿姨"),
            fields={"category": "drainage", "description": DRAIN, "chat_id": "g1"},
        )  # fmt: skip
        apply_action(
            session, ticket, Action.RECATEGORISE, actor=Actor("wangfang", "王芳"), now=NOW,
            changes={"description": "5号楼电梯坏了"},
        )  # fmt: skip
        session.commit()
    with new_session(engine) as session:
        [saved] = all_tickets(session)
        assert saved.merge_features == merge_features(facts("5号楼电梯坏了", "drainage", None))


def test_candidates_of_another_category_are_read_only_at_the_same_place(engine: Engine) -> None:
    init_schema(engine)
    places = [("drainage", "3号楼"), ("facilities", "3号楼2单元"), ("facilities", "4号楼"), ("drainage", None)]
    with new_session(engine) as session:
        for category, place in places:
            fields = {"category": category, "description": "坏了", "location": place, "grid_id": "g1", "chat_id": "g"}
            open_ticket(session, now=NOW, reporter=Actor("r", "居民"), fields=fields)
        session.commit()
    with new_session(engine) as session:
        since = NOW - dt.timedelta(hours=1)
        found = merge_candidates(
            session, since=since, grid_id="g1", near="3号楼2单元", category="drainage", place="3号楼2单元"
        )
        newest_first = [("drainage", None), ("facilities", "3号楼2单元"), ("drainage", "3号楼")]
        assert [(c.category, c.location) for c in found] == newest_first
        assert all(c.features == merge_features(facts("坏了", "", None)) for c in found)
        assert len(merge_candidates(session, since=since, grid_id="g1", near=None)) == 4


PLACES = (
    None, "", "3号楼", "3号楼2单元", "3号楼2单元302", "13号楼", "3号", "3号楼2", "5号楼", "东门", "东门岗亭", "%楼",
    "3_楼",
)  # fmt: skip


def test_the_candidates_places_are_those_that_agree_as_similarity_has_it(engine: Engine) -> None:
    """The database's choice of places (`near`) and `nlp.similarity.place_agreement` agree on every pair; an empty
    place is no place, as there."""
    init_schema(engine)
    with new_session(engine) as session:
        for number, place in enumerate(PLACES):
            fields = {"category": "drainage", "description": f"坏了{number}", "location": place, "chat_id": "g"}
            open_ticket(session, now=NOW, reporter=Actor("r", "居民"), fields=fields)
        session.commit()
    since = NOW - dt.timedelta(hours=1)
    with new_session(engine) as session:
        for near in PLACES:
            expected = {place for place in PLACES if similarity.place_agreement(near, place) is not None}
            for read in (merge_candidates, open_candidates):
                found = read(session, since=since, grid_id="g1", near=near)
                assert {c.location for c in found} == expected, (read.__name__, near)
        for read in (merge_candidates, open_candidates):  # a message of no known grid: tickets without a place
            assert {c.location for c in read(session, since=since, grid_id=None, near=None)} == {None, ""}


def test_a_reports_candidates_are_its_categorys_nearby_and_others_at_its_place(engine: Engine) -> None:
    """With a category and a place, the two halves of the candidates' union (the category's tickets whose place
    agrees, and other categories' at exactly the place) give what the pure rules say, newest first, of the
    session's community only."""
    init_schema(engine, "c1")
    for community in ("c2", "c1"):
        with new_session(engine, community) as session:
            for number, place in enumerate(PLACES * 2):
                category = "drainage" if number < len(PLACES) else "facilities"
                fields = {"category": category, "description": f"坏了{number}", "location": place, "chat_id": "g"}
                open_ticket(session, now=NOW, reporter=Actor("r", "居民"), fields=fields)
            session.commit()
    since = NOW - dt.timedelta(hours=1)
    with new_session(engine, "c1") as session:
        mine = {t.id: (t.category, t.location) for t in all_tickets(session)}
        for near in PLACES:
            if not near:
                continue
            found = merge_candidates(session, since=since, grid_id="g1", near=near, category="drainage", place=near)
            expected = [
                number for number, (category, place) in sorted(mine.items(), reverse=True)
                if (category == "drainage" and similarity.place_agreement(near, place) is not None) or place == near
            ]  # fmt: skip
            assert [c.id for c in found] == expected, near


@pytest.mark.parametrize(
    ("text", "category", "location"),
    [("下水道堵了", "drainage", "3号楼"), ("电梯坏了", "facilities", "3号楼2单元"), ("灯不亮", "power", None)],
)
def test_no_ticket_scores_above_its_best_possible(text: str, category: str, location: str | None) -> None:
    new = facts("3号楼2单元下水道又堵了", "drainage", "3号楼2单元")
    assert similarity.similarity(new, facts(text, category, location)) <= similarity.best_possible(
        new, category, location
    )


def test_the_report_flow_joins_across_categories_only_where_the_threshold_allows() -> None:
    assert not similarity.other_category_may_match(similarity.NESTED_PLACE, 0.6)
    assert similarity.other_category_may_match(1.0, 0.6)
    assert similarity.other_category_may_match(0.0, 0.4)


SAYINGS = (
    "3号楼2单元下水道堵了，一楼返水", "下水道又冒上来了", "电梯坏了，困人了！", "5号楼电梯又停了", "楼道灯不亮",
    "楼道里堆满纸箱杂物", "车棚有人拉电线充电", "半夜广场舞太吵了睡不着", "暖气不热", "垃圾没人清运，臭死了",
    "WiFi 连不上", "快递柜坏了", "门口快递柜的屏幕坏了", "好的", "",
)  # fmt: skip


def test_a_term_shared_with_stored_features_is_one_of_its_needles() -> None:
    """Whatever two texts share (a word or a problem, so a problem agreement above 0) is a needle of the one found
    in the other's stored features; texts that share nothing find none."""
    for said in SAYINGS:
        new = facts(said, "drainage", None)
        found = similarity.needles(new)
        assert found is not None
        for other in SAYINGS:
            stored_features = merge_features(facts(other, "drainage", None))
            assert stored_features.startswith(similarity.FEATURES_PREFIX)
            contains = any(needle in stored_features for needle in found)
            assert contains == (similarity.problem_agreement(new, facts(other, "drainage", None)) > 0), (said, other)


def test_terms_that_json_and_sql_patterns_escape_are_found() -> None:
    odd = similarity.ReportFacts(frozenset({'a"b', "c\\d", "100%", "x_y", "换行\n"}), "drainage", None)
    stored_features = merge_features(odd)
    found = similarity.needles(odd)
    assert found is not None and len(found) == 5
    assert all(needle in stored_features for needle in found)
    assert not any(needle in merge_features(facts("下水道堵了", "drainage", None)) for needle in found)


def test_a_report_of_too_many_terms_looks_for_none_and_one_of_none_for_no_ticket() -> None:
    many = similarity.ReportFacts(frozenset(f"词{n}" for n in range(similarity.MAX_NEEDLES + 1)), "drainage", None)
    assert similarity.needles(many) is None
    assert similarity.needles(similarity.ReportFacts(frozenset(), "drainage", None)) == ()


def test_the_database_returns_exactly_the_candidates_that_may_share_a_term(engine: Engine) -> None:
    """`sharing` (a follow-up's candidates) keeps back only tickets whose current features share no word and no
    problem with the message (which could not be what it is about); a ticket with no features or another version's
    is returned, to be read from its text. Also for terms the database's patterns would treat specially, and when
    the message has too many. Open tickets and resolved ones alike."""
    init_schema(engine)
    odd = similarity.ReportFacts(frozenset({'a"b', "100%", "x_y"}), "drainage", None)
    with new_session(engine) as session:
        for said in SAYINGS * 2:
            fields = {"category": "drainage", "description": said, "grid_id": "g1", "chat_id": "g"}
            open_ticket(session, now=NOW, reporter=Actor("r", "居民"), fields=fields)
        session.flush()
        legacy = json.dumps({"v": FEATURES_VERSION - 1, "words": [], "problems": []})
        for first in (1, 1 + len(SAYINGS)):
            session.exec(update(Ticket).where(Ticket.id == first).values(merge_features=None))
            session.exec(update(Ticket).where(Ticket.id == first + 1).values(merge_features=legacy))
            session.exec(update(Ticket).where(Ticket.id == first + 2).values(merge_features=merge_features(odd)))
        resolved = {"status": "resolved", "resolved_at": NOW}
        session.exec(update(Ticket).where(Ticket.id > len(SAYINGS)).values(**resolved))
        session.commit()
    since = NOW - dt.timedelta(hours=1)
    many = similarity.ReportFacts(frozenset(f"词{n}" for n in range(similarity.MAX_NEEDLES + 1)), "drainage", None)
    with new_session(engine) as session:
        for read in (open_candidates, resolved_candidates):
            every = read(session, since=since, grid_id="g1", near=None)
            assert len(every) == len(SAYINGS)
            for message in [facts(said, "drainage", None) for said in SAYINGS] + [odd, many]:
                expected = [
                    c.id for c in every
                    if c.features is None or not c.features.startswith(similarity.FEATURES_PREFIX)
                    or similarity.problem_agreement(message, similarity.stored_facts(c.features, "", "", None)) > 0
                    or similarity.needles(message) is None
                ]  # fmt: skip
                if not (message.words or message.problems):
                    expected = []
                found = read(session, since=since, grid_id="g1", near=None, sharing=message)
                assert [c.id for c in found] == expected, (read.__name__, sorted(message.words))
            three_oldest = [c.id for c in every][-3:]
            assert [c.id for c in read(session, since=since, grid_id="g1", near=None, sharing=odd)] == three_oldest


def test_sqlite_reads_candidates_without_walking_the_history(tmp_path: Path) -> None:
    """Each candidate query's plan on SQLite (which has no statistics to go by) reads the candidates through the
    index that selects them: never a category's or the community's states' whole history (`ix_ticket_category`,
    `ix_ticket_community_status`: every closed ticket too), nor the whole table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    init_schema(engine, "c1")
    with new_session(engine, "c1") as session:
        fields = {"category": "drainage", "description": DRAIN, "location": "3号楼", "grid_id": "g1", "chat_id": "g"}
        open_ticket(session, now=NOW, reporter=Actor("r", "居民"), fields=fields)
        session.commit()
    executed: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("SELECT"):
            executed.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    since = NOW - dt.timedelta(hours=1)
    drain = facts(DRAIN, "drainage", "3号楼")
    with new_session(engine, "c1") as session:
        merge_candidates(session, since=since, grid_id="g1", near="3号楼", category="drainage", place="3号楼")
        merge_candidates(session, since=since, grid_id="g1", near=None, category="drainage")
        open_candidates(session, since=since, grid_id="g1", near=None, sharing=drain)
        resolved_candidates(session, since=since, grid_id="g1", near="3号楼", sharing=drain)
    event.remove(engine, "before_cursor_execute", remember)
    assert len(executed) == 4
    with engine.connect() as connection:
        plans = [
            [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            for statement, parameters in executed
        ]
    engine.dispose()
    for plan in plans:
        assert not any("ix_ticket_category" in step or "ix_ticket_community_status" in step for step in plan), plan
        assert not any(step.startswith("SCAN ticket") for step in plan), plan
    union, category, _, resolved = plans
    assert any("ix_ticket_merge_candidates" in step for step in union + category)
    assert any("ix_ticket_resolved_at_resolution_due_at" in step for step in resolved)
