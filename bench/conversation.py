"""How well the bot follows a week of group conversation: `python bench/conversation.py [--script …] [--quiet]`.

Replays an annotated week (`bench/data/conversation_week.txt`, written before issue 12 was built) in process,
the way `huiyin replay` does (bot/cli.py `cmd_replay`): the app on a fresh SQLite ledger built from `--config`,
a ManualClock set by each `@time` (one second between lines), the scheduled jobs run up to each `@time`, the
outbox drained after each message. Every resident line ends with its expected ledger effect after two spaces
and `##` (stripped before the bot sees the line):

  none        chatter: opens, joins, reopens nothing (a triage item held for it is counted apart)
  new X       opens the ticket of problem X            urgent X   opens X as an urgent ticket
  join X      the sender becomes a reporter of X's ticket (a duplicate, or a neighbour asking about X)
  status X    the sender already reports X: a reply naming X's #n, nothing changed
  reopen X    X's ticket is reopened (after 办结), no new ticket
  thanks X    a thanks after 办结 of X: nothing, or a rating; no new ticket, no reopen
  nofit       a status question that fits no ticket: a reply, nothing opened or joined

`{X}` in a line (cadre commands, `#{X}` in a resident's words) is replaced by the ticket number of problem X:
the ticket a `new`/`urgent` line opened or, if the bot did not open it there, the first ticket a later
`join X` line opened (or the ticket a held triage item of X later became). A line whose `{X}` is still
unknown is not sent (listed as skipped).

The app is imported from the current PYTHONPATH, else from the working directory, so the bench measures
whichever tree it is run in:
  cd /tmp/before && PYTHONPATH=/tmp/before python /work/main/bench/conversation.py --config config.yaml
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, os.getcwd())

from sqlmodel import select

from bot.app import build_app
from bot.console import PRIVATE, ConsoleSession
from bot.outbox import OutboxSender
from jobs.runner import JobRunner
from ledger.clock import ManualClock
from ledger.messages import Outgoing
from settings import load_settings
from storage.db import new_session
from storage.models import Ticket, TicketEvent, TicketReporter, TriageItem

HERE = Path(__file__).resolve().parent
DEFAULT_SCRIPT = HERE / "data" / "conversation_week.txt"
START = dt.datetime(2026, 11, 16, 0, 0)

_ANNOTATION = re.compile(r"\s{2,}##\s*(?P<note>\S.*?)\s*$")
_ONE_SHOT = re.compile(r"^\[(?P<chat>[^\]]+)\]\s*(?P<speaker>[^:：]+?)\s*[:：]\s?(?P<text>.*)$")
_PLACEHOLDER = re.compile(r"\{([A-Z]{1,3})\}")
KINDS = ("none", "new", "urgent", "join", "status", "reopen", "thanks", "nofit")
NEEDS_LABEL = {"new", "urgent", "join", "status", "reopen", "thanks"}


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, outgoing: Outgoing) -> None:
        self.sent.append(outgoing)


@dataclass(frozen=True)
class Expect:
    kind: str
    label: str | None


@dataclass
class Step:
    """What one message changed in the ledger, and what the bot said."""

    created: list[Ticket] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)  # tickets the sender was added to (not ones it created)
    reopened: list[int] = field(default_factory=list)
    rated: list[int] = field(default_factory=list)
    held: list[TriageItem] = field(default_factory=list)
    replies: list[Outgoing] = field(default_factory=list)


@dataclass
class Marks:
    ticket: int = 0
    reporter: int = 0
    event: int = 0
    triage: int = 0
    sent: int = 0


def parse_expect(note: str) -> Expect | None:
    words = note.split()
    if not words or words[0] not in KINDS:
        return None
    kind = words[0]
    label = words[1] if len(words) > 1 else None
    if (kind in NEEDS_LABEL) != (label is not None):
        return None
    return Expect(kind, label)


class Bench:
    def __init__(self, config: str, jobs: bool) -> None:
        self.settings = load_settings(config)
        self.tmp = tempfile.TemporaryDirectory(prefix="huiyin-conversation-")
        self.clock = ManualClock(START.replace(tzinfo=self.settings.tz))
        url = f"sqlite:///{Path(self.tmp.name) / 'ledger.db'}"
        self.app, self.engine = build_app(self.settings, url, self.clock)
        self.transport = RecordingTransport()
        self.sender = OutboxSender(self.engine, self.transport, self.clock)
        self.session = ConsoleSession(
            self.settings, self.app, self.sender, self.clock, lambda _line: None, id_prefix="conversation",
            jobs=JobRunner(self.settings, self.engine) if jobs else None,
        )
        self.labels: dict[str, int] = {}
        self.label_of: dict[int, str] = {}
        self.triage_src: dict[int, tuple[int, Expect]] = {}  # held triage item → the line it was held for
        self.late: list[str] = []
        self.triage_tickets = 0
        self.rows: list[tuple] = []
        self.mistakes: list[str] = []
        self.skipped: list[str] = []
        self.notes: list[str] = []
        self.counts = Counter()
        self.expected = Counter()
        self.job_tickets = 0
        self.problems: set[str | None] = set()

    # ------------------------------------------------------------------ ledger snapshots
    def marks(self) -> Marks:
        with new_session(self.engine) as s:
            def top(column) -> int:
                return max((v for v in s.exec(select(column)).all() if v is not None), default=0)

            return Marks(top(Ticket.id), top(TicketReporter.id), top(TicketEvent.id), top(TriageItem.id),
                         len(self.transport.sent))

    def step(self, before: Marks, sender_id: str | None) -> Step:
        out = Step(replies=self.transport.sent[before.sent:])
        with new_session(self.engine) as s:
            out.created = list(s.exec(select(Ticket).where(Ticket.id > before.ticket).order_by(Ticket.id)).all())
            created = {t.id for t in out.created}
            for row in s.exec(select(TicketReporter).where(TicketReporter.id > before.reporter)).all():
                if row.ticket_id not in created and (sender_id is None or row.member_id == sender_id):
                    out.joined.append(row.ticket_id)
            for event in s.exec(select(TicketEvent).where(TicketEvent.id > before.event)).all():
                if event.action == "reopen":
                    out.reopened.append(event.ticket_id)
                elif event.action == "rate":
                    out.rated.append(event.ticket_id)
                elif event.action == "join" and event.ticket_id not in created and event.ticket_id not in out.joined:
                    if sender_id is None or event.actor_id == sender_id:
                        out.joined.append(event.ticket_id)
            out.held = list(s.exec(select(TriageItem).where(TriageItem.id > before.triage)).all())
            decided = []
            for item_id in list(self.triage_src):
                item = s.get(TriageItem, item_id)
                if item is not None and item.decision is not None:
                    decided.append((item_id, item.decision, item.ticket_id))
        for item_id, decision, number in decided:
            self.triage_decided(item_id, decision, number, opened=number is not None and number > before.ticket)
        return out

    def triage_decided(self, item_id: int, decision: str, number: int | None, *, opened: bool) -> None:
        """A held message was decided later (a cadre's 登记/忽略, or the triage timeout job): score what it did."""
        lineno, expect = self.triage_src.pop(item_id)
        label = expect.label
        if number is None:
            self.late.append(f"line {lineno}: triage P{item_id} {decision}, no ticket")
            return
        if opened:
            self.triage_tickets += 1
        verb = "opened" if opened else "joined"
        if opened and label is not None:
            self.label_of.setdefault(number, label)
        note = f"line {lineno}: [{expect.kind}{' ' + label if label else ''}] triage P{item_id} {decision} → {verb}"
        kind = expect.kind
        if kind in ("new", "urgent") and opened and label is not None and label not in self.labels:
            self.bind(label, number, f"line {lineno}: triage P{item_id} {decision}")
        elif kind == "join" and opened and label is not None and label not in self.labels:
            self.bind(label, number, f"line {lineno}: triage P{item_id} {decision}")
        self.late.append(f"{note} {self.name(number)}")
        if kind == "none":
            self.counts["chatter_tickets" if opened else "chatter_joins"] += 1
        elif kind in ("new", "urgent"):
            if not opened and self.label_of.get(number) != label:
                self.counts["wrong_merges"] += 1
        elif kind == "join":
            if opened:
                self.counts["new_ticket_mistakes"] += 1
            elif self.labels.get(label or "") == number:
                self.counts["joins_right"] += 1
                self.counts["joins_right_late"] += 1
            elif self.label_of.get(number) != label:
                self.counts["wrong_merges"] += 1
        elif opened:
            self.counts["new_ticket_mistakes"] += 1

    def bind(self, label: str, number: int, how: str) -> None:
        self.labels[label] = number
        self.label_of.setdefault(number, label)
        if how:
            self.notes.append(f"{label} → #{number} ({how})")

    def name(self, number: int) -> str:
        label = self.label_of.get(number)
        return f"#{number}({label})" if label else f"#{number}(?)"

    # ------------------------------------------------------------------ replay
    def run(self, lines: list[str]) -> None:
        for line in lines:
            if (m := _ANNOTATION.search(line)) and not line.lstrip().startswith("#"):
                expect = parse_expect(m["note"])
                if expect is not None and expect.kind in ("new", "urgent"):
                    self.problems.add(expect.label)
        for lineno, raw in enumerate(lines, 1):
            line = raw.rstrip("\n")
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("@"):
                before = self.marks()
                self.session.feed_line(stripped)
                self.after_jobs(before, lineno)
                continue
            expect = None
            if match := _ANNOTATION.search(line):
                expect = parse_expect(match["note"])
                if expect is None:
                    self.mistakes.append(f"line {lineno}: unreadable annotation {match['note']!r}")
                line = line[: match.start()]
            one = _ONE_SHOT.match(line.strip())
            if one is None:
                self.mistakes.append(f"line {lineno}: not a `[chat] name: text` line, not sent")
                continue
            speaker = one["speaker"].strip()
            cadre = self.settings.cadre_by_name(speaker)
            if cadre is None and expect is None:
                self.mistakes.append(f"line {lineno}: resident line without annotation (sent, not scored)")
            text, missing = self.substitute(one["text"])
            if missing:
                self.skipped.append(f"line {lineno}: {speaker}: {one['text']}  (unknown {', '.join(missing)})")
                if expect is not None:
                    self.expected[expect.kind] += 1
                    self.record(lineno, one["chat"], speaker, expect, "skipped", False, "placeholder unknown")
                continue
            sender_id = None if cadre else f"resident:{speaker}"
            before = self.marks()
            self.session.feed_line(f"[{one['chat'].strip()}] {speaker}: {text}")
            step = self.step(before, sender_id)
            if cadre is not None or expect is None:
                continue
            self.judge(lineno, one["chat"].strip(), speaker, expect, step)

    def after_jobs(self, before: Marks, lineno: int) -> None:
        triage_before = self.triage_tickets
        step = self.step(before, None)
        self.job_tickets += len(step.created) - (self.triage_tickets - triage_before)
        for ticket in step.created:
            self.notes.append(f"line {lineno}: a scheduled job opened #{ticket.id}")

    def substitute(self, text: str) -> tuple[str, list[str]]:
        missing = [m for m in _PLACEHOLDER.findall(text) if m not in self.labels]
        return _PLACEHOLDER.sub(lambda m: str(self.labels.get(m[1], m[0])), text), missing

    # ------------------------------------------------------------------ judging one line
    def judge(self, lineno: int, chat: str, speaker: str, expect: Expect, step: Step) -> None:
        kind, label = expect.kind, expect.label
        for item in step.held:
            assert item.id is not None
            self.triage_src[item.id] = (lineno, expect)
        if label is not None and kind not in ("new", "urgent"):
            for ticket in step.created:  # a second ticket of the same problem: not another problem's ticket
                assert ticket.id is not None
                self.label_of.setdefault(ticket.id, label)
        self.expected[kind] += 1
        ok = True
        why: list[str] = []
        new = step.created
        if kind == "none":
            if new:
                self.counts["chatter_tickets"] += len(new)
                why.append("chatter opened a ticket")
            if step.held:
                self.counts["chatter_triage"] += len(step.held)
                why.append("chatter held for triage")
            if step.joined:
                self.counts["chatter_joins"] += len(step.joined)
                why.append("chatter joined a ticket")
            if step.reopened:
                why.append("chatter reopened a ticket")
            ok = not why
        elif kind in ("new", "urgent"):
            assert label is not None
            if new:
                if label not in self.labels:
                    self.bind(label, new[0].id, "")
                if kind == "urgent":
                    if any(t.urgent for t in new):
                        self.counts["urgent"] += 1
                    else:
                        ok = False
                        why.append("opened, but not urgent")
                if len(new) > 1:
                    why.append(f"{len(new)} tickets opened")
            for number in step.joined:
                if self.label_of.get(number) != label:
                    self.counts["wrong_merges"] += 1
                    ok = False
                    why.append(f"merged into {self.name(number)}")
            if step.held:
                ok = False
                why.append("held for triage")
            if not new and not step.joined and not step.held:
                ok = False
                why.append("nothing opened")
            if new and kind == "new" and any(t.urgent for t in new):
                self.counts["false_urgent"] += 1
                why.append("opened as urgent")
        elif kind == "join":
            assert label is not None
            target = self.labels.get(label)
            if target is not None and target in step.joined:
                self.counts["joins_right"] += 1
            else:
                ok = False
                why.append(f"expected to join {label}" + (f" #{target}" if target else " (not opened yet)"))
            for number in step.joined:
                if number != target and self.label_of.get(number) != label:
                    self.counts["wrong_merges"] += 1
                    why.append(f"merged into {self.name(number)}")
                elif number != target:
                    why.append(f"joined {self.name(number)}, a second ticket of {label}")
            if new:
                self.counts["new_ticket_mistakes"] += len(new)
                why.append("opened a new ticket")
                if label not in self.labels:
                    self.bind(label, new[0].id, f"line {lineno}: join line opened it")
            if step.held:
                ok = False
                why.append("held for triage")
        elif kind in ("status", "nofit"):
            target = self.labels.get(label) if label else None
            named = target is not None and any(names_ticket(o.text, target) for o in step.replies)
            quiet = not new and not step.joined and not step.reopened and not step.held
            if kind == "status":
                answered = quiet and named
            else:
                answered = quiet and bool(step.replies)
            if answered:
                self.counts[f"{kind}_answered"] += 1
            else:
                ok = False
            if new:
                self.counts["new_ticket_mistakes"] += len(new)
                why.append("opened a new ticket")
            if step.joined:
                why.append("joined " + ", ".join(self.name(n) for n in step.joined))
            if step.reopened:
                why.append("reopened " + ", ".join(self.name(n) for n in step.reopened))
            if step.held:
                why.append("held for triage")
            if quiet and not step.replies:
                why.append("no reply")
            elif quiet and kind == "status" and not named:
                why.append(f"reply does not name #{target}" if target else f"{label} has no ticket")
        elif kind == "reopen":
            target = self.labels.get(label)
            if target is not None and target in step.reopened:
                self.counts["reopens"] += 1
            else:
                ok = False
                why.append(f"{label} not reopened")
            for number in step.reopened:
                if number != target:
                    why.append(f"reopened {self.name(number)}")
            if new:
                self.counts["new_ticket_mistakes"] += len(new)
                why.append("opened a new ticket")
            if step.held:
                why.append("held for triage")
        elif kind == "thanks":
            if new:
                self.counts["new_ticket_mistakes"] += len(new)
                why.append("opened a new ticket")
            if step.reopened:
                why.append("reopened " + ", ".join(self.name(n) for n in step.reopened))
            if step.joined:
                why.append("joined " + ", ".join(self.name(n) for n in step.joined))
            if step.held:
                why.append("held for triage")
            ok = not why
            if step.rated:
                self.counts["thanks_rated"] += 1
        self.record(lineno, chat, speaker, expect, describe(step, self.name), ok, "; ".join(why))

    def record(self, lineno: int, chat: str, speaker: str, expect: Expect, what: str, ok: bool, why: str) -> None:
        note = f"{expect.kind} {expect.label}" if expect.label else expect.kind
        self.rows.append((lineno, short_chat(chat), speaker, note, what, "ok" if ok else "✗", why))
        if not ok or why:
            self.mistakes.append(f"line {lineno}: [{note}] {speaker}: {what}{' — ' + why if why else ''}")

    # ------------------------------------------------------------------ report
    def tickets(self) -> list[Ticket]:
        with new_session(self.engine) as s:
            return list(s.exec(select(Ticket).order_by(Ticket.id)).all())

    def report(self, quiet: bool) -> None:
        if not quiet:
            print(f"{'line':>4}  {'chat':<6} {'speaker':<6} {'expected':<10} {'ok':<2}  what happened")
            for lineno, chat, speaker, note, what, ok, why in self.rows:
                tail = f"   ({why})" if why else ""
                print(f"{lineno:>4}  {chat:<6} {speaker:<6} {note:<10} {ok:<2}  {what}{tail}")
            print()
            print("tickets at the end:")
            for t in self.tickets():
                label = self.label_of.get(t.id, "?")
                flag = " urgent" if t.urgent else ""
                print(f"  #{t.id:<3} {label:<3} {t.status:<11} {t.category:<13} {t.location or '—':<8}{flag}  "
                      f"{t.description[:40]}")
            print()
        if self.notes and not quiet:
            print("labels and jobs:")
            for note in self.notes:
                print("  " + note)
            print()
        if self.skipped:
            print(f"not sent ({len(self.skipped)}; a placeholder's problem had no ticket):")
            for line in self.skipped:
                print("  " + line)
            print()
        if self.late:
            print(f"held for triage, decided later ({len(self.late)}; counted in the summary):")
            for line in self.late:
                print("  " + line)
            print()
        print(f"mistakes ({sum(1 for r in self.rows if r[5] != 'ok')} lines wrong):")
        for line in self.mistakes:
            print("  " + line)
        print()
        e, c = self.expected, self.counts
        problems = len(self.problems)
        messages = len(self.rows)
        print("counts by annotation: " + " ".join(f"{k}={e[k]}" for k in KINDS))
        print(f"extra: chatter_triage={c['chatter_triage']} chatter_joins={c['chatter_joins']} "
              f"false_urgent={c['false_urgent']} thanks_rated={c['thanks_rated']} triage_tickets={self.triage_tickets} "
              f"other_job_tickets={self.job_tickets} joins_right_late={c['joins_right_late']} "
              f"skipped={len(self.skipped)} nofit_answered={c['nofit_answered']}/{e['nofit']}")
        print(
            f"conversation: messages={messages} problems={problems} tickets={len(self.tickets())} "
            f"(expected {problems}) joins_right={c['joins_right']}/{e['join']} wrong_merges={c['wrong_merges']} "
            f"reopens={c['reopens']}/{e['reopen']} "
            f"status_answered={c['status_answered'] + c['nofit_answered']}/{e['status'] + e['nofit']} "
            f"new_ticket_mistakes={c['new_ticket_mistakes']} chatter_tickets={c['chatter_tickets']} "
            f"urgent={c['urgent']}/{e['urgent']}"
        )


def names_ticket(text: str, number: int) -> bool:
    return re.search(rf"[#＃]{number}(?!\d)", text) is not None


def describe(step: Step, name) -> str:
    parts = []
    for t in step.created:
        parts.append(f"new {name(t.id)}{' urgent' if t.urgent else ''}")
    parts += [f"join {name(n)}" for n in step.joined]
    parts += [f"reopen {name(n)}" for n in step.reopened]
    parts += [f"rate {name(n)}" for n in step.rated]
    parts += [f"triage P{i.id}" for i in step.held]
    if step.replies:
        numbers = sorted({int(n) for o in step.replies for n in re.findall(r"[#＃](\d+)", o.text)})
        parts.append("reply" + (" " + ",".join(f"#{n}" for n in numbers) if numbers else ""))
    return ", ".join(parts) or "—"


def short_chat(chat: str) -> str:
    return {"1-3号楼业主群": "1-3群", "4-6号楼业主群": "4-6群", "幸福里社区居民群": "居民群", PRIVATE: PRIVATE}.get(
        chat, chat[:6]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--script", default=str(DEFAULT_SCRIPT))
    parser.add_argument("--quiet", action="store_true", help="only the mistakes and the summary")
    parser.add_argument("--no-jobs", action="store_true", help="do not run the scheduled jobs between @time lines")
    args = parser.parse_args(argv)
    lines = Path(args.script).read_text(encoding="utf-8").splitlines()
    bench = Bench(args.config, jobs=not args.no_jobs)
    try:
        bench.run(lines)
        bench.report(args.quiet)
    finally:
        bench.engine.dispose()
        bench.tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
