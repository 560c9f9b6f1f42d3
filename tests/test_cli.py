"""The three commands a newcomer uses: replay (checked line by line), run (the console chat) and ledger."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main, parser
from bot.console import ConsoleSession
from tests.chat import Chat

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((REPO / "tests" / "scripts").glob("*.txt"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_replayed_conversations_match_their_transcripts_line_by_line(
    script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "replay", str(script)]) == 0
    produced = capsys.readouterr().out.splitlines()
    expected = script.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    for number, (got, want) in enumerate(zip(produced, expected, strict=False), start=1):
        assert got == want, f"{script.name} transcript line {number}"
    assert len(produced) == len(expected)


def _huiyin(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path = REPO):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, *args],
        input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )  # fmt: skip


def test_run_opens_the_console_chat_and_keeps_the_ledger(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'huiyin.db'}"
    # The real clock decides who is on duty, so the secretary (who may act on any ticket) accepts.
    conversation = "/我是 张阿姨\n3号楼2单元下水道堵了\n/我是 陈洁\n接单 1\n/退出\n"
    run = _huiyin("--config", str(REPO / "config.yaml"), "run", stdin=conversation, env={"DATABASE_URL": database})
    assert run.returncode == 0, run.stderr
    assert "回音 · 幸福里社区" in run.stdout
    assert "收到，已登记 #1【给排水】3号楼2单元" in run.stdout
    assert "回音: @张阿姨 #1 已由 陈洁 签收，正在处理。" in run.stdout

    ledger = _huiyin("--config", str(REPO / "config.yaml"), "ledger", "--json", env={"DATABASE_URL": database})
    [row] = json.loads(ledger.stdout)
    assert (row["number"], row["status"], row["reporters"]) == (1, "accepted", ["张阿姨"])
    table = _huiyin("--config", str(REPO / "config.yaml"), "ledger", env={"DATABASE_URL": database})
    assert table.stdout.startswith("#1") and "已签收" in table.stdout and "3号楼2单元" in table.stdout


def test_a_bad_config_fails_with_the_key_and_line_not_a_traceback(tmp_path: Path) -> None:
    config = (REPO / "config.yaml").read_text(encoding="utf-8").replace('end: "17:30"', 'end: "25:00"', 1)
    bad = tmp_path / "config.yaml"
    bad.write_text(config, encoding="utf-8")
    run = _huiyin("--config", str(bad), "run")
    assert run.returncode == 2
    assert "rota[0].end: '25:00' 不是时间" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    explain = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "--config", str(REPO / "config.yaml"),
         "explain", "3号楼下水道堵了"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    explain.stdout.close()  # like `| head` exiting before huiyin writes
    assert explain.wait(timeout=60) == 1
    assert "Traceback" not in explain.stderr.read().decode()


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "x.yaml", "-v", "ledger"],
        ["ledger", "--config", "x.yaml", "-v"],
        ["-v", "ledger", "--config", "x.yaml"],
    ],
)
def test_common_options_work_before_or_after_the_command(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    assert (args.command, args.config, args.verbose, args.env_file) == ("ledger", "x.yaml", True, ".env")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "huiyin replay: 找不到脚本 {path}"),
        ("# GBK\n[1-3号楼业主群] 张阿姨: 下水道堵了\n".encode("gbk"), "huiyin replay: 脚本 {path} 第 2 行不是 UTF-8"),
    ],
    ids=["missing", "gbk"],
)
def test_a_replay_script_that_cannot_be_read_gets_one_clear_line_and_exit_code_2(
    content: bytes | None, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "nope.txt"
    if content is not None:
        script.write_bytes(content)
    code = main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "replay", str(script)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(expected.format(path=script)) and err.count("\n") == 1


def test_the_console_survives_bytes_that_are_not_utf8_and_names_who_is_on_duty(tmp_path: Path) -> None:
    conversation = "/我是 张阿姨\n".encode() + b"\xff\xfe\xd5\xc5 3\n" + "3号楼2单元下水道堵了\n/值班\n/退出\n".encode()
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "--config", str(REPO / "config.yaml"), "run"],
        input=conversation, capture_output=True, timeout=60, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": f"sqlite:///{tmp_path / 'huiyin.db'}"},
    )  # fmt: skip
    out, err = run.stdout.decode(), run.stderr.decode()
    assert run.returncode == 0 and "Traceback" not in err, err
    assert "收到，已登记 #1【给排水】3号楼2单元" in out
    assert out.count("，值班的是：第一网格：") == 2  # at start and after /值班


def test_the_console_session_says_who_is_on_duty_by_its_clock_swaps_included(chat: Chat) -> None:
    written: list[str] = []
    console = ConsoleSession(chat.app.settings, chat.app, chat.sender, chat.clock, written.append)
    assert console.feed_line("/值班") is True
    chat.say("王芳", "换班 明天 @李军")
    chat.clock.advance(dt.timedelta(days=1))
    console.feed_line("/值班")
    tail = "。以干部身份办理：/我是 名字）"
    assert written == [
        "（按当前时间 11月23日 09:00，值班的是：第一网格：王芳（网格值班）；第二网格：李军（网格值班）" + tail,
        "（按当前时间 11月24日 09:00，值班的是：第一网格：李军（网格值班）；第二网格：李军（网格值班）" + tail,
    ]
