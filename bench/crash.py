"""Crash consistency: replay generated chat through the loopback gateway into the bot while SIGKILLing it.

    .venv/bin/python bench/crash.py [--database sqlite|postgresql|both] [--messages 2000] [--kills 25]
                                    [--seed 1] [--uptime 2.0] [--json] [--keep]

For each database: a fresh SQLite file, or a fresh PostgreSQL database (`--postgres-url` names the
server, default `$HUIYIN_TEST_DATABASE_URL` or postgresql://postgres@127.0.0.1:5432/test; the database
is created and dropped). `huiyin gateway` runs as one process and `huiyin run --transport wechaty` as
another, both on a copy of config.yaml whose `outbound:` limits are relaxed so replies go out at once.
A thread injects `--messages` generated resident and cadre messages through `POST /messages` at a steady
rate (reports in the buildings of each group, chatter, photos, service questions, `接单 N`, `进度 N …`,
`办结 N 已修好`, `评价 N 满意`, `没修好 N`, `查询 N`), while the main thread starts the bot and SIGKILLs it
`--kills` times at random moments: a quarter of the kills fall in the start-up (schema, jieba, connecting),
the rest at a random time after the bot's event stream opened. Then the bot runs once more without a kill
until the inbound table, the outbox and the gateway's sent list stay still, and is stopped.

A ticket number in a command is looked up when the message is injected — the ticket that lists the
referenced report's resident as a reporter, and its assignee as the cadre who speaks — so kills that shift
the numbering (PostgreSQL sequences do not roll back) do not turn the cadres' work into errors. The
crash-free reference is the same message list handled by `bot.app.Huiyin` on an in-memory ledger, with
the same look-ups; it says which report-like messages become (or join) a ticket.

The figures (definitions in bench/crash_accounting.py): injected, kills, inbound missing, tickets lost
(not received / recorded without a ticket), tickets doubled, replies lost, replies sent twice (rows /
gateway messages), event/ticket mismatches. The hardening target: lost 0, replies sent twice at most one
message per kill.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.crash_accounting import (  # noqa: E402
    Injected,
    OutboxRow,
    ReplyCounts,
    SentMessage,
    TicketCounts,
    count_mismatches,
    count_replies,
    count_tickets,
)

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
RELAXED_OUTBOUND = (
    "outbound:\n  group_interval_seconds: 0.05\n  per_minute: 1000000\n  daily_cap: 1000000\n  merge_max: 10\n"
)
STARTUP_KILL_SHARE = 0.25
RESTART_SECONDS = 1.5
"""About how long the bot takes from its start to an open event stream (used only to pace the injection)."""
CADRE_NAMES = ("王芳", "李军", "赵敏", "陈洁")
SECRETARY = "陈洁"
ROOMS = {  # residents' groups → the buildings residents there write about
    "1-3号楼业主群": (1, 2, 3),
    "4-6号楼业主群": (4, 5, 6),
    "幸福里社区居民群": (1, 2, 3, 4, 5, 6),
}
REPORTS = (
    "{b}号楼{u}单元{r}室门口下水道堵了，一楼都返水了",
    "{b}号楼{u}单元楼道灯不亮好几天了，晚上{r}室老人摸黑上楼",
    "{b}号楼{u}单元电梯又坏了，停在{f}楼不动",
    "{b}号楼{u}单元门口垃圾桶满出来了，臭气熏天没人管",
    "{b}号楼{u}单元楼道里有人飞线充电，电线从{f}楼窗户拉下来",
    "{b}号楼{u}单元{r}室天天晚上装修电钻噪音扰民",
    "{b}号楼前面的树枝断了挂在半空，就在{u}单元门口",
    "{b}号楼{u}单元{r}室楼上漏水，天花板都泡了",
    "{b}号楼{u}单元消防通道被电动车堵死了",
    "{b}号楼{u}单元单元门门禁坏了，{f}楼住户刷不开",
    "{b}号楼{u}单元{r}室门口的井盖松动了，踩上去哐哐响",
    "{b}号楼{u}单元有人高空抛物，{f}楼往下扔东西",
)
CHATTER = (
    "大家早上好", "谢谢王书记", "收到", "好的好的", "辛苦了", "欢迎新邻居", "今天天气真好", "哈哈哈",
    "👍", "晚安", "我也是", "明天见", "谢谢大家", "有人一起去买菜吗", "中午吃什么",
)  # fmt: skip
INQUIRIES = ("请问低保怎么申请", "请问居住证在哪里办", "请问物业电话多少", "医保卡丢了能补办吗")
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯秀梅春燕海燕"


# ---------------------------------------------------------------------------------------------- script


@dataclass
class Planned:
    """One message to inject. `template` may hold `{n}`, the ticket of the report at index `ref`."""

    index: int
    message_id: str
    kind: str
    sender: str
    room: str | None
    template: str
    ref: int | None = None
    cadre: bool = False
    image: bool = False
    fallback: tuple[int, str] | None = None
    """(ticket number, cadre name) the reference run resolved, used when the ledger cannot say yet."""


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """`count` new two- or three-character names (a surname and given name), none of them a cadre's."""
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in taken and name not in CADRE_NAMES:
            taken.add(name)
            names.append(name)
    return names


def generate(seed: int, count: int) -> list[Planned]:
    """A deterministic chat of `count` messages: reports (each from its own resident) and what follows them."""
    rng = random.Random(seed)
    taken: set[str] = set()
    chatter_people = _names(rng, 40, taken)
    reporters = iter(_names(rng, count, taken))
    follow_ups: list[tuple[int, int, Planned]] = []  # (due index, tie-break, message)
    tie = 0
    script: list[Planned] = []

    def later(due: int, planned: Planned) -> None:
        nonlocal tie
        tie += 1
        heapq.heappush(follow_ups, (due, tie, planned))

    while len(script) < count:
        index = len(script)
        message_id = f"crash-{seed}-{index:05d}"
        if follow_ups and follow_ups[0][0] <= index:
            _, _, planned = heapq.heappop(follow_ups)
            planned.index, planned.message_id = index, message_id
            script.append(planned)
            continue
        draw = rng.random()
        room = rng.choice(list(ROOMS))
        if draw < 0.45:
            b, u = rng.choice(ROOMS[room]), rng.randint(1, 4)
            f = rng.randint(2, 18)
            text = rng.choice(REPORTS).format(b=b, u=u, f=f, r=f"{f}0{rng.randint(1, 4)}")
            reporter = next(reporters)
            script.append(Planned(index, message_id, "report", reporter, room, text))
            _plan_follow_ups(rng, index, reporter, room, later)
        elif draw < 0.85:
            person = rng.choice(chatter_people)
            script.append(Planned(index, message_id, "chatter", person, room, rng.choice(CHATTER)))
        elif draw < 0.92:
            person = rng.choice(chatter_people)
            script.append(Planned(index, message_id, "inquiry", person, room, rng.choice(INQUIRIES)))
        else:
            cadre, command = rng.choice(CADRE_NAMES), rng.choice(("我的", "值班"))
            script.append(Planned(index, message_id, "cadre_private", cadre, None, command, cadre=True))
    return script


def _plan_follow_ups(
    rng: random.Random, index: int, reporter: str, room: str, later: Callable[[int, Planned], None]
) -> None:
    """What may follow a report: a photo, 接单, 进度, 办结, then 评价 / 没修好 / 查询 by the reporter."""
    if rng.random() < 0.1:
        later(index + rng.randint(2, 10), Planned(0, "", "photo", reporter, room, "", ref=index, image=True))
    if rng.random() < 0.45:
        return
    at = index + rng.randint(40, 120)
    later(at, Planned(0, "", "accept", "", room, "接单 {n}", ref=index, cadre=True))
    if rng.random() < 0.3:
        at += rng.randint(10, 60)
        later(at, Planned(0, "", "progress", "", room, "进度 {n} 已联系物业，明天上午上门", ref=index, cadre=True))
    if rng.random() < 0.2:
        return
    at += rng.randint(20, 100)
    later(at, Planned(0, "", "resolve", "", room, "办结 {n} 已修好", ref=index, cadre=True))
    at += rng.randint(20, 100)
    draw = rng.random()
    if draw < 0.6:
        rating = rng.choice(("评价 {n} 满意", "评价 {n} 基本满意", "评价 {n} 5"))
        later(at, Planned(0, "", "rate", reporter, room, rating, ref=index))
    elif draw < 0.7:
        later(at, Planned(0, "", "not_fixed", reporter, room, "没修好 {n}", ref=index))
    elif draw < 0.8:
        later(at, Planned(0, "", "query", reporter, room, "查询 {n}", ref=index))


# ------------------------------------------------------------------------------------- ledger look-ups


def resident_id(name: str) -> str:
    from gateway.world import resident_id as gateway_resident_id

    return gateway_resident_id(name)


class Ledger:
    """The bench's own read-only view of a ledger: look-ups while injecting, and the final accounting."""

    def __init__(self, url: str) -> None:
        from storage.db import make_engine

        self.engine = make_engine(url)

    def ticket_of(self, member_id: str) -> tuple[int, str | None] | None:
        """The newest ticket listing `member_id` as a reporter, and its assignee's cadre id (None if none yet)."""
        from sqlalchemy import text

        try:
            with self.engine.connect() as connection:
                row = connection.execute(
                    text(
                        "SELECT t.id, t.assignee_id FROM ticket_reporter r JOIN ticket t ON t.id = r.ticket_id "
                        "WHERE r.member_id = :member ORDER BY t.id DESC LIMIT 1"
                    ),
                    {"member": member_id},
                ).first()
        except Exception:  # no schema yet (the first start was killed), a locked file, …
            return None
        return None if row is None else (int(row[0]), row[1])

    def scalar(self, query: str) -> int | None:
        from sqlalchemy import text

        try:
            with self.engine.connect() as connection:
                return int(connection.execute(text(query)).scalar_one())
        except Exception:
            return None

    def dispose(self) -> None:
        self.engine.dispose()


def cadre_name_of(settings: Any, cadre_id: str | None) -> str:
    cadre = settings.cadre(cadre_id) if cadre_id else None
    return cadre.name if cadre is not None else SECRETARY


def resolve(planned: Planned, script: list[Planned], ledger: Ledger, settings: Any) -> tuple[str, str]:
    """(sender, text) of `planned` now: a `{n}` becomes the referenced report's ticket in this ledger."""
    if planned.ref is None:
        return planned.sender, planned.template
    found = ledger.ticket_of(resident_id(script[planned.ref].sender))
    if found is not None:
        number, cadre = found[0], cadre_name_of(settings, found[1])
    elif planned.fallback is not None:
        number, cadre = planned.fallback
    else:
        number, cadre = 1, SECRETARY
    sender = cadre if planned.cadre else planned.sender
    return sender, planned.template.format(n=number)


def reference(settings: Any, script: list[Planned], interval: float) -> set[str]:
    """Handle the script crash-free on an in-memory ledger; the ids of report-like messages that got a ticket.

    Also stores each command's resolution as its `fallback` for the crash runs.
    """
    from bot.app import Huiyin
    from gateway.world import World
    from ledger.clock import ManualClock
    from ledger.messages import Incoming, MessageKind
    from nlp.weighted import build_classifier

    world = World(settings)
    clock = ManualClock(dt.datetime.now(settings.tz))
    ledger = Ledger("sqlite://")
    app = Huiyin(settings, ledger.engine, build_classifier(settings), clock)
    app.duplicate_window = dt.timedelta(seconds=settings.inbound.duplicate_window_seconds)
    app.prepare()
    ticketed: set[str] = set()
    cadre_ids = {c.name: c.chat_id for c in settings.cadres}
    for planned in script:
        sender, text = resolve(planned, script, ledger, settings)
        if planned.ref is not None:
            found = ledger.ticket_of(resident_id(script[planned.ref].sender))
            if found is not None:
                planned.fallback = (found[0], cadre_name_of(settings, found[1]))
        sender_id = cadre_ids.get(sender) or resident_id(sender)
        room = world.room(planned.room) if planned.room else None
        app.handle(
            Incoming(
                message_id=planned.message_id,
                chat_id=room.id if room else sender_id,
                chat_name=room.topic if room else sender,
                sender_id=sender_id,
                sender_name=sender,
                text="" if planned.image else text,
                timestamp=clock.now(),
                kind=MessageKind.IMAGE if planned.image else MessageKind.TEXT,
                is_private=room is None,
            )
        )
        if planned.kind == "report" and ledger.ticket_of(sender_id) is not None:
            ticketed.add(planned.message_id)
        clock.advance(dt.timedelta(seconds=interval))
    ledger.dispose()
    return ticketed


# ------------------------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Control:
    """The gateway's control API over HTTP."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def _call(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0) -> dict:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)

    def inject(self, sender: str, text: str, room: str | None, message_id: str, image: bool) -> None:
        body: dict[str, Any] = {"sender": sender, "text": text, "id": message_id, "kind": "image" if image else "text"}
        if room:
            body["room"] = room
        self._call("POST", "/messages", body)

    def sent(self) -> list[dict]:
        return self._call("GET", "/sent?after=0", timeout=60)["sent"]

    def rooms(self) -> list[dict]:
        return self._call("GET", "/rooms")["rooms"]

    def streams(self) -> int:
        try:
            return int(self._call("GET", "/health", timeout=2)["streams"])
        except (OSError, ValueError, KeyError):
            return -1


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


@dataclass
class Processes:
    """The gateway process, and the bot process of the moment; every one started here is ended here."""

    config: Path
    workdir: Path
    database_url: str
    gateway: subprocess.Popen | None = None
    bot: subprocess.Popen | None = None
    port: int = 0
    control: Control | None = None
    starts: int = 0

    def _command(self, *arguments: str) -> list[str]:
        return [sys.executable, "-m", "bot.cli", "--config", str(self.config), "--env-file", str(self.workdir / "none.env"), *arguments]  # noqa: E501

    def start_gateway(self) -> Control:
        self.port, control_port = free_port(), free_port()
        log = open(self.workdir / "gateway.log", "ab")
        self.gateway = subprocess.Popen(
            self._command("gateway", "--port", str(self.port), "--control-port", str(control_port), "--community", str(self.config)),  # noqa: E501
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.control = Control(control_port)
        if not wait_for(lambda: self.control.streams() >= 0, 30, 0.1):
            raise RuntimeError(f"the gateway did not start; see {self.workdir / 'gateway.log'}")
        return self.control

    def start_bot(self) -> subprocess.Popen:
        environment = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{self.port}",
            "WECHATY_PUPPET_SERVICE_TOKEN": "huiyin-crash-bench",
        }
        self.starts += 1
        log = open(self.workdir / "bot.log", "ab")
        log.write(f"\n===== start {self.starts} at {dt.datetime.now().isoformat()} =====\n".encode())
        log.flush()
        self.bot = subprocess.Popen(
            self._command("run", "--transport", "wechaty"),
            cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        return self.bot

    def kill_bot(self) -> None:
        if self.bot is not None and self.bot.poll() is None:
            os.kill(self.bot.pid, signal.SIGKILL)
        if self.bot is not None:
            self.bot.wait()
        self.bot = None

    def stop_bot(self, grace: float = 8.0) -> bool:
        """SIGTERM, then SIGKILL after `grace` seconds; True if it ended by itself."""
        if self.bot is None:
            return True
        self.bot.send_signal(signal.SIGTERM)
        try:
            self.bot.wait(grace)
            clean = True
        except subprocess.TimeoutExpired:
            clean = False
        self.kill_bot()
        return clean

    def stop_all(self) -> None:
        self.kill_bot()
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGTERM)
            try:
                self.gateway.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.gateway.pid, signal.SIGKILL)
                self.gateway.wait()
        self.gateway = None


# ----------------------------------------------------------------------------------------------- runs


@dataclass
class Result:
    database: str
    injected: int = 0
    kills: int = 0
    kills_in_startup: int = 0
    seconds: float = 0.0
    drained: bool = False
    clean_stop: bool = False
    tickets: TicketCounts = field(default_factory=TicketCounts)
    replies: ReplyCounts = field(default_factory=ReplyCounts)
    ticket_count: int = 0
    mismatches: dict[int, list[str]] = field(default_factory=dict)
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)
    kill_log: list[dict[str, Any]] = field(default_factory=list)
    """Per kill: phase, seconds after the start, messages injected by then, seconds until the gateway dropped
    the dead event stream (None: still open after 5 s, so events published meanwhile went to a dead stream)."""
    inject_times: dict[int, float] = field(default_factory=dict)
    """Seconds after the run began at which each message (by index) was injected."""

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "skipped": self.skipped,
            "injected": self.injected,
            "kills": self.kills,
            "kills_in_startup": self.kills_in_startup,
            "seconds": round(self.seconds, 1),
            "final_run_drained": self.drained,
            "final_run_stopped_cleanly": self.clean_stop,
            "tickets_in_ledger": self.ticket_count,
            "tickets": self.tickets.as_json(),
            "replies": self.replies.as_json(),
            "event_ticket_mismatches": len(self.mismatches),
            "mismatch_examples": {str(k): v for k, v in list(self.mismatches.items())[:10]},
            "target_met": self.target_met(),
            "errors": self.errors,
            "kill_log": self.kill_log,
            "missing_by_bot_state": self.missing_by_state(),
        }

    def missing_by_state(self) -> dict[str, int]:
        """Missing inbound ids by what the bot was doing when the message was injected."""
        spans = [(k["started"], k["killed"]) for k in self.kill_log]
        counts = {"bot_running": 0, "no_bot_between_kills": 0, "after_the_last_kill": 0}
        for message_id in self.tickets.missing_ids:
            index = int(message_id.rsplit("-", 1)[1])
            at = self.inject_times.get(index)
            if at is None:
                continue
            if any(start <= at <= end for start, end in spans):
                counts["bot_running"] += 1
            elif spans and at > spans[-1][1]:
                counts["after_the_last_kill"] += 1
            else:
                counts["no_bot_between_kills"] += 1
        return counts

    def target_met(self) -> bool | None:
        if self.skipped:
            return None
        return (
            self.tickets.lost == 0
            and self.replies.lost == 0
            and self.replies.doubled_messages <= self.kills
            and self.tickets.doubled == 0
            and not self.mismatches
        )


@contextmanager
def fresh_database(kind: str, workdir: Path, postgres_url: str) -> Iterator[str]:
    """A database URL for a new, empty ledger; a PostgreSQL database is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'huiyin.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"huiyin_crash_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def say(database: str, message: str) -> None:
    print(f"[{database}] {message}", file=sys.stderr, flush=True)


def run_database(kind: str, args: argparse.Namespace, settings: Any, config: Path, script: list[Planned], expected: set[str]) -> Result:  # noqa: E501
    result = Result(kind)
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"huiyin-crash-{kind}-"))
    try:
        with fresh_database(kind, workdir, args.postgres_url) as url:
            processes = Processes(config, workdir, url)
            ledger = Ledger(url)
            try:
                _crash_run(kind, args, settings, script, processes, ledger, result)
                _account(kind, processes, ledger, script, expected, result)
            finally:
                processes.stop_all()
                ledger.dispose()
    except Exception as error:  # reported in the table, so one database failing does not hide the other
        if kind == "postgresql" and not result.injected:
            result.skipped = f"{type(error).__name__}: {error}"
        result.errors.append(f"{type(error).__name__}: {error}")
        say(kind, f"failed: {type(error).__name__}: {error} (logs in {workdir})")
        args.keep = True
    result.seconds = time.monotonic() - began
    if args.keep:
        say(kind, f"logs and database kept in {workdir}")
    else:
        _remove(workdir)
    return result


def _remove(directory: Path) -> None:
    for path in sorted(directory.rglob("*"), reverse=True):
        with suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()
    with suppress(OSError):
        directory.rmdir()


def _crash_run(
    kind: str, args: argparse.Namespace, settings: Any, script: list[Planned], processes: Processes,
    ledger: Ledger, result: Result,
) -> None:  # fmt: skip
    rng = random.Random(f"{args.seed}-{kind}-kills")
    control = processes.start_gateway()
    inject_seconds = args.kills * (args.uptime + RESTART_SECONDS)
    interval = inject_seconds / len(script)
    say(kind, f"{len(script)} messages over ~{inject_seconds:.0f} s, {args.kills} kills")
    done = threading.Event()
    failures: list[str] = []

    began = time.monotonic()

    def inject() -> None:
        start = time.monotonic()
        for planned in script:
            delay = start + planned.index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sender, text = resolve(planned, script, ledger, settings)
            try:
                control.inject(sender, text, planned.room, planned.message_id, planned.image)
            except (OSError, urllib.error.URLError) as error:
                failures.append(f"inject {planned.message_id}: {error}")
                continue
            result.injected += 1
            result.inject_times[planned.index] = time.monotonic() - began
        done.set()

    injector = threading.Thread(target=inject, name="crash-bench injector", daemon=True)
    injector.start()
    mean_online = args.uptime
    for number in range(1, args.kills + 1):
        spawned = time.monotonic()
        processes.start_bot()
        if rng.random() < STARTUP_KILL_SHARE:
            time.sleep(rng.uniform(0.0, RESTART_SECONDS))
            phase = "start-up" if control.streams() < 1 else "online"
        else:
            if not wait_for(lambda: control.streams() >= 1 or processes.bot.poll() is not None, 60):
                result.errors.append(f"kill {number}: the bot did not connect within 60 s")
            time.sleep(rng.uniform(0.0, 2 * mean_online))
            phase = "online"
        killed_at = time.monotonic()
        processes.kill_bot()
        result.kills += 1
        result.kills_in_startup += phase == "start-up"
        dropped = wait_for(lambda: control.streams() == 0, 5)
        result.kill_log.append(
            {
                "phase": phase,
                "started": round(spawned - began, 3),
                "killed": round(killed_at - began, 3),
                "injected": result.injected,
                "stream_dropped_after": round(time.monotonic() - killed_at, 2) if dropped else None,
            }
        )
        if not dropped:
            result.errors.append(f"kill {number}: the gateway still holds the dead event stream 5 s later")
        if number % 5 == 0 or number == args.kills:
            say(kind, f"kill {number}/{args.kills} ({phase}, {time.monotonic() - spawned:.1f} s after start), "
                      f"{result.injected} injected")  # fmt: skip
    injector.join()
    result.errors.extend(failures[:10])
    say(kind, "final run without kills: waiting until the inbound table, outbox and gateway stay still")
    processes.start_bot()
    result.drained = _wait_drained(ledger, control, timeout=args.drain_timeout)
    result.clean_stop = processes.stop_bot()


def _wait_drained(ledger: Ledger, control: Control, timeout: float) -> bool:
    """True once nothing is pending and inbound, outbox and sent counts have not moved for a few seconds.

    Rows that stay pending (e.g. given up after retries) end the wait when everything stays still longer.
    """
    deadline = time.monotonic() + timeout
    last: tuple | None = None
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        try:
            sent = len(control.sent())
        except OSError:
            sent = -1
        snapshot = (
            ledger.scalar("SELECT count(*) FROM inbound_message"),
            ledger.scalar("SELECT count(*) FROM outbox"),
            ledger.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
            sent,
        )
        now = time.monotonic()
        if snapshot != last:
            last, still_since = snapshot, now
        pending = snapshot[2]
        if (pending == 0 and now - still_since >= 4) or now - still_since >= 20:
            return pending == 0
        time.sleep(0.5)
    return False


def _account(kind: str, processes: Processes, ledger: Ledger, script: list[Planned], expected: set[str], result: Result) -> None:  # noqa: E501
    from sqlalchemy import text

    from storage.db import new_session
    from storage.tickets import all_tickets, ledger_fields, rebuild_ticket, ticket_events

    assert processes.control is not None
    room_ids = {room["topic"]: room["id"] for room in processes.control.rooms()}
    sent = [SentMessage(int(s["seq"]), s["conversation_id"], s["text"]) for s in processes.control.sent()]
    with ledger.engine.connect() as connection:
        inbound = {row[0] for row in connection.execute(text("SELECT message_id FROM inbound_message"))}
        links = [(int(t), str(m)) for t, m in connection.execute(text("SELECT ticket_id, member_id FROM ticket_reporter"))]  # noqa: E501
        rows = [
            OutboxRow(int(row_id), room_ids.get(chat_id, chat_id), body, sent_at is not None)
            for row_id, chat_id, body, sent_at in connection.execute(
                text("SELECT id, chat_id, text, sent_at FROM outbox ORDER BY id")
            )
        ]
    injected = [
        Injected(p.message_id, resident_id(p.sender) if p.kind == "report" else p.sender, report=p.kind == "report")
        for p in script[: result.injected]
    ]
    result.tickets = count_tickets(injected, expected, inbound, links)
    result.replies = count_replies(rows, sent)
    with new_session(ledger.engine) as session:
        tickets = all_tickets(session)
        result.ticket_count = len(tickets)
        result.mismatches = count_mismatches(
            (t.id, ledger_fields(t), rebuild_ticket(ticket_events(session, t.id))) for t in tickets if t.id is not None
        )
    say(kind, f"accounted: {len(inbound)} inbound rows, {len(rows)} outbox rows, {len(sent)} gateway messages")


# ---------------------------------------------------------------------------------------------- output


COLUMNS = (
    ("database", 10), ("injected", 8), ("kills", 5), ("inbound missing", 15), ("tickets lost (not recv/no tkt)", 30),
    ("doubled", 7), ("replies lost", 12), ("sent twice (rows/msgs)", 22), ("mismatch", 8), ("seconds", 7),
)  # fmt: skip


def table(results: list[Result], expected: int) -> str:
    lines = ["  ".join(name.rjust(width) for name, width in COLUMNS)]
    for r in results:
        if r.skipped:
            lines.append(f"{r.database:>10}  skipped: {r.skipped}")
            continue
        t, p = r.tickets, r.replies
        cells = (
            r.database, r.injected, r.kills, t.inbound_missing,
            f"{t.lost} ({t.lost_not_received}/{t.lost_no_ticket}) of {t.expected_tickets}", t.doubled,
            p.lost, f"{p.doubled_rows}/{p.doubled_messages}", len(r.mismatches), f"{r.seconds:.0f}",
        )  # fmt: skip
        lines.append("  ".join(str(cell).rjust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True)))
    lines.append("")
    for r in results:
        if r.skipped:
            continue
        p = r.replies
        verdict = "met" if r.target_met() else "NOT met"
        lines.append(
            f"{r.database}: {r.kills} kills ({r.kills_in_startup} in start-up); {r.ticket_count} tickets; outbox "
            f"{p.rows} rows ({p.marked_sent} marked sent, {p.lost_still_queued} of the lost still queued) in "
            f"{p.gateway_messages} gateway messages ({p.unmatched_messages} unmatched); final run drained: "
            f"{'yes' if r.drained else 'NO'}; target (lost 0, ≤ 1 message sent twice per kill, no doubled "
            f"ticket, no mismatch): {verdict}"
        )
        states = r.missing_by_state()
        lines.append(
            f"  inbound missing by when injected: {states['bot_running']} while a bot ran (in flight at a kill), "
            f"{states['no_bot_between_kills']} between a kill and the restart, "
            f"{states['after_the_last_kill']} after the last kill"
        )
        for problem in r.errors[:5]:
            lines.append(f"  error: {problem}")
    lines.append(f"reference run: {expected} report-like messages became or joined a ticket")
    return "\n".join(lines)


def relaxed_config(source: Path, target: Path) -> None:
    """config.yaml with the `outbound:` section replaced by limits that let replies go out at once."""
    original = source.read_text(encoding="utf-8")
    relaxed, count = re.subn(r"^outbound:\n(?:[ \t]+.*\n)*", RELAXED_OUTBOUND, original, flags=re.MULTILINE)
    target.write_text(relaxed if count else original + "\n" + RELAXED_OUTBOUND, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--messages", type=int, default=2000, help="messages per database (default 2000)")
    parser.add_argument("--kills", type=int, default=25, help="SIGKILLs per database (default 25)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--uptime", type=float, default=2.0, help="mean seconds online before a kill (default 2)")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--postgres-url", default=os.environ.get("HUIYIN_TEST_DATABASE_URL") or DEFAULT_POSTGRES)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the logs and the SQLite file")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.kills < 0:
        parser.error("--messages must be positive and --kills not negative")

    import logging

    from settings import load_settings

    logging.disable(logging.INFO)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="huiyin-crash-config-") as scratch:
        config = Path(scratch) / "config.yaml"
        relaxed_config(args.config, config)
        settings = load_settings(config)
        script = generate(args.seed, args.messages)
        interval = args.kills * (args.uptime + RESTART_SECONDS) / len(script)
        expected = reference(settings, script, interval)
        say("reference", f"{len(expected)} of {sum(p.kind == 'report' for p in script)} reports ticketed "
                         f"({time.monotonic() - began:.1f} s)")  # fmt: skip
        kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
        results = [run_database(kind, args, settings, config, script, expected) for kind in kinds]
    if args.json:
        payload = {
            "command": " ".join(sys.argv),
            "messages": args.messages,
            "kills": args.kills,
            "seed": args.seed,
            "reference_ticketed": len(expected),
            "seconds": round(time.monotonic() - began, 1),
            "databases": [r.as_json() for r in results],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(table(results, len(expected)))
        print(f"total {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
