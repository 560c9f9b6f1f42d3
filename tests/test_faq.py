"""The service directory answers only the questions it knows: an entry answers a message that names its topic
and asks what it answers; a problem with the service (money not arrived, benefit stopped) is a report."""

from __future__ import annotations

import pytest

from nlp.classification import Classification, Intent
from nlp.faq import match_faq, states_problem
from settings.models import Settings
from storage.tickets import all_tickets
from tests.chat import Chat, FixedClassifier


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("请问低保怎么申请？", "dibao"),
        ("最低生活保障需要什么材料", "dibao"),
        ("居住证在哪办", "juzhuzheng"),
        ("残疾证年审要带什么", "canjizheng"),
        ("医保卡丢了怎么补办", "yibao"),
        ("物业费怎么交", "wuye"),  # an entry's own `asks` (config.yaml)
        ("社区服务站周六开门吗", "fuwuzhan"),
    ],
)
def test_an_entry_answers_the_questions_it_knows(settings: Settings, text: str, entry: str) -> None:
    found = match_faq(text, settings.faq)
    assert found is not None and found.id == entry


@pytest.mark.parametrize(
    "text",
    [
        "低保的钱这个月咋还没到账呢",  # a problem to follow up, not the application procedure
        "我家低保被取消了怎么办",
        "低保申请了三个月还没批，去哪问",
        "医保卡用不了怎么办",
        "低保户家里的灯坏了谁管",  # names the topic, asks something else
        "低保一个月多少钱",
        "物业费太贵了",  # the topic, but not what this entry's `asks` cover
    ],
)
def test_an_entry_refuses_what_it_does_not_answer(settings: Settings, text: str) -> None:
    assert match_faq(text, settings.faq) is None


def test_a_problem_with_a_service_is_told_apart_from_a_question_about_it() -> None:
    assert states_problem("低保的钱这个月咋还没到账呢") and states_problem("养老金停发了")
    assert not states_problem("低保怎么申请") and not states_problem("居住证在哪办")


def test_the_directory_answers_an_inquiry_it_knows_with_no_ticket(chat: Chat) -> None:
    chat.app.classifier = FixedClassifier(Classification(Intent.INQUIRY, "welfare", None, None, False, 0.8))
    [reply] = chat.say("张阿姨", "请问低保怎么申请？")
    assert "低保申请：户主带身份证" in reply.text
    with chat.session() as session:
        assert all_tickets(session) == []


def test_a_problem_asked_as_a_question_becomes_a_report_not_the_answer(chat: Chat) -> None:
    chat.app.classifier = FixedClassifier(Classification(Intent.INQUIRY, "welfare", None, None, False, 0.8))
    [reply] = chat.say("张阿姨", "低保的钱这个月咋还没到账呢")
    assert "低保申请" not in reply.text
    assert "收到，已登记 #1【" in reply.text  # a report to follow up, not 收到您的咨询


def test_what_the_bot_reads_follows_up_a_missing_payment(chat: Chat) -> None:
    [reply] = chat.say("张阿姨", "低保的钱这个月咋还没到账呢")
    assert "低保申请" not in reply.text and "#1" in reply.text
