"""The text commands cadres and residents type in the group, and their parser.

`COMMANDS` is the single table of command words: what each one takes and the usage line shown
to users. `parse_command` turns one chat message into a `Command`, a `CommandError` (the text is
a command but is missing something; reply with its usage) or `None` (ordinary chat; stay quiet).

A message is a command only when it starts with a command word followed by the end of the text,
whitespace, `#` or a digit (or `P`, for the triage commands 登记 P7 and 忽略 P7). Chat such as
我的快递被偷了 or 查一下水表 therefore never triggers the bot, while 接单12, 查询#12 and 接单 ＃１２ do.

The parser only reads text. Who may use a command (`CommandSpec.cadre_only`), whether the ticket
exists and what a date argument means (`ledger.dates.parse_day`) are the caller's business.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice


class CommandName(StrEnum):
    # Cadre commands (帮助 is open to everyone: see COMMANDS).
    ACCEPT = "接单"
    PROGRESS = "进度"
    RESOLVE = "办结"
    TRANSFER = "转派"
    RETURN = "退回"
    COMMIT = "承诺"
    MY_QUEUE = "我的"
    ON_DUTY = "值班"
    SWAP = "换班"
    SHOW = "查"
    BOARD = "看板"
    AGENDA = "议题"
    MARK_AGENDA = "立项"
    RECATEGORISE = "改类"
    MERGE = "合并"
    REGISTER = "登记"  # a triage item (P7): open its ticket
    IGNORE = "忽略"  # a triage item: no problem, nothing is said
    NOTICE = "通知"  # announce a known incident (停水 …) to the groups of its range
    RESTORE = "恢复"  # end a notice's incident (恢复 3): its reporters are told
    LINK = "关联"  # attach an open ticket's reporters to a notice and close the ticket
    DISPATCH = "派单"  # send a ticket to a partner unit (config `units:`); the cadre stays responsible
    REDISPATCH = "改派"  # send a dispatched ticket to another unit
    UNIT_RETURN = "退单"  # a unit member hands a dispatched ticket back to the cadre
    PATROL = "上报"  # a cadre's own finding on the rounds (巡查上报 / 随手拍): 上报 [自办] 地点 问题
    PUBLISH = "公开"  # post a patrol finding once to the residents' group(s) of its grid
    HELP = "帮助"
    # Resident commands.
    QUERY = "查询"
    MY_REPORTS = "我的反映"
    RATE = "评价"
    NOT_FIXED = "没修好"
    WITHDRAW = "撤销"


class Argument(StrEnum):
    """What a command takes after its word and ticket number.

    NONE and OPTIONAL parse the same way: whatever text follows is kept in `Command.argument`.
    NONE says callers ignore it (so 接单 12 好的 still works); OPTIONAL says they use it if present.
    """

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"
    MENTION = "mention"  # exactly one @person; any other text is kept as a note
    DATE_AND_MENTION = "date_and_mention"  # a date (left unparsed in `argument`) and one @person
    RATING = "rating"  # a rating (see `rating_value`) optionally followed by a comment


@dataclass(frozen=True)
class CommandSpec:
    word: str
    ticket: bool  # needs a ticket number right after the word
    argument: Argument
    cadre_only: bool
    usage: str  # the syntax shown to users
    triage: bool = False  # the number is a triage item's, written P7 (the P may be left out)
    units: bool = False  # a partner unit's member may use it too, on tickets dispatched to the unit (接单 进度 办结)
    unit_only: bool = False  # only a partner unit's member may use it (退单); refused to cadres and residents
    notice: bool = False  # the number is a notice's, written 3, #3 or 通知3 / #通知3
    others_report: bool = False  # from anyone but a cadre the words are no command but a report (上报 3号楼…)


COMMANDS: dict[CommandName, CommandSpec] = {
    CommandName.ACCEPT: CommandSpec(
        word="接单",
        ticket=True,
        argument=Argument.NONE,
        cadre_only=True,
        units=True,
        usage="接单 编号（例：接单 12）",
    ),
    CommandName.PROGRESS: CommandSpec(
        word="进度",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        units=True,
        usage="进度 编号 说明（例：进度 12 已联系物业，明天上门）",
    ),
    CommandName.RESOLVE: CommandSpec(
        word="办结",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        units=True,
        usage="办结 编号 处理结果（例：办结 12 已更换楼道灯）",
    ),
    CommandName.TRANSFER: CommandSpec(
        word="转派",
        ticket=True,
        argument=Argument.MENTION,
        cadre_only=True,
        usage="转派 编号 @某人（例：转派 12 @李军）",
    ),
    CommandName.RETURN: CommandSpec(
        word="退回",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage="退回 编号 原因（例：退回 12 不属于本社区）",
    ),
    CommandName.COMMIT: CommandSpec(
        word="承诺",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage="承诺 编号 日期（例：承诺 12 11月30日）",
    ),
    CommandName.MY_QUEUE: CommandSpec(
        word="我的",
        ticket=False,
        argument=Argument.NONE,
        cadre_only=True,
        usage="我的（查看我手上的问题）",
    ),
    CommandName.ON_DUTY: CommandSpec(
        word="值班",
        ticket=False,
        argument=Argument.NONE,
        cadre_only=True,
        usage="值班（查看现在谁值班）",
    ),
    CommandName.SWAP: CommandSpec(
        word="换班",
        ticket=False,
        argument=Argument.DATE_AND_MENTION,
        cadre_only=True,
        usage="换班 日期 @某人（例：换班 11月25日 @李军）",
    ),
    CommandName.SHOW: CommandSpec(
        word="查",
        ticket=True,
        argument=Argument.NONE,
        cadre_only=True,
        usage="查 编号（例：查 12）",
    ),
    CommandName.BOARD: CommandSpec(
        word="看板",
        ticket=False,
        argument=Argument.NONE,
        cadre_only=True,
        usage="看板（私聊发送，获取带实名的进度看板链接）",
    ),
    CommandName.AGENDA: CommandSpec(
        word="议题",
        ticket=False,
        argument=Argument.NONE,
        cadre_only=True,
        usage="议题（查看议事会的候选议题）",
    ),
    CommandName.MARK_AGENDA: CommandSpec(
        word="立项",
        ticket=True,
        argument=Argument.NONE,
        cadre_only=True,
        usage="立项 编号（列为议事议题，例：立项 12）",
    ),
    CommandName.RECATEGORISE: CommandSpec(
        word="改类",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage="改类 编号 类别（例：改类 12 给排水）",
    ),
    CommandName.MERGE: CommandSpec(
        word="合并",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage="合并 编号 并入编号（例：合并 13 1，把重复的 #13 并入 #1）",
    ),
    CommandName.REGISTER: CommandSpec(
        word="登记",
        ticket=True,
        argument=Argument.OPTIONAL,
        cadre_only=True,
        usage="登记 P编号 类别（类别可不写，例：登记 P7 或 登记 P7 给排水）",
        triage=True,
    ),
    CommandName.IGNORE: CommandSpec(
        word="忽略",
        ticket=True,
        argument=Argument.NONE,
        cadre_only=True,
        usage="忽略 P编号（不是问题，不登记，例：忽略 P7）",
        triage=True,
    ),
    CommandName.NOTICE: CommandSpec(
        word="通知",
        ticket=False,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage=(
            "通知 范围 内容 至 时间（范围：3号楼、第一网格或全部；“至 时间”可不写，"
            "例：通知 3号楼 停水，水箱清洗 至 15:00）"
        ),
    ),
    CommandName.RESTORE: CommandSpec(
        word="恢复",
        ticket=True,
        argument=Argument.OPTIONAL,
        cadre_only=True,
        usage="恢复 通知编号 说明（说明可不写，例：恢复 3 已恢复供水）",
        notice=True,
    ),
    CommandName.LINK: CommandSpec(
        word="关联",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage="关联 编号 通知编号（问题并入通知，例：关联 12 3）",
    ),
    CommandName.DISPATCH: CommandSpec(
        word="派单",
        ticket=True,
        argument=Argument.OPTIONAL,
        cadre_only=True,
        usage="派单 编号 单位（单位可不写，按类别的默认单位；例：派单 12 物业）",
    ),
    CommandName.REDISPATCH: CommandSpec(
        word="改派",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        usage="改派 编号 单位（例：改派 12 供水）",
    ),
    CommandName.UNIT_RETURN: CommandSpec(
        word="退单",
        ticket=True,
        argument=Argument.REQUIRED,
        cadre_only=True,
        units=True,
        unit_only=True,
        usage="退单 编号 原因（合作单位用，例：退单 12 不属于物业维修范围）",
    ),
    CommandName.PATROL: CommandSpec(
        word="上报",
        ticket=False,
        argument=Argument.REQUIRED,
        cadre_only=True,
        others_report=True,
        usage="上报 地点 问题（自己办理写 上报 自办 地点 问题；例：上报 3号楼 井盖松动）",
    ),
    CommandName.PUBLISH: CommandSpec(
        word="公开",
        ticket=True,
        argument=Argument.NONE,
        cadre_only=True,
        usage="公开 编号（巡查发现的事项发到居民群，例：公开 12）",
    ),
    # Everyone may ask for help; the reply lists the commands the asker may use.
    CommandName.HELP: CommandSpec(
        word="帮助",
        ticket=False,
        argument=Argument.NONE,
        cadre_only=False,
        usage="帮助（查看可用的命令）",
    ),
    CommandName.QUERY: CommandSpec(
        word="查询",
        ticket=True,
        argument=Argument.NONE,
        cadre_only=False,
        usage="查询 编号（例：查询 12）",
    ),
    CommandName.MY_REPORTS: CommandSpec(
        word="我的反映",
        ticket=False,
        argument=Argument.NONE,
        cadre_only=False,
        usage="我的反映（查看我反映过的问题）",
    ),
    CommandName.RATE: CommandSpec(
        word="评价",
        ticket=True,
        argument=Argument.RATING,
        cadre_only=False,
        usage="评价 编号 满意/基本满意/不满意（或 1-5 分）",
    ),
    CommandName.NOT_FIXED: CommandSpec(
        word="没修好",
        ticket=True,
        argument=Argument.OPTIONAL,
        cadre_only=False,
        usage="没修好 编号 情况（可不写，例：没修好 12 灯还是不亮）",
    ),
    CommandName.WITHDRAW: CommandSpec(
        word="撤销",
        ticket=True,
        argument=Argument.OPTIONAL,
        cadre_only=False,
        usage="撤销 编号 原因（可不写，例：撤销 12 已自行解决）",
    ),
}


class ProblemKind(StrEnum):
    MISSING_TICKET = "missing_ticket"
    BAD_TICKET = "bad_ticket"  # not a positive whole number, e.g. 0, -3, 12.5, 十二
    MISSING_ARGUMENT = "missing_argument"  # REQUIRED text, the date of 换班 or the rating of 评价
    BAD_RATING = "bad_rating"
    MISSING_MENTION = "missing_mention"
    EXTRA_MENTION = "extra_mention"  # more than one @person where one is expected


@dataclass(frozen=True)
class Command:
    """A parsed command. `argument` is the text after the ticket number as the user typed it (only
    whitespace collapsed), with the mention taken out; for 评价 it starts with the rating (read it
    with `rating_value`)."""

    name: CommandName
    ticket: int | None
    argument: str
    mention: str | None  # the name after @, without the @


@dataclass(frozen=True)
class CommandError:
    name: CommandName
    problem: ProblemKind
    usage: str


class Rating(StrEnum):
    SATISFIED = "满意"
    BASICALLY = "基本满意"
    DISSATISFIED = "不满意"


_SCORES = {
    "5": Rating.SATISFIED,
    "4": Rating.SATISFIED,
    "3": Rating.BASICALLY,
    "2": Rating.DISSATISFIED,
    "1": Rating.DISSATISFIED,
}

# Longest first, so 查询 is tried before 查 and 我的反映 before 我的.
_BY_LENGTH = sorted(CommandName, key=len, reverse=True)

# WeChat pastes these invisibly around mentions; NFKC keeps them and str.split() does not see them.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_DROP_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))

# Largest ticket number: tickets are stored in a 32-bit integer column, and a longer number is a typo.
MAX_TICKET = 2**31 - 1

# A ticket number may run straight into the text (进度12已联系物业) but not into a decimal, list or date.
_TICKET = re.compile(r"#? ?([0-9]+)(?![0-9]|[.,/:-][0-9])")

# A triage item's number: P7 (also p7, P 7, #7 or 7).
_TRIAGE_NUMBER = re.compile(r"(?:[Pp#] ?)?([0-9]+)(?![0-9]|[.,/:-][0-9])")

# A notice's number: 3, #3, 通知3 or #通知3.
_NOTICE_NUMBER = re.compile(r"(?:#? ?通知 ?)?#? ?([0-9]+)(?![0-9]|[.,/:-][0-9])")

# A number followed by these names a place, not a ticket: 查12号楼的水表 is a question, not 查 #12.
_PLACE_SUFFIXES = ("号", "楼", "栋", "幢", "单元", "室", "层")

# Separators people put between the ticket number or a mention and the text (办结 12，已修好), after NFKC.
_SEPARATORS = " ,.:;、。"

_NAME_STOP = r"\s@,.;:!?。、"
_MENTION = re.compile(rf"@ ?([^{_NAME_STOP}]+)")

_RATING = re.compile(r"(?:(?P<word>基本满意|不满意|满意)|(?P<score>[1-5])分?)(?=$|[\s,.;:!?。、~])")


class _Message:
    """A message normalised for parsing that remembers where each character came from.

    The command word, ticket number and mention are read from `text`: NFKC-normalised one character
    at a time, whitespace collapsed, invisible characters dropped. Free text is handed back as the
    user typed it, so a note such as 已联系物业，明天上门 keeps its full-width comma.
    """

    def __init__(self, original: str) -> None:
        self.original = original
        chars: list[str] = []
        self.origin: list[int] = []  # index in `original` of each character of `text`
        for index, char in _normalised(original):
            chars.append(char)
            self.origin.append(index)
        if chars and chars[-1] == " ":
            chars.pop()
            self.origin.pop()
        self.text = "".join(chars)

    def skip_separators(self, position: int) -> int:
        while position < len(self.text) and self.text[position] in _SEPARATORS:
            position += 1
        return position

    def free_text(self, start: int, end: int) -> str:
        """What the user typed for `text[start:end]`, whitespace collapsed."""
        if start >= end:
            return ""
        typed = self.original[self.origin[start] : self.origin[end - 1] + 1]
        return " ".join(typed.translate(_DROP_INVISIBLE).split())


def _normalised(original: str) -> Iterator[tuple[int, str]]:
    """`original` as commands are read, one character at a time with its index in `original`: NFKC-normalised,
    invisible characters dropped, each run of whitespace one space, none leading (a trailing one is left)."""
    last = " "
    for index, char in enumerate(original):
        for piece in unicodedata.normalize("NFKC", char):
            if piece in _INVISIBLE or (piece.isspace() and last == " "):
                continue
            last = " " if piece.isspace() else piece
            yield index, last


_FIRST_CHARACTERS = frozenset(name[0] for name in CommandName)


def _may_be_command(text: str) -> bool:
    """Whether `text` starts, as `parse_command` reads it, with a character some command word starts with: most
    group messages are chat, and this reads no more than their first three characters."""
    head = "".join(char for _, char in islice(_normalised(text), 3))
    if head.startswith("/"):
        head = head[2:] if head.startswith("/ ") else head[1:]
    return head[:1] in _FIRST_CHARACTERS


def parse_command(text: str) -> Command | CommandError | None:
    """Parse one chat message, with mentions of the bot already removed by the caller.

    Full-width characters (＃１２, ／, ideographic space) are normalised and runs of whitespace
    collapsed; a leading `/` is tolerated.
    """
    return _parse(_Message(text)) if _may_be_command(text) else None


def _parse(message: _Message) -> Command | CommandError | None:
    start = 0
    if message.text.startswith("/"):
        start = 2 if message.text.startswith("/ ") else 1
    for name in _BY_LENGTH:
        end = start + len(name)
        spec = COMMANDS[name]
        follows = " #0123456789" + ("Pp" if spec.triage else "通" if spec.notice else "")
        if message.text.startswith(name, start) and (end == len(message.text) or message.text[end] in follows):
            return _parse_rest(message, name, end)
    return None


def _parse_rest(message: _Message, name: CommandName, position: int) -> Command | CommandError | None:
    spec = COMMANDS[name]
    text = message.text

    def error(problem: ProblemKind) -> CommandError:
        return CommandError(name, problem, spec.usage)

    if text.startswith(" ", position):
        position += 1
    ticket = None
    if spec.ticket:
        if position == len(text):
            return error(ProblemKind.MISSING_TICKET)
        match = (_TRIAGE_NUMBER if spec.triage else _NOTICE_NUMBER if spec.notice else _TICKET).match(text, position)
        if match and text.startswith(_PLACE_SUFFIXES, match.end()):
            return None
        ticket = _ticket_number(match[1]) if match else None
        if ticket is None:
            return error(ProblemKind.BAD_TICKET)
        position = message.skip_separators(match.end())

    mention = None
    if spec.argument in (Argument.MENTION, Argument.DATE_AND_MENTION):
        mentions = list(_MENTION.finditer(text, position))
        if len(mentions) > 1:
            return error(ProblemKind.EXTRA_MENTION)
        argument = message.free_text(position, len(text))
        if mentions:
            found = mentions[0]
            mention = found[1]
            before_end = position + len(text[position : found.start()].rstrip(_SEPARATORS))
            parts = (
                message.free_text(position, before_end),
                message.free_text(message.skip_separators(found.end()), len(text)),
            )
            argument = " ".join(part for part in parts if part)
        if spec.argument is Argument.DATE_AND_MENTION and not argument:
            return error(ProblemKind.MISSING_ARGUMENT)
        if mention is None:
            return error(ProblemKind.MISSING_MENTION)
    else:
        argument = message.free_text(position, len(text))
        if spec.argument in (Argument.REQUIRED, Argument.RATING) and not argument:
            return error(ProblemKind.MISSING_ARGUMENT)
        if spec.argument is Argument.RATING and not _RATING.match(text, position):
            return error(ProblemKind.BAD_RATING)

    return Command(name, ticket, argument, mention)


def _ticket_number(digits: str) -> int | None:
    """The ticket number `digits` spell, or None outside 1 to MAX_TICKET.

    Too many digits are refused before `int()`, which raises ValueError beyond 4,300 of them."""
    significant = digits.lstrip("0")
    if not significant or len(significant) > len(str(MAX_TICKET)):
        return None
    number = int(significant)
    return number if number <= MAX_TICKET else None


def rating_value(argument: str) -> Rating:
    """The rating at the start of a 评价 argument: a word, or a score 1-5 (`5` or `5分`).

    Scores map 5 and 4 to 满意, 3 to 基本满意, 2 and 1 to 不满意. Raises ValueError when the
    argument does not start with a rating; `parse_command` never returns such a 评价 command.
    """
    match = _RATING.match(unicodedata.normalize("NFKC", argument).strip())
    if not match:
        raise ValueError(f"{argument!r} is not a rating")
    return Rating(match["word"]) if match["word"] else _SCORES[match["score"]]
