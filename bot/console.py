"""The console transport: a community's group chats simulated in the terminal.

Lines are what people type, plus a few switches (like Errbot's text backend):
  /群 1-3号楼业主群          speak in this group from now on
  /我是 张阿姨               speak as this person from now on
  /私聊                      speak to the bot in private from now on
  /值班                      who is on duty now (the clock decides: the real one, or the replay's)
  [1-3号楼业主群] 张阿姨: …  a one-shot line in a group;  [私聊] 王芳: …  a one-shot private line
  @time 2026-11-23 09:00     set the clock (replay and tests)
  @redeliver                 deliver the previous message again, with the same id
  # …                        a comment
Anything else is a message from the current speaker in the current chat.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.app import Huiyin
from bot.outbox import OutboxSender, shown_text
from handlers.cadre import duty_lines
from jobs.runner import JobRunner
from ledger.clock import Clock, ManualClock
from ledger.messages import Incoming, MessageKind, Outgoing
from ledger.wording import format_time
from settings.models import Settings
from storage.db import new_session
from storage.directory import swaps

BOT_NAME = "回音"
PRIVATE = "私聊"
_ONE_SHOT = re.compile(r"^\[(?P<chat>[^\]]+)\]\s*(?P<speaker>[^:：]+?)\s*[:：]\s?(?P<text>.*)$")
_PLACEHOLDERS = {"[图片]": MessageKind.IMAGE, "[语音]": MessageKind.VOICE, "[表情]": MessageKind.OTHER}

REDELIVERED = "（上一条消息被重复投递）"
ON_DUTY = "（按当前时间 {time}，值班的是：{duty}。以干部身份办理：/我是 名字）"
HELP = """在群里说话：直接输入文字。切换：/群 群名   /我是 名字   /私聊   /值班   /帮助   /退出
单行指定：[群名] 名字: 内容   或   [私聊] 名字: 内容
当前可用的群：{groups}"""


def lenient_stdin() -> None:
    """Decode what is typed leniently: a byte that is not UTF-8 (a GBK paste, a misconfigured terminal)
    becomes U+FFFD instead of ending the chat with a UnicodeDecodeError."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")


class ConsoleTransport:
    """Prints each reply the way the chat would show it; a forward as `[转发图片]` (there is no photo to show)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def send(self, outgoing: Outgoing) -> None:
        where = f"{PRIVATE}→{outgoing.chat_name or outgoing.chat_id}" if outgoing.is_private else outgoing.chat_name
        self.write(format_line(where or outgoing.chat_id, BOT_NAME, shown_text(outgoing)))


def format_line(chat: str, speaker: str, text: str) -> str:
    """`[chat] speaker: text`, continuation lines indented so a transcript stays readable."""
    first, *rest = text.split("\n")
    return "\n".join([f"[{chat}] {speaker}: {first}", *(f"    {line}" if line else "" for line in rest)])


@dataclass
class Speaker:
    chat: str
    name: str


class ConsoleSession:
    """Turns typed lines into `Incoming` messages, hands them to the app and drains the outbox."""

    def __init__(
        self, settings: Settings, app: Huiyin, sender: OutboxSender, clock: Clock, write: Callable[[str], None],
        *, echo: bool = False, id_prefix: str = "console", jobs: JobRunner | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = jobs  # when given, `@time` runs the jobs due before the new time, in time order
        self.jobs_since: dt.datetime | None = None
        self.app = app
        self.sender = sender
        self.clock = clock
        self.write = write
        self.echo = echo
        self.id_prefix = id_prefix
        first_group = settings.groups[0].name if settings.groups else PRIVATE
        self.current = Speaker(first_group, "居民")
        self.count = 0
        self.last: Incoming | None = None

    def feed(self, lines: Iterable[str]) -> None:
        for line in lines:
            if self.feed_line(line.rstrip("\n")) is False:
                return

    def interact(self) -> int:
        """Read what the person at the terminal types, line by line, until /退出 or end of input; 0."""
        while True:
            try:
                line = input(f"[{self.current.chat}] {self.current.name}> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if self.feed_line(line) is False:
                return 0

    def feed_line(self, line: str) -> bool:
        """Handle one line; False when the user asked to quit."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return True
        if stripped.startswith("@time"):
            self._set_time(stripped.removeprefix("@time").strip())
        elif stripped == "@redeliver":
            if self.last is not None:
                if self.echo:
                    self.write(REDELIVERED)
                self._deliver(self.last)
        elif stripped.startswith("/"):
            return self._switch(stripped)
        elif match := _ONE_SHOT.match(stripped):
            self._say(Speaker(match["chat"].strip(), match["speaker"].strip()), match["text"])
        else:
            self._say(self.current, stripped)
        return True

    def _switch(self, line: str) -> bool:
        word, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if word in ("退出", "quit", "exit"):
            return False
        if word == "群" and rest:
            self.current = Speaker(rest, self.current.name)
        elif word == "我是" and rest:
            self.current = Speaker(self.current.chat, rest)
        elif word == PRIVATE:
            self.current = Speaker(PRIVATE, self.current.name)
        elif word == "值班":
            self.show_on_duty()
            return True
        else:
            self.write(HELP.format(groups="、".join(g.name for g in self.settings.groups)))
            return True
        self.write(f"（现在以 {self.current.name} 的身份在 {self.current.chat} 说话）")
        return True

    def show_on_duty(self) -> None:
        """Say who is on duty now: on the console the clock decides, and a cadre may act only on some tickets."""
        now = self.clock.now().astimezone(self.settings.tz)
        with new_session(self.app.engine, self.settings.community.id) as session:
            overrides = swaps(session, since=now.date() - dt.timedelta(days=1))
        duty = "；".join(duty_lines(self.settings, [g.id for g in self.settings.grids], now, overrides))
        self.write(ON_DUTY.format(time=format_time(now, self.settings.tz), duty=duty))

    def _set_time(self, text: str) -> None:
        if not isinstance(self.clock, ManualClock):
            self.write("（只有回放模式可以设置时间）")
            return
        try:
            naive = dt.datetime.fromisoformat(text)
        except ValueError:
            self.write(f"（时间格式应为 2026-11-23 09:00，收到：{text}）")
            return
        instant = naive if naive.tzinfo else naive.replace(tzinfo=self.settings.tz)
        if self.jobs is not None and self.jobs_since is not None and instant > self.jobs_since:
            self.jobs.run_until(self.clock, self.jobs_since, instant, self.sender.drain)
        self.clock.set(instant)
        self.jobs_since = instant

    def _say(self, speaker: Speaker, text: str) -> None:
        if isinstance(self.clock, ManualClock):
            self.clock.advance(dt.timedelta(seconds=1))
        self.count += 1
        incoming = self.incoming(speaker, text, f"{self.id_prefix}-{self.count}")
        if self.echo:
            self.write(format_line(speaker.chat if speaker.chat != PRIVATE else PRIVATE, speaker.name, text))
        self.last = incoming
        self._deliver(incoming)

    def _deliver(self, incoming: Incoming) -> None:
        self.app.handle(incoming)
        self.sender.drain()

    def incoming(self, speaker: Speaker, text: str, message_id: str) -> Incoming:
        """The message as a real transport would hand it in; cadres and partner units' members are known by
        their configured chat id, and a leading `@回音` (the configured bot name) addresses the bot as WeChat's
        `mention_self` would."""
        cadre = self.settings.cadre_by_name(speaker.name)
        partner = None if cadre else self.settings.unit_member_by_name(speaker.name)  # a partner unit's member
        sender_id = cadre.chat_id if cadre else partner.chat_id if partner else f"resident:{speaker.name}"
        private = speaker.chat == PRIVATE
        group = None if private else self.settings.group(speaker.chat, speaker.chat)
        chat_id = sender_id if private else (group.id or group.name) if group else speaker.chat
        mentions = tuple(
            c.chat_id for c in self.settings.cadres if f"@{c.name}" in text or any(f"@{a}" in text for a in c.aliases)
        )
        addressed = unicodedata.normalize("NFKC", text).lstrip().startswith(f"@{self.settings.community.bot_name}")
        return Incoming(
            message_id=message_id, chat_id=chat_id, chat_name=speaker.name if private else speaker.chat,
            sender_id=sender_id, sender_name=speaker.name, text=text, timestamp=self.clock.now(),
            kind=_PLACEHOLDERS.get(text.strip(), MessageKind.TEXT), mentions=mentions, is_private=private,
            addressed=addressed,
        )
