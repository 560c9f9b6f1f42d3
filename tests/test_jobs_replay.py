"""`huiyin replay` and the clock: an @time line runs the jobs due before it, in time order, before the next line."""

from __future__ import annotations

from bot.app import Huiyin
from bot.console import ConsoleSession, ConsoleTransport
from bot.outbox import OutboxSender
from jobs.runner import JobRunner


def replay(app: Huiyin, script: str) -> list[str]:
    lines: list[str] = []
    sender = OutboxSender(app.engine, ConsoleTransport(lines.append), app.clock)
    session = ConsoleSession(
        app.settings, app, sender, app.clock, lines.append, echo=True, jobs=JobRunner(app.settings, app.engine)
    )
    session.feed(script.splitlines())
    return [line.split("\n")[0] for line in lines]


def test_jobs_run_in_time_order_between_the_lines(app: Huiyin) -> None:
    lines = replay(app, """
@time 2026-11-30 08:00
[1-3号楼业主群] 张阿姨: 3号楼2单元下水道堵了
@time 2026-11-30 10:30
[1-3号楼业主群] 李军: 接单 1
[1-3号楼业主群] 王芳: 接单 1
""")
    expected = [
        "[1-3号楼业主群] 张阿姨: 3号楼2单元下水道堵了",
        "[1-3号楼业主群] 回音: @张阿姨 @李军 收到，已登记 #1【给排水】3号楼2单元，由社",  # 李军's night shift
        "[私聊→王芳] 回音: 交接班（11月30日 08:30）：您接班 第一网格，未办结 1 件：",  # #1 passes to 王芳
        "[私聊→李军] 回音: 交接班（11月30日 08:30）：您交班 第一网格（接班：王芳），未办结",
        "[私聊→王芳] 回音: ⏰ 提醒：#1【给排水】3号楼2单元的首次响应时限是 11月30日 0",  # 08:45
        "[幸福里社区工作群] 回音: 📋 幸福里社区 回音周报（11月23日—11月29日）：本周没有收到反映",  # 09:00, #1 is newer
        "[幸福里社区工作群] 回音: @赵敏 @王芳 ⚠️ #1【给排水】3号楼2单元已超过首次响应时限（1",  # 09:00:01
        "[幸福里社区工作群] 回音: @陈洁 @王芳 ⚠️ #1【给排水】3号楼2单元已超过首次响应时限（1",  # 10:00:01
        "[1-3号楼业主群] 李军: 接单 1",
        "[1-3号楼业主群] 回音: @李军 抱歉，#1 由 王芳 负责，只有负责人、当班人员、网格长或书记可以签收。",
        "[1-3号楼业主群] 王芳: 接单 1",
        "[1-3号楼业主群] 回音: @张阿姨 #1 已由 王芳 签收，正在处理。",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_the_first_time_and_a_time_moving_back_run_nothing(app: Huiyin) -> None:
    lines = replay(app, """
@time 2026-11-30 10:00
[1-3号楼业主群] 张阿姨: 3号楼2单元下水道堵了
@time 2026-11-30 09:00
@time 2026-11-30 09:30
""")
    assert len(lines) == 2  # the 09:00 digest was before the replay began; nothing is due by 09:30 again
