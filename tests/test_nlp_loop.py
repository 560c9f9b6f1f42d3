"""Classification in the whole loop: uncertain reports, 改类 kept as labelled examples, the service
directory, and similar reports joining one ticket."""

from __future__ import annotations

import csv
import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bot.cli import main
from nlp.classification import Classification, Intent
from storage.examples import recategorised_examples
from storage.models import Ticket
from storage.tickets import active_reporters, all_tickets, ticket_events
from tests.chat import GROUP_G1, GROUP_G2, Chat, FixedClassifier

REPO = Path(__file__).resolve().parent.parent


def ticket(chat: Chat, number: int) -> Ticket:
    with chat.session() as session:
        found = session.get(Ticket, number)
        assert found is not None
        return found


def test_a_report_nothing_classifies_is_ticketed_as_other_and_the_cadre_is_asked_to_recategorise(chat: Chat) -> None:
    public, note = chat.say("张阿姨", "打了好几次12345热线也没人管")
    assert "#1【其他】" in public.text
    assert note.is_private and note.chat_id == "wxid_wangfang"
    assert "改类 1 类别" in note.text and "打了好几次12345热线也没人管" in note.text
    assert ticket(chat, 1).category == "other"
    with chat.session() as session:
        assert ticket_events(session, 1)[0].note == "分类待定：没有认出类别"


def test_a_low_confidence_guess_is_routed_as_other_with_the_guess_in_the_note(chat: Chat) -> None:
    chat.app.classifier = FixedClassifier(Classification(Intent.REPORT, "sanitation", None, None, False, 0.4))
    public, note = chat.say("张阿姨", "垃圾桶旁边的井盖坏了")
    assert "#1【其他】" in public.text
    assert "已暂记为【其他】（可能是【环境卫生】）" in note.text
    with chat.session() as session:
        assert ticket_events(session, 1)[0].note == "分类待定：可能是【环境卫生】（把握 40%）"
    assert ticket(chat, 1).confidence == 0.4


def test_a_confident_report_gets_no_note(chat: Chat) -> None:
    [reply] = chat.say("张阿姨", "3号楼2单元下水道堵了，一楼都返水了")
    assert "【给排水】" in reply.text


def test_recategorise_changes_the_category_and_keeps_a_labelled_example(chat: Chat) -> None:
    chat.say("张阿姨", "打了好几次12345热线也没人管")
    [reply] = chat.say("王芳", "改类 1 物业服务")
    assert reply.text == "@王芳 已将 #1 的类别由【其他】改为【物业服务】，这条反映已记为分类样本。"
    saved = ticket(chat, 1)
    assert saved.category == "property"
    with chat.session() as session:
        event = ticket_events(session, 1)[-1]
        assert (event.action, event.actor_id, event.changes["category"], event.note) == (
            "recategorise", "wangfang", "property", "other",
        )  # fmt: skip
        [example] = recategorised_examples(session)
    assert (example.ticket_id, example.text, example.label, example.previous) == (
        1, "打了好几次12345热线也没人管", "property", "other",
    )  # fmt: skip


def test_recategorise_moves_the_time_limits_with_the_category(chat: Chat) -> None:
    chat.say("张阿姨", "打了好几次12345热线也没人管")
    before = ticket(chat, 1)
    chat.say("王芳", "改类 1 security")  # by id as well as by name; 治安安全 answers within 30 minutes
    after = ticket(chat, 1)
    assert after.category == "security"
    assert after.response_due_at < before.response_due_at
    assert after.response_due_at == after.created_at + (before.response_due_at - before.created_at) / 2


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("改类 1 水电", "没有「水电」这个类别。可选：环境卫生、给排水"),
        ("改类 9 给排水", "没有找到 #9"),
        ("改类 1 其他", "#1 已经是【其他】，无需修改。"),
    ],
)
def test_recategorise_refuses_politely(chat: Chat, command: str, expected: str) -> None:
    chat.say("张阿姨", "打了好几次12345热线也没人管")
    [reply] = chat.say("王芳", command)
    assert expected in reply.text
    assert ticket(chat, 1).category == "other"


def test_only_the_assignee_grid_leader_or_secretary_may_recategorise(chat: Chat) -> None:
    chat.say("张阿姨", "打了好几次12345热线也没人管")
    [refused] = chat.say("李军", "改类 1 给排水")  # 李军 is a cadre of the other grid
    assert "只有负责人、当班人员、网格长或书记可以改类" in refused.text
    chat.say("张阿姨", "改类 1 给排水")  # a resident: cadre commands are not theirs
    assert ticket(chat, 1).category == "other"
    [secretary] = chat.say("陈洁", "改类 1 给排水")
    assert "改为【给排水】" in secretary.text


def test_a_closed_ticket_cannot_be_recategorised(chat: Chat) -> None:
    chat.say("张阿姨", "打了好几次12345热线也没人管")
    chat.say("王芳", "退回 1 不属于本社区")
    [reply] = chat.say("王芳", "改类 1 物业服务")
    assert reply.text == "@王芳 #1 已退回，不能再改类。"


def test_examples_export_feeds_train(chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if chat.app.engine.dialect.name != "sqlite":
        pytest.skip("the CLI opens DATABASE_URL, and a URL cannot name the PostgreSQL test schema")
    chat.say("张阿姨", "打了好几次12345热线也没人管")
    chat.say("李叔", "小区门口的快递柜老是满的，能不能管管")
    chat.say("王芳", "改类 1 物业服务")
    chat.say("王芳", "改类 2 公共设施")
    chat.say("王芳", "改类 2 物业服务")  # the latest correction is the label
    exported = tmp_path / "examples.csv"
    monkeypatch.setenv("DATABASE_URL", chat.app.engine.url.render_as_string(hide_password=False))
    cli = ["--config", str(REPO / "config.yaml"), "--env-file", os.devnull]
    assert main([*cli, "examples", "--out", str(exported)]) == 0
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert rows == [
        {"text": "打了好几次12345热线也没人管", "label": "property", "intent": "report"},
        {"text": "小区门口的快递柜老是满的，能不能管管", "label": "property", "intent": "report"},
    ]
    model = tmp_path / "model.json"
    with redirect_stdout(io.StringIO()):
        assert main([*cli, "train", str(exported), "--out", str(model)]) == 0
    assert json.loads(model.read_text(encoding="utf-8"))["labels"] == ["property"]


def test_an_inquiry_the_directory_answers_gets_the_answer_and_no_ticket(chat: Chat) -> None:
    [reply] = chat.say("张阿姨", "请问低保怎么申请？")
    assert "低保申请：户主带身份证" in reply.text
    with chat.session() as session:
        assert all_tickets(session) == []


def test_an_inquiry_the_directory_cannot_answer_becomes_a_ticket(chat: Chat) -> None:
    [reply] = chat.say("张阿姨", "请问社区有没有老年大学？")
    assert "收到您的咨询，已登记 #1" in reply.text


def test_a_differently_worded_report_of_the_same_problem_joins_the_open_ticket(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了，一楼都返水了")
    [joined] = chat.say("李叔", "3号楼下水道又堵了，臭死了")  # a less precise place, other words
    assert "已有 2 位居民反映，#1【给排水】3号楼2单元" in joined.text
    with chat.session() as session:
        assert len(all_tickets(session)) == 1
        assert [r.member_name for r in active_reporters(session, 1)] == ["张阿姨", "李叔"]


def test_reports_without_a_place_join_only_when_their_words_agree(chat: Chat) -> None:
    chat.say("刘姐", "又停电了，冰箱里的东西都要坏了", group=GROUP_G2)
    [joined] = chat.say("周师傅", "又停电了，冰箱东西都坏了", group=GROUP_G2)
    assert "已有 2 位居民反映，#1" in joined.text
    [other] = chat.say("周师傅", "小区路灯晚上一半不亮", group=GROUP_G2)
    assert "#2" in other.text


def test_different_places_or_grids_never_join(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼下水道堵了")
    [second] = chat.say("李叔", "2号楼下水道堵了")
    assert "#2" in second.text
    chat.say("刘姐", "又停电了，冰箱里的东西都要坏了", group=GROUP_G2)
    [third] = chat.say("张阿姨", "又停电了，冰箱里的东西都要坏了", group=GROUP_G1)
    assert "#4" in third.text
