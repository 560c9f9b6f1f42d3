"""The counting of bench/crash.py on tiny hand-made cases (the bench run itself is not part of the suite)."""

from __future__ import annotations

from bench.crash_accounting import (
    Injected,
    OutboxRow,
    SentMessage,
    body_of,
    count_mismatches,
    count_replies,
    count_tickets,
    segment,
)

ROOM = "00000001@chatroom"
OTHER = "00000002@chatroom"
A = "@张阿姨 @王芳 收到，已登记 #1【给排水】3号楼2单元，由今日值班 王芳 负责，1小时内回复。"
B = "@李叔 #1 已由 王芳 签收，正在处理。"
C = "@刘姐 #2 已办结：已修好。请评价：评价 2 满意"


def rows(*specs: tuple[int, str, str, bool]) -> list[OutboxRow]:
    return [OutboxRow(row_id, chat, text, delivered) for row_id, chat, text, delivered in specs]


def sent(*specs: tuple[str, str]) -> list[SentMessage]:
    return [SentMessage(seq, chat, text) for seq, (chat, text) in enumerate(specs, 1)]


def test_body_of_strips_the_leading_mentions_either_client_writes() -> None:
    assert body_of("@张阿姨\u2005@王芳 收到") == "收到"
    assert body_of("@张阿姨 @王芳 收到") == "收到"
    assert body_of("收到 @王芳") == "收到 @王芳"


def test_segment_splits_a_merged_message_into_whole_bodies_only() -> None:
    known = {"第一行\n第二行", "第三行", "第二行"}
    assert segment("第一行\n第二行\n第三行", known) == ["第一行\n第二行", "第三行"]
    assert segment("第三行\n第二行", known) == ["第三行", "第二行"]
    assert segment("第一行", known) is None
    assert segment("第三行\n第四行", known) is None


def test_every_row_delivered_once_counts_nothing() -> None:
    counts = count_replies(
        rows((1, ROOM, A, True), (2, ROOM, B, True)),
        sent((ROOM, A.replace(" @王芳 ", "\u2005@王芳 ")), (ROOM, B)),
    )
    assert (counts.lost, counts.doubled_rows, counts.doubled_messages, counts.unmatched_messages) == (0, 0, 0, 0)
    assert (counts.rows, counts.marked_sent, counts.gateway_messages) == (2, 2, 2)


def test_a_merged_message_delivers_each_of_its_rows() -> None:
    merged = "@张阿姨\u2005@王芳\u2005@李叔 " + body_of(A) + "\n" + body_of(B)
    counts = count_replies(rows((1, ROOM, A, True), (2, ROOM, B, True)), sent((ROOM, merged)))
    assert (counts.lost, counts.doubled_rows, counts.unmatched_messages) == (0, 0, 0)


def test_a_row_never_received_is_lost_whether_or_not_it_was_marked_sent() -> None:
    counts = count_replies(
        rows((1, ROOM, A, True), (2, ROOM, B, False), (3, OTHER, C, True)),
        sent((ROOM, A)),
    )
    assert (counts.lost, counts.lost_still_queued) == (2, 1)
    assert counts.examples["lost"]


def test_a_merged_batch_resent_after_a_crash_is_two_rows_twice_in_one_message() -> None:
    merged = "@张阿姨 @王芳 @李叔 " + body_of(A) + "\n" + body_of(B)
    counts = count_replies(
        rows((1, ROOM, A, True), (2, ROOM, B, True), (3, ROOM, C, True)),
        sent((ROOM, merged), (ROOM, merged), (ROOM, C)),
    )
    assert (counts.lost, counts.doubled_rows, counts.doubled_messages) == (0, 2, 1)


def test_identical_replies_to_one_chat_count_by_how_often_each_was_queued() -> None:
    same = "@王芳 没有找到 #99。"
    counts = count_replies(
        rows((1, ROOM, same, True), (2, ROOM, same, True), (3, OTHER, same, True)),
        sent((ROOM, same), (ROOM, same), (ROOM, same), (OTHER, same)),
    )
    assert (counts.lost, counts.doubled_rows, counts.doubled_messages) == (0, 1, 1)


def test_a_reply_in_the_wrong_chat_is_lost_there_and_unmatched_where_it_went() -> None:
    counts = count_replies(rows((1, ROOM, B, True)), sent((OTHER, B)))
    assert (counts.lost, counts.unmatched_messages, counts.doubled_rows) == (1, 1, 0)


def test_tickets_lost_not_received_no_ticket_and_doubled() -> None:
    injected = [
        Injected("m1", "r1", report=True),  # ticketed once
        Injected("m2", "r2", report=True),  # never reached the ledger
        Injected("m3", "r3", report=True),  # recorded, no ticket
        Injected("m4", "r4", report=True),  # two tickets
        Injected("m5", "r5", report=True),  # the reference run did not ticket it: not counted
        Injected("m6", "chatty"),  # chatter: only the inbound check
        Injected("m7", "chatty"),
    ]
    counts = count_tickets(
        injected,
        expected={"m1", "m2", "m3", "m4"},
        inbound_ids={"m1", "m3", "m4", "m5", "m6"},
        reporter_links=[(1, "r1"), (2, "r4"), (3, "r4"), (1, "chatty")],
    )
    assert (counts.injected, counts.inbound_missing, counts.expected_tickets) == (7, 2, 4)
    assert (counts.lost, counts.lost_not_received, counts.lost_no_ticket, counts.doubled) == (2, 1, 1, 1)
    assert counts.missing_ids == ["m2", "m7"] and counts.doubled_ids == ["m4"]


def test_a_ticket_that_disagrees_with_its_events_is_a_mismatch() -> None:
    same = {"status": "accepted", "assignee_id": "wangfang"}
    assert count_mismatches([(1, same, dict(same)), (2, same, {**same, "status": "resolved"})]) == {2: ["status"]}
