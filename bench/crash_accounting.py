"""The counting behind bench/crash.py, as pure functions of what the ledger holds and what the gateway saw.

Nothing here touches a database, a process or the network: `bench/crash.py` reads the ledger and the
gateway's `GET /sent` into these plain records, and `tests/test_crash_bench.py` checks the counting on
small hand-made cases.

Definitions (the figures the bench prints):

- **inbound missing**: an injected message id that is not in the ledger's `inbound_message` table.
- **tickets lost**: a report-like message (each comes from its own resident) that the crash-free
  reference run turned into a ticket — opened or joined — whose sender is a reporter of no ticket in the
  ledger. Split into *not received* (its id is not in `inbound_message` either: it never reached the
  ledger) and *no ticket* (recorded, but no ticket lists its sender).
- **tickets doubled**: for such a message, every ticket beyond the first that lists its sender.
- **replies lost**: outbox rows whose body the gateway never received (per chat, counted as a multiset
  of bodies, so identical replies to one chat are told apart by how often each was queued and seen).
- **replies sent twice**: bodies the gateway received more often than the outbox holds them, as rows
  (`rows`) and as the gateway messages that carried at least one such repeat (`messages`).
- **event/ticket mismatches**: tickets whose fields differ from `rebuild_ticket` over their events.

A reply the gateway receives is the outbox row's text, or several rows of one chat merged: everyone
addressed once at the front, then the rows' bodies joined by newlines (`bot/outbound.merge`). The
leading `@name ` run is stripped from both sides before comparing (the wechaty client writes its own
`@name\u2005` prefix from the mention ids); the rest of a gateway message is split into whole bodies.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The same shape as bot/outbound.py's `_LEADING_MENTIONS` (kept here so the bench does not depend on a
# module that is being changed): one or more `@name` each followed by spaces or U+2005.
_LEADING_MENTIONS = re.compile(r"^(?:[@＠][^\s\u2005@＠]+[ \u2005]+)+")


def body_of(text: str) -> str:
    """`@张阿姨\u2005@王芳 收到…` → `收到…`: the text without the names it starts by addressing."""
    match = _LEADING_MENTIONS.match(text)
    return text if match is None else text[match.end() :]


@dataclass(frozen=True)
class OutboxRow:
    """One ledger outbox row. `chat` is the key the gateway uses for the same chat (room id or contact id)."""

    row_id: int
    chat: str
    text: str
    delivered: bool
    """The ledger marked it sent (`sent_at` is set)."""


@dataclass(frozen=True)
class SentMessage:
    """One message the gateway received through `MessageSendText`, in the order received."""

    seq: int
    chat: str
    text: str


@dataclass
class ReplyCounts:
    rows: int = 0
    """Outbox rows in the ledger."""
    marked_sent: int = 0
    """Of those, rows the ledger marked sent."""
    gateway_messages: int = 0
    """Messages the gateway received from the bot."""
    lost: int = 0
    """Outbox rows whose body the gateway never received."""
    lost_still_queued: int = 0
    """Of the lost rows, those the ledger still holds as unsent (an upper bound per chat and body)."""
    doubled_rows: int = 0
    """Row bodies received more often than queued."""
    doubled_messages: int = 0
    """Gateway messages that carried at least one row body for the second (third, …) time."""
    unmatched_messages: int = 0
    """Gateway messages that are not made of outbox rows' bodies at all."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """A few texts of each kind of problem, for reading."""

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "marked_sent": self.marked_sent,
            "gateway_messages": self.gateway_messages,
            "lost": self.lost,
            "lost_still_queued": self.lost_still_queued,
            "doubled_rows": self.doubled_rows,
            "doubled_messages": self.doubled_messages,
            "unmatched_messages": self.unmatched_messages,
            "examples": self.examples,
        }


def segment(body: str, known: set[str]) -> list[str] | None:
    """`body` as a sequence of whole known bodies joined by newlines (longest first), or None if it is not one."""
    lines = body.split("\n")
    memo: dict[int, list[str] | None] = {len(lines): []}

    def rest(start: int) -> list[str] | None:
        if start in memo:
            return memo[start]
        found: list[str] | None = None
        for end in range(len(lines), start, -1):
            candidate = "\n".join(lines[start:end])
            if candidate in known and (tail := rest(end)) is not None:
                found = [candidate, *tail]
                break
        memo[start] = found
        return found

    return rest(0)


def _example(examples: dict[str, list[str]], kind: str, text: str, limit: int = 3) -> None:
    bucket = examples.setdefault(kind, [])
    if len(bucket) < limit:
        bucket.append(text[:200])


def count_replies(rows: Iterable[OutboxRow], sent: Iterable[SentMessage]) -> ReplyCounts:
    """Compare the ledger's outbox with what the gateway received; see the module docstring."""
    counts = ReplyCounts()
    expected: dict[str, Counter[str]] = {}
    queued: dict[str, Counter[str]] = {}
    for row in rows:
        body = body_of(row.text)
        expected.setdefault(row.chat, Counter())[body] += 1
        counts.rows += 1
        if row.delivered:
            counts.marked_sent += 1
        else:
            queued.setdefault(row.chat, Counter())[body] += 1
    observed: dict[str, Counter[str]] = {}
    known = {chat: set(bodies) for chat, bodies in expected.items()}
    for message in sorted(sent, key=lambda m: m.seq):
        counts.gateway_messages += 1
        parts = segment(body_of(message.text), known.get(message.chat, set()))
        if parts is None:
            counts.unmatched_messages += 1
            _example(counts.examples, "unmatched", message.text)
            continue
        seen = observed.setdefault(message.chat, Counter())
        repeated = False
        for part in parts:
            seen[part] += 1
            if seen[part] > expected[message.chat][part]:
                counts.doubled_rows += 1
                repeated = True
        if repeated:
            counts.doubled_messages += 1
            _example(counts.examples, "sent_twice", message.text)
    for chat, bodies in expected.items():
        for body, wanted in bodies.items():
            missing = wanted - observed.get(chat, Counter())[body]
            if missing > 0:
                counts.lost += missing
                counts.lost_still_queued += min(missing, queued.get(chat, Counter())[body])
                _example(counts.examples, "lost", body)
    return counts


@dataclass(frozen=True)
class Injected:
    """A message the bench injected. `report` marks the report-like ones, each from its own resident."""

    message_id: str
    sender_id: str
    report: bool = False


@dataclass
class TicketCounts:
    injected: int = 0
    inbound_missing: int = 0
    """Injected message ids not in the ledger's inbound table."""
    expected_tickets: int = 0
    """Report-like messages the crash-free reference run turned into (or joined to) a ticket."""
    lost: int = 0
    lost_not_received: int = 0
    lost_no_ticket: int = 0
    doubled: int = 0
    missing_ids: list[str] = field(default_factory=list)
    lost_ids: list[str] = field(default_factory=list)
    doubled_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "injected": self.injected,
            "inbound_missing": self.inbound_missing,
            "expected_tickets": self.expected_tickets,
            "lost": self.lost,
            "lost_not_received": self.lost_not_received,
            "lost_no_ticket": self.lost_no_ticket,
            "doubled": self.doubled,
            "missing_ids": self.missing_ids[:20],
            "lost_ids": self.lost_ids[:20],
            "doubled_ids": self.doubled_ids[:20],
        }


def count_tickets(
    injected: Sequence[Injected],
    expected: set[str],
    inbound_ids: set[str],
    reporter_links: Iterable[tuple[int, str]],
) -> TicketCounts:
    """Lost and doubled tickets; `expected` holds the ids of report-like messages the reference run ticketed,
    `reporter_links` the ledger's (ticket id, member id) reporter rows."""
    tickets_of: dict[str, set[int]] = {}
    for ticket_id, member_id in reporter_links:
        tickets_of.setdefault(member_id, set()).add(ticket_id)
    counts = TicketCounts(injected=len(injected))
    for message in injected:
        received = message.message_id in inbound_ids
        if not received:
            counts.inbound_missing += 1
            counts.missing_ids.append(message.message_id)
        if not message.report or message.message_id not in expected:
            continue
        counts.expected_tickets += 1
        tickets = tickets_of.get(message.sender_id, set())
        if not tickets:
            counts.lost += 1
            counts.lost_ids.append(message.message_id)
            if received:
                counts.lost_no_ticket += 1
            else:
                counts.lost_not_received += 1
        elif len(tickets) > 1:
            counts.doubled += len(tickets) - 1
            counts.doubled_ids.append(message.message_id)
    return counts


def mismatched_fields(stored: Mapping[str, Any], rebuilt: Mapping[str, Any]) -> list[str]:
    """The ledger fields whose stored value differs from the value rebuilt from the events."""
    return sorted(name for name in set(stored) | set(rebuilt) if stored.get(name) != rebuilt.get(name))


def count_mismatches(tickets: Iterable[tuple[int, Mapping[str, Any], Mapping[str, Any]]]) -> dict[int, list[str]]:
    """(ticket number, stored fields, rebuilt fields) → {number: differing fields} for the tickets that differ."""
    return {number: diff for number, stored, rebuilt in tickets if (diff := mismatched_fields(stored, rebuilt))}
