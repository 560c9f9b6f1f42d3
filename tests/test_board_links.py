"""Cadre links (signed, expiring), the 看板 command that hands them out, and the board's read-only engine."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from board.readonly import read_only_engine
from board.web import create_app
from ledger.clock import ManualClock
from ledger.links import CadreLink, LinkProblem, check_link, sign_link
from settings.models import Settings
from settings.secrets import LINK_SECRET_VARIABLE, BoardSecrets
from storage.db import new_session
from storage.tickets import all_tickets
from tests.chat import Chat
from tests.conftest import MONDAY_9AM

SECRET = "a-secret"
LATER = MONDAY_9AM + dt.timedelta(hours=24)


def test_a_signed_link_names_its_cadre_until_it_expires() -> None:
    token = sign_link(SECRET, "wangfang", LATER)
    assert check_link(SECRET, token, MONDAY_9AM) == CadreLink("wangfang", LATER)
    assert check_link(SECRET, token, LATER) is LinkProblem.EXPIRED
    assert check_link("another-secret", token, MONDAY_9AM) is LinkProblem.BAD_SIGNATURE


@pytest.mark.parametrize("damage", ["flip_payload", "flip_signature", "cut", "garbage", "empty", "dots"])
def test_a_tampered_link_is_refused(damage: str) -> None:
    token = sign_link(SECRET, "wangfang", LATER)
    payload, signature = token.split(".")
    forged_payload = sign_link(SECRET, "chenjie", LATER).split(".")[0]
    damaged = {
        "flip_payload": f"{forged_payload}.{signature}",
        "flip_signature": f"{payload}.{signature[::-1]}",
        "cut": token[:-5],
        "garbage": "%%%.###",
        "empty": "",
        "dots": "...",
    }[damage]
    assert check_link(SECRET, damaged, MONDAY_9AM) in (LinkProblem.BAD_SIGNATURE, LinkProblem.MALFORMED)


def test_the_bot_sends_a_link_in_private_only(chat: Chat, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LINK_SECRET_VARIABLE, SECRET)
    [in_group] = chat.say("王芳", "看板")
    assert "私聊" in in_group.text and "http" not in in_group.text
    [private] = chat.private("王芳", "看板")
    assert private.is_private and private.chat_id == "wxid_wangfang" and "24小时内有效" in private.text
    token = private.text.rsplit("/cadre/", 1)[1]
    link = check_link(SECRET, token, chat.clock.now())
    assert link == CadreLink("wangfang", (chat.clock.now() + dt.timedelta(hours=24)).replace(microsecond=0))
    [resident] = chat.private("张阿姨", "看板")
    assert "http" not in resident.text  # residents get the cadre-only refusal


def test_without_a_secret_the_bot_says_how_to_enable_links(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LINK_SECRET_VARIABLE, raising=False)
    [reply] = chat.private("王芳", "看板")
    assert LINK_SECRET_VARIABLE in reply.text and "http" not in reply.text


def test_refused_links_get_a_clear_403_page(settings: Settings, engine: Engine, chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    clock = ManualClock(MONDAY_9AM)
    client = TestClient(create_app(settings, engine, clock, BoardSecrets(SECRET, None)))
    good = sign_link(SECRET, "wangfang", LATER)
    page = client.get(f"/cadre/{good}")
    assert page.status_code == 200 and "张阿姨" in page.text and "王芳的看板" in page.text
    assert client.get(f"/cadre/{good}/tickets/1").status_code == 200
    clock.set(LATER)
    expired = client.get(f"/cadre/{good}")
    assert expired.status_code == 403 and "已过期" in expired.text and "张阿姨" not in expired.text
    assert client.get(f"/cadre/{good}/tickets/1").status_code == 403
    gone = client.get(f"/cadre/{sign_link(SECRET, 'nobody', LATER + dt.timedelta(hours=1))}")
    assert gone.status_code == 403 and "不在名单" in gone.text
    off = TestClient(create_app(settings, engine, clock, BoardSecrets(None, None))).get(f"/cadre/{good}")
    assert off.status_code == 403 and LINK_SECRET_VARIABLE in off.text


def test_the_board_reads_but_cannot_write(engine: Engine, chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    search_path = None
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            search_path = connection.execute(text("SHOW search_path")).scalar()
    board_engine = read_only_engine(engine.url.render_as_string(hide_password=False), search_path=search_path)
    try:
        with new_session(board_engine) as session:
            assert [t.id for t in all_tickets(session)] == [1]
        with pytest.raises(Exception, match=r"(?i)read.only|readonly|query_only|attempt to write"):
            with board_engine.begin() as connection:
                connection.execute(text("UPDATE ticket SET status = 'closed'"))
    finally:
        board_engine.dispose()
    with new_session(engine) as session:
        assert [t.status for t in all_tickets(session)] == ["assigned"]
