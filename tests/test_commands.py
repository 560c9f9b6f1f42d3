import csv
from pathlib import Path

import pytest

from handlers.commands import (
    COMMANDS,
    Argument,
    Command,
    CommandError,
    CommandName,
    ProblemKind,
    Rating,
    _may_be_command,
    _Message,
    _parse,
    parse_command,
    rating_value,
)

CADRE_COMMANDS = {
    CommandName.ACCEPT,
    CommandName.PROGRESS,
    CommandName.RESOLVE,
    CommandName.TRANSFER,
    CommandName.RETURN,
    CommandName.COMMIT,
    CommandName.MY_QUEUE,
    CommandName.ON_DUTY,
    CommandName.SWAP,
    CommandName.SHOW,
    CommandName.BOARD,
    CommandName.AGENDA,
    CommandName.MARK_AGENDA,
    CommandName.RECATEGORISE,
    CommandName.MERGE,
    CommandName.REGISTER,
    CommandName.IGNORE,
    CommandName.NOTICE,
    CommandName.RESTORE,
    CommandName.LINK,
    CommandName.DISPATCH,
    CommandName.REDISPATCH,
    CommandName.UNIT_RETURN,
    CommandName.PATROL,
    CommandName.PUBLISH,
}
UNIT_COMMANDS = {CommandName.ACCEPT, CommandName.PROGRESS, CommandName.RESOLVE, CommandName.UNIT_RETURN}

N = CommandName

# (text, name, ticket, argument, mention)
VALID = [
    ("议题", N.AGENDA, None, "", None),
    ("立项 12", N.MARK_AGENDA, 12, "", None),
    ("立项＃１２", N.MARK_AGENDA, 12, "", None),
    ("接单 " + "0" * 5000 + "12", N.ACCEPT, 12, "", None),  # leading zeros do not count against the limit
    ("改类 12 给排水", N.RECATEGORISE, 12, "给排水", None),
    ("合并 13 1", N.MERGE, 13, "1", None),
    ("合并＃１３ 并入#1", N.MERGE, 13, "并入#1", None),
    ("改类＃１２ 【给排水】 是楼上漏水", N.RECATEGORISE, 12, "【给排水】 是楼上漏水", None),
    ("接单 12", N.ACCEPT, 12, "", None),
    ("接单12", N.ACCEPT, 12, "", None),
    ("接单#12", N.ACCEPT, 12, "", None),
    ("接单 # 12", N.ACCEPT, 12, "", None),
    ("接单 012", N.ACCEPT, 12, "", None),
    ("接单 12 好的", N.ACCEPT, 12, "好的", None),
    ("进度 12 已联系物业，明天上门", N.PROGRESS, 12, "已联系物业，明天上门", None),
    ("进度 ＃１２ 已联系物业，明天上门（上午）", N.PROGRESS, 12, "已联系物业，明天上门（上午）", None),
    ("进度 12 已联系物业。", N.PROGRESS, 12, "已联系物业。", None),
    ("进度 12 已联系物业\n\n明天上门", N.PROGRESS, 12, "已联系物业 明天上门", None),
    ("进度12已联系物业", N.PROGRESS, 12, "已联系物业", None),
    ("进度 12：已联系物业", N.PROGRESS, 12, "已联系物业", None),
    ("办结 12 已更换楼道灯", N.RESOLVE, 12, "已更换楼道灯", None),
    ("办结 12，已修好", N.RESOLVE, 12, "已修好", None),
    ("转派 12 @李军", N.TRANSFER, 12, "", "李军"),
    ("转派 12 @ 李军", N.TRANSFER, 12, "", "李军"),
    ("转派12@李军", N.TRANSFER, 12, "", "李军"),
    ("转派 12 ＠李军，", N.TRANSFER, 12, "", "李军"),
    ("转派 12 @李军\u2005二网格的事", N.TRANSFER, 12, "二网格的事", "李军"),
    ("转派 12 @李军，这是二网格的事。", N.TRANSFER, 12, "这是二网格的事。", "李军"),
    ("转派 12 给 @李军 处理", N.TRANSFER, 12, "给 处理", "李军"),
    ("退回 12 不属于本社区", N.RETURN, 12, "不属于本社区", None),
    ("承诺 12 11月30日", N.COMMIT, 12, "11月30日", None),
    ("我的", N.MY_QUEUE, None, "", None),
    ("我的 今天", N.MY_QUEUE, None, "今天", None),
    ("值班", N.ON_DUTY, None, "", None),
    ("换班 11月25日 @李军", N.SWAP, None, "11月25日", "李军"),
    ("换班 @李军 11月25日", N.SWAP, None, "11月25日", "李军"),
    ("换班 明天 @ 李军", N.SWAP, None, "明天", "李军"),
    ("换班 明天，@李军", N.SWAP, None, "明天", "李军"),
    ("换班 １１月２５日 ＠李军", N.SWAP, None, "１１月２５日", "李军"),
    ("查 12", N.SHOW, 12, "", None),
    ("查#12", N.SHOW, 12, "", None),
    ("查12", N.SHOW, 12, "", None),
    ("帮助", N.HELP, None, "", None),
    ("看板", N.BOARD, None, "", None),
    ("查询 12", N.QUERY, 12, "", None),
    ("查询#12", N.QUERY, 12, "", None),
    ("我的反映", N.MY_REPORTS, None, "", None),
    ("评价 12 满意", N.RATE, 12, "满意", None),
    ("评价 12 5分 谢谢", N.RATE, 12, "5分 谢谢", None),
    ("评价12不满意", N.RATE, 12, "不满意", None),
    ("评价 12 满意，谢谢", N.RATE, 12, "满意，谢谢", None),
    ("没修好 12", N.NOT_FIXED, 12, "", None),
    ("没修好 12 灯还是不亮", N.NOT_FIXED, 12, "灯还是不亮", None),
    ("撤销 12", N.WITHDRAW, 12, "", None),
    ("撤销 12 已自行解决", N.WITHDRAW, 12, "已自行解决", None),
    ("登记 P7", N.REGISTER, 7, "", None),
    ("登记P7 给排水", N.REGISTER, 7, "给排水", None),
    ("登记 ｐ７ 【给排水】", N.REGISTER, 7, "【给排水】", None),
    ("登记 7", N.REGISTER, 7, "", None),
    ("忽略 P12", N.IGNORE, 12, "", None),
    ("忽略P12", N.IGNORE, 12, "", None),
    ("通知 3号楼 停水，水箱清洗 至 15:00", N.NOTICE, None, "3号楼 停水，水箱清洗 至 15:00", None),
    ("通知 全部 明天9:00-12:00停电检修", N.NOTICE, None, "全部 明天9:00-12:00停电检修", None),
    ("通知3栋停水", N.NOTICE, None, "3栋停水", None),
    ("恢复 3", N.RESTORE, 3, "", None),
    ("恢复 #通知3 已恢复供水", N.RESTORE, 3, "已恢复供水", None),
    ("恢复通知３", N.RESTORE, 3, "", None),
    ("关联 12 3", N.LINK, 12, "3", None),
    ("关联＃１２ 通知3", N.LINK, 12, "通知3", None),
    ("派单 12", N.DISPATCH, 12, "", None),
    ("派单 12 物业", N.DISPATCH, 12, "物业", None),
    ("派单＃１２ 幸福里物业", N.DISPATCH, 12, "幸福里物业", None),
    ("改派 12 供水", N.REDISPATCH, 12, "供水", None),
    ("退单 12 不属于物业维修范围", N.UNIT_RETURN, 12, "不属于物业维修范围", None),
    ("退单12，是市政管网的问题", N.UNIT_RETURN, 12, "是市政管网的问题", None),
    ("上报 3号楼 井盖松动", N.PATROL, None, "3号楼 井盖松动", None),
    ("上报 自办 5号楼东侧路灯不亮", N.PATROL, None, "自办 5号楼东侧路灯不亮", None),
    ("公开 12", N.PUBLISH, 12, "", None),
    ("公开＃１２", N.PUBLISH, 12, "", None),
]


@pytest.mark.parametrize(("text", "name", "ticket", "argument", "mention"), VALID)
def test_valid_commands(text: str, name: CommandName, ticket: int | None, argument: str, mention: str | None) -> None:
    assert parse_command(text) == Command(name, ticket, argument, mention)


def test_every_command_word_has_a_valid_case() -> None:
    assert {case[1] for case in VALID} == set(CommandName)


@pytest.mark.parametrize(
    "text",
    [
        "接单 12",
        "接单 ＃１２",  # full-width hash and digits
        "接单　１２",  # ideographic space
        "接单  #12 ",
        "  接单 12",
        "接单\t12\n",
        "/接单 12",
        "／接单 12",  # full-width slash
        "/ 接单 12",
        "\u200b接单 12",  # zero-width space pasted by WeChat
    ],
)
def test_normalisation(text: str) -> None:
    assert parse_command(text) == Command(CommandName.ACCEPT, 12, "", None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "/",
        "帮助一下3号楼的老人",
        "我的快递被偷了",
        "办结了吗？",
        "查一下水表",
        "查询一下",
        "我的反映了三次了",
        "值班的是谁",
        "换班吧",
        "评价一下",
        "没修好啊",
        "撤销了吗",
        "接单了",
        "帮助？",  # punctuation after the word is chat, not a command
        "请接单 12",  # the word must come first
        "好的 接单 12",
        "查12号楼的水表",  # a number naming a place is not a ticket
        "查询 3栋的快递柜",
        "没修好 5单元的灯",
        "查 1201室",
        "登记一下3号楼的住户",
        "登记 3号楼的住户",
        "忽略了吧",
        "恢复供水了吗",
        "通知：明天停水",
        "关联一下",
    ],
)
def test_not_a_command(text: str) -> None:
    assert parse_command(text) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("查询 12", N.QUERY),
        ("查 12", N.SHOW),
        ("我的反映", N.MY_REPORTS),
        ("我的反映 12", N.MY_REPORTS),
        ("我的 反映", N.MY_QUEUE),
        ("我的", N.MY_QUEUE),
    ],
)
def test_longest_word_wins(text: str, name: CommandName) -> None:
    result = parse_command(text)
    assert isinstance(result, Command)
    assert result.name == name


ERRORS = [
    ("接单", N.ACCEPT, ProblemKind.MISSING_TICKET),
    ("查询", N.QUERY, ProblemKind.MISSING_TICKET),
    ("评价 ", N.RATE, ProblemKind.MISSING_TICKET),
    ("接单 0", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 #0", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 -3", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 12.5", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 1,2", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 11/30", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 #", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 十二", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 abc", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 99999999999", N.ACCEPT, ProblemKind.BAD_TICKET),
    ("接单 " + "9" * 5000, N.ACCEPT, ProblemKind.BAD_TICKET),  # more digits than int() converts
    ("查询 #" + "1" * 4301 + " 进度", N.QUERY, ProblemKind.BAD_TICKET),
    ("接单 " + "0" * 5000, N.ACCEPT, ProblemKind.BAD_TICKET),
    ("查 一下水表", N.SHOW, ProblemKind.BAD_TICKET),
    ("转派 @李军 12", N.TRANSFER, ProblemKind.BAD_TICKET),
    ("进度 12", N.PROGRESS, ProblemKind.MISSING_ARGUMENT),
    ("办结 12", N.RESOLVE, ProblemKind.MISSING_ARGUMENT),
    ("办结 12，", N.RESOLVE, ProblemKind.MISSING_ARGUMENT),
    ("退回 12", N.RETURN, ProblemKind.MISSING_ARGUMENT),
    ("承诺 12", N.COMMIT, ProblemKind.MISSING_ARGUMENT),
    ("改类 12", N.RECATEGORISE, ProblemKind.MISSING_ARGUMENT),
    ("改派 12", N.REDISPATCH, ProblemKind.MISSING_ARGUMENT),
    ("退单 12", N.UNIT_RETURN, ProblemKind.MISSING_ARGUMENT),
    ("派单", N.DISPATCH, ProblemKind.MISSING_TICKET),
    ("合并 13", N.MERGE, ProblemKind.MISSING_ARGUMENT),
    ("上报", N.PATROL, ProblemKind.MISSING_ARGUMENT),
    ("公开", N.PUBLISH, ProblemKind.MISSING_TICKET),
    ("评价 12", N.RATE, ProblemKind.MISSING_ARGUMENT),
    ("换班", N.SWAP, ProblemKind.MISSING_ARGUMENT),
    ("换班 @李军", N.SWAP, ProblemKind.MISSING_ARGUMENT),
    ("换班 @李军，", N.SWAP, ProblemKind.MISSING_ARGUMENT),
    ("评价 12 很满意", N.RATE, ProblemKind.BAD_RATING),
    ("评价 12 6", N.RATE, ProblemKind.BAD_RATING),
    ("评价 12 0分", N.RATE, ProblemKind.BAD_RATING),
    ("评价 12 55", N.RATE, ProblemKind.BAD_RATING),
    ("评价 12 五星", N.RATE, ProblemKind.BAD_RATING),
    ("评价 12 满意度一般", N.RATE, ProblemKind.BAD_RATING),
    ("转派 12", N.TRANSFER, ProblemKind.MISSING_MENTION),
    ("转派 12 李军", N.TRANSFER, ProblemKind.MISSING_MENTION),
    ("转派 12 @", N.TRANSFER, ProblemKind.MISSING_MENTION),
    ("换班 11月25日", N.SWAP, ProblemKind.MISSING_MENTION),
    ("转派 12 @李军 @王芳", N.TRANSFER, ProblemKind.EXTRA_MENTION),
    ("换班 11月25日 @李军 @王芳", N.SWAP, ProblemKind.EXTRA_MENTION),
    ("忽略", N.IGNORE, ProblemKind.MISSING_TICKET),
    ("登记 P", N.REGISTER, ProblemKind.BAD_TICKET),
    ("忽略 P0", N.IGNORE, ProblemKind.BAD_TICKET),
    ("通知", N.NOTICE, ProblemKind.MISSING_ARGUMENT),
    ("恢复", N.RESTORE, ProblemKind.MISSING_TICKET),
    ("恢复 通知", N.RESTORE, ProblemKind.BAD_TICKET),
    ("关联 12", N.LINK, ProblemKind.MISSING_ARGUMENT),
]


@pytest.mark.parametrize(("text", "name", "problem"), ERRORS)
def test_errors(text: str, name: CommandName, problem: ProblemKind) -> None:
    assert parse_command(text) == CommandError(name, problem, COMMANDS[name].usage)


def test_every_problem_kind_is_tested() -> None:
    assert {case[2] for case in ERRORS} == set(ProblemKind)


def test_spec_table() -> None:
    assert list(COMMANDS) == list(CommandName)
    for name, spec in COMMANDS.items():
        assert spec.word == name.value
        assert spec.usage.startswith(spec.word)
        assert spec.cadre_only == (name in CADRE_COMMANDS)
        # Partner units' members use 接单 进度 办结 on the tickets dispatched to them, and 退单 alone is theirs.
        assert spec.units == (name in UNIT_COMMANDS)
        assert spec.unit_only == (name is CommandName.UNIT_RETURN)
        # A command that needs a ticket says so in its usage line.
        assert ("编号" in spec.usage) == spec.ticket
        assert ("@某人" in spec.usage) == (spec.argument in (Argument.MENTION, Argument.DATE_AND_MENTION))


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        (N.ACCEPT, "接单 编号（例：接单 12）"),
        (N.PROGRESS, "进度 编号 说明（例：进度 12 已联系物业，明天上门）"),
        (N.TRANSFER, "转派 编号 @某人（例：转派 12 @李军）"),
        (N.COMMIT, "承诺 编号 日期（例：承诺 12 11月30日）"),
        (N.SWAP, "换班 日期 @某人（例：换班 11月25日 @李军）"),
        (N.RATE, "评价 编号 满意/基本满意/不满意（或 1-5 分）"),
    ],
)
def test_usage(name: CommandName, usage: str) -> None:
    assert COMMANDS[name].usage == usage


@pytest.mark.parametrize("name", [name for name, spec in COMMANDS.items() if "例：" in spec.usage])
def test_usage_examples_parse(name: CommandName) -> None:
    """The example in a usage line is itself a valid command."""
    result = parse_command(COMMANDS[name].usage.split("例：", 1)[1].removesuffix("）"))
    assert isinstance(result, Command)
    assert result.name == name


@pytest.mark.parametrize(
    ("argument", "rating"),
    [
        ("满意", Rating.SATISFIED),
        ("基本满意", Rating.BASICALLY),
        ("不满意", Rating.DISSATISFIED),
        ("5", Rating.SATISFIED),
        ("5分", Rating.SATISFIED),
        ("４分", Rating.SATISFIED),
        ("4", Rating.SATISFIED),
        ("3", Rating.BASICALLY),
        ("3分", Rating.BASICALLY),
        ("2", Rating.DISSATISFIED),
        ("1分", Rating.DISSATISFIED),
        ("1", Rating.DISSATISFIED),
        ("满意 谢谢你们", Rating.SATISFIED),
        ("不满意，还是漏水", Rating.DISSATISFIED),
        ("5分!", Rating.SATISFIED),
        (" 基本满意 ", Rating.BASICALLY),
    ],
)
def test_rating_value(argument: str, rating: Rating) -> None:
    assert rating_value(argument) == rating


def test_rating_of_parsed_command() -> None:
    result = parse_command("评价 #12 基本满意，师傅来得有点晚")
    assert isinstance(result, Command)
    assert rating_value(result.argument) == Rating.BASICALLY


@pytest.mark.parametrize("argument", ["", "很满意", "6", "0", "12", "五星", "满意度", "5分钟"])
def test_rating_value_rejects(argument: str) -> None:
    with pytest.raises(ValueError):
        rating_value(argument)


def _group_chat_texts() -> list[str]:
    found = []
    for path in sorted((Path(__file__).parent / "data").glob("groupchat*.csv")):
        with path.open(encoding="utf-8") as file:
            found += [row["text"] for row in csv.DictReader(file)]
    return found


_PREFIXES = ("", " ", "\u3000", "\u200b", "\u200b \ufeff", "/", "／", "/ ", "／\u3000", " /\u200b ")


def _command_like_texts() -> list[str]:
    """Every command word and usage example, alone and after each way a message may start before it."""
    bodies = [*CommandName, *(spec.usage.split("例：", 1)[1].removesuffix("）") for spec in COMMANDS.values()
                              if "例：" in spec.usage)]  # fmt: skip
    return [prefix + body + suffix for prefix in _PREFIXES for body in bodies for suffix in ("", " 12", "１２")]


def test_the_quick_look_passes_every_message_a_full_parse_reads_as_a_command() -> None:
    """`parse_command` reads only the head of a message before normalising it whole: it must never turn away one
    that the full parse (`_parse`) takes for a command or a command error, whatever leads it."""
    texts = _group_chat_texts() + _command_like_texts()
    parsed = [text for text in texts if _parse(_Message(text)) is not None]
    assert len(parsed) >= len(_command_like_texts()) // 2
    assert [text for text in parsed if not _may_be_command(text)] == []
    assert all(parse_command(text) == _parse(_Message(text)) for text in texts)


def test_the_quick_look_turns_away_most_chat() -> None:
    chat = _group_chat_texts()
    assert sum(not _may_be_command(text) for text in chat) > 0.8 * len(chat)
