"""Urgent reports (handlers/emergency.py): the hazard read from the message, advice with the configured numbers,
the 10-minute first-response limit, and who is alerted at once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from handlers import emergency, texts
from handlers.emergency import Hazard, advice, hazard_of, hazards_of, reopen_alerts, response_due, urgent_messages
from ledger.rota import Duty, DutySource
from settings.models import Contact, Emergency, Role, Settings
from tests.conftest import MONDAY_9AM
from tests.test_config import BASE, problems_of
from tests.test_config_check import CLEAN, check_text


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        # fire: flames, smoke, a burning battery, with emoji and shouting
        ("🔥🔥5栋着火了！！！快来人", Hazard.FIRE),
        ("3栋楼道里的电瓶车烧起来了，烟好大，楼上还有人", Hazard.FIRE),
        ("地下车库有辆车冒黑烟", Hazard.FIRE),
        # gas: named, smelt, heard; an explosion it threatens is still the gas
        ("楼道里一股煤气味 好呛", Hazard.GAS),
        ("厨房天然气嘶嘶响，阀门关不上", Hazard.GAS),
        ("楼道里有股臭鸡蛋味 是不是漏气了", Hazard.GAS),
        ("家里燃气泄漏 要爆炸了", Hazard.GAS),
        # a person trapped in a lift, however written, and a lift accident the concepts do not name
        ("3号楼电梯困人了，里面有个老人", Hazard.LIFT),
        ("我被困在电悌里了 救命", Hazard.LIFT),
        ("2单元电梯坏在半路，轿厢里关着两个小孩", Hazard.LIFT),
        ("困𨋢啊 快嚟人", Hazard.LIFT),
        ("Elevator stuck between floors with my kid inside!!", Hazard.LIFT),
        ("LIFT 里面有人出不来了", Hazard.LIFT),
        ("电梯门夹到孩子的手了", Hazard.LIFT),
        # trapped elsewhere: the fire brigade
        ("有人被关在地下室出不来", Hazard.TRAPPED),
        ("孩子被锁在车里了，太阳这么晒", Hazard.TRAPPED),
        # injury and sudden illness, in Mandarin and Cantonese
        ("楼下有个大爷摔倒了起不来", Hazard.INJURY),
        ("老人晕倒了", Hazard.INJURY),
        ("一个人倒在地上流血", Hazard.INJURY),
        ("阿婆喺楼梯跌低咗，起唔到身", Hazard.INJURY),
        ("隔壁老王心脏病犯了", Hazard.INJURY),
        ("电梯里有人晕倒了", Hazard.INJURY),  # ill in a lift, not trapped: the ambulance
        ("快打120", Hazard.INJURY),
        # crime and violence
        ("有人拿刀砍人", Hazard.CRIME),
        ("小区门口有个人拿着刀在追人 大家别出门", Hazard.CRIME),
        ("有人在楼道里打架 打起来了", Hazard.CRIME),
        # the other hazards
        ("孩子找不到了", Hazard.MISSING),
        ("我家老爷子早上出门到现在还没回来，有老年痴呆", Hazard.MISSING),
        ("电线掉地上冒火花", Hazard.LIVE_WIRE),
        ("地下车库电线泡水里了", Hazard.LIVE_WIRE),
        ("有人触电了", Hazard.LIVE_WIRE),
        ("井盖没了 黑洞洞的", Hazard.MANHOLE),
        ("外墙要塌了", Hazard.COLLAPSE),
        ("楼上掉花盆砸到人了", Hazard.FALLING),
        ("有人要跳楼", Hazard.LEDGE),
        ("小孩爬到窗户外面了", Hazard.LEDGE),
        ("孩子掉进池塘了", Hazard.WATER),
        ("狗把孩子咬了 流了好多血", Hazard.ANIMAL),
        # nothing to tell the hazard by
        ("救命啊", Hazard.UNKNOWN),
        ("快来人啊！！", Hazard.UNKNOWN),
    ],
)
def test_the_hazard_is_read_from_the_message(text: str, hazard: Hazard) -> None:
    assert hazard_of(text) is hazard


def test_a_long_message_is_read_for_its_danger() -> None:
    text = (
        "各位邻居晚上好，打扰一下，我是5号楼3单元的住户，今天下午从菜市场回来，刚进单元门，"
        "就听见里面有人在拍门喊，原来是电梯卡在4楼和5楼中间，里面困了个老太太，按警铃也没人应，谁有物业电话？"
    )
    assert hazard_of(text) is Hazard.LIFT


def test_full_width_and_mentions_are_read_like_plain_text() -> None:
    assert hazard_of("@回音 ３号楼　煤气泄漏！！") is Hazard.GAS


def test_several_dangers_lead_with_the_most_acute() -> None:
    assert hazards_of("煤气泄漏着火了") == (Hazard.FIRE, Hazard.GAS)
    assert hazards_of("电梯困人，有个老人晕倒了") == (Hazard.LIFT, Hazard.INJURY)
    assert hazards_of("外卖小哥被高空扔下的酒瓶砸中头 流血了") == (Hazard.FALLING, Hazard.INJURY)


# Settings whose every number differs from the defaults: the advice must carry these.
LOCAL = Emergency(
    first_response_minutes=5,
    fire="1191",
    police="1101",
    ambulance="1201",
    lift_platform="963331",
    gas_company=Contact(name="新奥燃气", phone="96577"),
    power_company=Contact(name="南方电网", phone="95598-1"),
    lift_company=Contact(name="蓝天电梯维保", phone="0731-1234 5678"),
)


@pytest.fixture
def local(settings: Settings) -> Settings:
    return settings.model_copy(update={"emergency": LOCAL})


@pytest.mark.parametrize(
    ("hazard", "numbers"),
    [
        (Hazard.FIRE, ["1191"]),
        (Hazard.GAS, ["新奥燃气 96577", "1191"]),
        (Hazard.LIFT, ["963331", "蓝天电梯维保 0731-1234 5678"]),
        (Hazard.TRAPPED, ["1191"]),
        (Hazard.INJURY, ["1201"]),
        (Hazard.CRIME, ["1101"]),
        (Hazard.MISSING, ["1101"]),
        (Hazard.LIVE_WIRE, ["南方电网 95598-1", "1201"]),
        (Hazard.COLLAPSE, ["1191"]),
        (Hazard.FALLING, ["1101", "1201"]),
        (Hazard.MANHOLE, ["1191"]),
        (Hazard.LEDGE, ["1101", "1191"]),
        (Hazard.WATER, ["1191", "1201"]),
        (Hazard.ANIMAL, ["1201", "1101"]),
        (Hazard.UNKNOWN, ["1101", "1191", "1201"]),
    ],
)
def test_advice_carries_the_configured_numbers(local: Settings, hazard: Hazard, numbers: list[str]) -> None:
    line = advice(local, hazard)
    for number in numbers:
        assert number in line
    for default in ("119", "110", "120", "96333"):  # none of the defaults is left over
        assert re.search(rf"(?<![\d-]){default}(?![\d-])", line) is None, default


def test_each_hazard_has_one_wording_and_a_name() -> None:
    assert set(texts.EMERGENCY_ADVICE) == set(texts.EMERGENCY_HAZARDS) == {hazard.value for hazard in Hazard}


def test_gas_advice_says_what_not_to_do(settings: Settings) -> None:
    line = advice(settings, Hazard.GAS)
    assert "不要开关电器，开窗通风，到户外打电话" in line
    assert "幸福里燃气公司 96777" in line  # the sample config's gas company


def test_lift_advice_names_the_platform_and_the_sample_lift_company(settings: Settings) -> None:
    line = advice(settings, Hazard.LIFT)
    assert "电梯应急处置服务平台 96333" in line
    assert "幸福里电梯维保（奥的斯） 0731-8888 3000" in line


def test_without_a_lift_company_or_a_gas_line_the_advice_still_reads(settings: Settings) -> None:
    bare = settings.model_copy(update={"emergency": Emergency()})
    assert "维保" not in advice(bare, Hazard.LIFT)
    assert "96333" in advice(bare, Hazard.LIFT)
    assert "打电话给燃气公司；" in advice(bare, Hazard.GAS)
    assert "供电公司 95598" in advice(bare, Hazard.LIVE_WIRE)


def test_someone_hurt_as_well_adds_the_ambulance(local: Settings) -> None:
    hazard, line = emergency.advice_for(local, "电梯困人，有个老人晕倒了")
    assert hazard is Hazard.LIFT and "963331" in line and "1201" in line
    assert "1201" not in emergency.advice_for(local, "电梯困人了")[1]
    assert emergency.advice_for(local, "一个人倒在地上流血")[1] == advice(local, Hazard.INJURY)


def test_the_first_response_limit_is_ten_minutes_by_default(settings: Settings) -> None:
    assert Emergency().first_response_minutes == 10
    assert response_due(settings, MONDAY_9AM) == MONDAY_9AM + dt.timedelta(minutes=10)


def test_a_configured_first_response_limit(settings: Settings) -> None:
    configured = load_with("emergency:\n  first_response_minutes: 3\n")
    assert configured.emergency.first_response_minutes == 3
    assert response_due(configured, MONDAY_9AM) == MONDAY_9AM + dt.timedelta(minutes=3)
    late_night = dt.datetime(2026, 11, 28, 2, 30, tzinfo=MONDAY_9AM.tzinfo)  # a Saturday night: never paused
    assert response_due(configured, late_night) == late_night + dt.timedelta(minutes=3)


def load_with(block: str) -> Settings:
    from settings import load_settings_text

    return load_settings_text(BASE + block)


def test_a_config_without_an_emergency_section_gets_the_defaults() -> None:
    assert load_with("").emergency == Emergency()


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        pytest.param(
            "emergency:\n  first_response_minutes: 0\n",
            ["config.yaml:19: emergency.first_response_minutes: 应当大于 0（现在写的是 0）"],
            id="zero-minutes",
        ),
        pytest.param(
            "emergency:\n  fire: 一一九\n",
            [
                "config.yaml:19: emergency.fire: '一一九' 不是电话号码（只写数字，可带 - 和空格，"
                "如 '96333'、'0731-8888 3000'；以 0 开头的号码请加引号）"
            ],
            id="not-a-phone",
        ),
        pytest.param(
            "emergency:\n  lift_company: {phone: '96333'}\n",
            ["config.yaml:19: emergency.lift_company.name: 必须填写"],
            id="company-without-a-name",
        ),
        pytest.param(
            "emergency:\n  gas_compnay: {name: 燃气, phone: '96777'}\n",
            ["config.yaml:19: emergency.gas_compnay: 不认识这个键，是不是想写 'gas_company'？"],
            id="misspelt-key",
        ),
    ],
)
def test_a_bad_emergency_value_is_a_located_error(block: str, expected: list[str]) -> None:
    assert problems_of(BASE + block) == expected


def test_huiyin_check_locates_a_bad_limit() -> None:
    line = CLEAN.count("\n") + 2  # the line after `emergency:`
    result = check_text(CLEAN + "emergency:\n  first_response_minutes: -5\n")
    assert result.errors == [f"config.yaml:{line}: emergency.first_response_minutes: 应当大于 0（现在写的是 -5）"]


def test_unquoted_numbers_are_read_as_text() -> None:
    numbers = load_with("emergency:\n  fire: 119\n  gas_company: {name: 燃气, phone: 96777}\n").emergency
    assert (numbers.fire, numbers.gas_company.phone) == ("119", "96777")


def _duty(settings: Settings, cadre_id: str, source: DutySource = DutySource.GRID) -> Duty:
    cadre = settings.cadre(cadre_id)
    assert cadre is not None
    return Duty(cadre, source)


FIELDS = {"number": 7, "category": "公共设施", "place": "3号楼"}


def _opened(settings: Settings, duty: Duty, grid_id: str | None, text: str = "3号楼电梯困人了"):
    return urgent_messages(
        settings, ticket_id=7, text=text, reporter="张阿姨", duty=duty, grid_id=grid_id, fields=FIELDS
    )


def _private_names(alerts) -> list[str]:
    return [alert.chat_name for alert in alerts if alert.is_private]


def test_duty_grid_leader_and_secretary_are_each_alerted_once(settings: Settings) -> None:
    opened = _opened(settings, _duty(settings, "wangfang"), "g1")
    assert _private_names(opened.alerts) == ["王芳", "赵敏", "陈洁"]
    assert [alert.chat_id for alert in opened.alerts if alert.is_private] == [
        "wxid_wangfang", "wxid_zhaomin", "wxid_chenjie",
    ]  # fmt: skip
    group = [alert for alert in opened.alerts if not alert.is_private]
    assert [(alert.chat_id, alert.chat_name) for alert in group] == [("幸福里社区工作群", "幸福里社区工作群")]
    assert {alert.ticket_id for alert in opened.alerts} == {7}
    assert len({alert.text for alert in opened.alerts}) == 1


def test_the_alert_names_the_hazard_the_report_and_the_limit(settings: Settings) -> None:
    alert = _opened(settings, _duty(settings, "wangfang"), "g1").alerts[0].text
    assert alert.startswith("⚠️ 紧急 #7【公共设施】3号楼（电梯险情）：张阿姨 反映「3号楼电梯困人了」")
    assert "96333" in alert
    assert "请10分钟内在群内回复" in alert


def test_the_public_reply_gives_the_advice_and_who_was_told(settings: Settings) -> None:
    opened = _opened(settings, _duty(settings, "wangfang"), "g1", "楼道里一股煤气味 好呛")
    assert opened.hazard is Hazard.GAS
    assert opened.reply.startswith("⚠️ 情况紧急！燃气泄漏：不要开关电器，开窗通风，到户外打电话给幸福里燃气公司 96777")
    told = "已通知今日值班 王芳、网格长 赵敏、书记 陈洁 立即处置，10分钟内回复。"
    assert opened.reply.endswith("。已登记 #7【公共设施】3号楼，" + told)


def test_a_duty_cadre_who_is_the_grid_leader_is_alerted_once(settings: Settings) -> None:
    opened = _opened(settings, _duty(settings, "zhaomin", DutySource.COMMUNITY), "g1")
    assert _private_names(opened.alerts) == ["赵敏", "陈洁"]
    assert "已通知社区值班 赵敏、书记 陈洁 立即处置" in opened.reply


def test_without_a_grid_the_secretary_is_alerted(settings: Settings) -> None:
    opened = _opened(settings, _duty(settings, "lijun", DutySource.COMMUNITY), None)
    assert _private_names(opened.alerts) == ["李军", "陈洁"]


def test_a_secretary_on_duty_without_a_grid_is_alerted_once(settings: Settings) -> None:
    opened = _opened(settings, _duty(settings, "chenjie", DutySource.SECRETARY), None)
    assert _private_names(opened.alerts) == ["陈洁"]
    assert "已通知书记 陈洁 立即处置" in opened.reply


def test_every_leader_of_the_grid_is_alerted(settings: Settings) -> None:
    second = settings.cadres[0].model_copy(update={"id": "sunli", "name": "孙丽", "chat_id": "wxid_sunli"})
    second = second.model_copy(update={"role": Role.GRID_LEADER, "grids": ["g1"]})
    more = settings.model_copy(update={"cadres": [*settings.cadres, second]})
    opened = _opened(more, _duty(more, "wangfang"), "g1")
    assert _private_names(opened.alerts) == ["王芳", "赵敏", "孙丽", "陈洁"]


def test_without_a_cadres_group_only_private_alerts_go(settings: Settings) -> None:
    alone = settings.model_copy(update={"groups": [g for g in settings.groups if g.kind.value != "cadres"]})
    opened = _opened(alone, _duty(alone, "wangfang"), "g1")
    assert all(alert.is_private for alert in opened.alerts)


def test_a_reopened_urgent_ticket_alerts_everyone_at_once(local: Settings) -> None:
    alerts = reopen_alerts(
        local, ticket_id=7, category="公共设施", place="3号楼", assignee_id="wangfang", grid_id="g1",
        text="3号楼电梯困人了", note="人还在里面",
    )  # fmt: skip
    assert _private_names(alerts) == ["王芳", "赵敏", "陈洁"]
    assert [alert.chat_name for alert in alerts if not alert.is_private] == ["幸福里社区工作群"]
    text = alerts[0].text
    assert text.startswith("⚠️ 紧急事项 #7【公共设施】3号楼（电梯险情）居民反映仍未解决，已重新办理，请立即处置！")
    assert "请5分钟内在群内回复" in text and "人还在里面" in text


def test_a_reopened_ticket_whose_assignee_left_still_reaches_the_chain(settings: Settings) -> None:
    alerts = reopen_alerts(settings, ticket_id=3, category="其他", place="", assignee_id="gone", grid_id=None)
    assert _private_names(alerts) == ["陈洁"]
    assert "（紧急情况）" in alerts[0].text
