"""Every sentence the jobs write (reminders, escalations, 回访, handovers, reports, digest, 议题)."""

from __future__ import annotations

from ledger.wording import LIST_SEPARATOR as LIST_SEPARATOR

DEADLINE_NAMES = {"response": "首次响应", "resolution": "办结", "commitment": "承诺办结"}

# Reminders and escalations
REMINDER = "⏰ 提醒：#{number}【{category}】{place}的{deadline}时限是 {due}，还剩 {left}，请尽快处理并在群里回复。"
ESCALATION = (
    "⚠️ #{number}【{category}】{place}已超过{deadline}时限（{due}），负责人 {assignee}，"
    "已升级至{role} {target}，请督办。"
)
ROLE_NAMES = {"grid_leader": "网格长", "secretary": "书记"}
EVENT_REMIND = "{deadline}时限 {due} 提醒 {assignee}"
EVENT_ESCALATE = "{deadline}时限 {due} 升级至 {target}"

# Triage: a message held for a cadre (P7) that nobody decided within its first-response limit
TRIAGE_TIMED_OUT = (
    "P{item} 超过{limit}无人确认，已自动登记 #{number}【{category}】{place}，由您负责（群里没有回复）。"
    "{chat} {sender}：「{text}」"
)
EVENT_TRIAGE_TIMED_OUT = "P{item} {limit}内无人确认，自动登记"
TRIAGE_PRIVATE_CHAT = "私聊"

# 回访 and auto-close
FOLLOW_UP = (
    "回访：#{number}【{category}】{place}已办结，问题解决了吗？请回复「评价 {number} 满意 / 基本满意 / 不满意」；"
    "如果没有解决，请回复「没修好 {number}」。"
)
AUTO_CLOSED = "#{number} 办结后 {days} 天未收到评价，已自动关闭（记为未评价）。如仍有问题，请回复「没修好 {number}」。"
EVENT_AUTO_CLOSE = "{days}天未评价，自动关闭（未评价）"

# Handover. Tickets nobody has accepted (未签收) pass to the incoming cadre; the lists show who is responsible after.
HANDOVER_IN = "交接班（{time}）：您接班 {grids}，未办结 {count} 件："
HANDOVER_OUT = "交接班（{time}）：您交班 {grids}（接班：{successor}），未办结 {count} 件："
HANDOVER_NO_GRID = "未定网格"  # tickets without a grid (place unknown): the community-wide duty's
HANDOVER_PASSED_IN = "接班后由您负责 {count} 件未签收：{numbers}"
HANDOVER_PASSED_OUT = "{count} 件未签收已转 {successor} 负责：{numbers}"
HANDOVER_LINE = "#{number}【{category}】{place} {status}，负责人 {assignee}{due}"
HANDOVER_DUE = "，办结时限 {due}"
EVENT_HANDOVER = "交接班：未签收，由 {outgoing} 转 {incoming}"

# Daily ledger report
DAILY_HEADER = "📒 台账日报 {day}"
DAILY_COUNTS = "今日新增 {new} 件，办结 {resolved} 件，当前超期 {overdue} 件。"
DAILY_OVERDUE = "超期："
DAILY_COMMITMENTS = "明天到期的承诺："
DAILY_LINE = "· #{number}【{category}】{place} 负责人 {assignee}"
# Partner units' tickets past the unit's own limit (接单 / 办结), unit by unit: the count, then the most overdue few
DAILY_UNITS = "合作单位超时："
DAILY_UNIT = "{unit} {count} 件"
DAILY_UNIT_LINE = "· #{number}【{category}】{place} {deadline}超时 {late}"
DAILY_LATE_DAYS = "{days} 天"
DAILY_LATE_HOURS = "{hours} 小时"
DAILY_LATE_MINUTES = "{minutes} 分钟"

# Weekly digest. A residents' group's digest names its grids (`scope`); the cadres' group's is the whole community.
DIGEST_HEADER = "📋 {community}{scope} 回音周报（{start}—{end}）"
DIGEST_SCOPE = "·{grids}"
DIGEST_QUIET = "📋 {community} 回音周报（{start}—{end}）：本周没有收到反映，也没有未办结事项。"
DIGEST_COUNTS = "收到 {received} 件｜按时响应 {responded} 件｜办结 {resolved} 件｜超期 {overdue} 件"
DIGEST_RATES = "响应率 {response}｜解决率 {resolution}｜满意率 {satisfaction}"
DIGEST_DEFINITIONS = (
    "（响应率=按时响应÷应响应 {answerable} 件；解决率=到期已办结 {due_resolved}÷到期 {due} 件；"
    "满意率=满意与基本满意÷评价 {rated} 件）"
)
DIGEST_SOURCES = "居民反映 {resident} 件，主动发现 {patrol} 件"
DIGEST_UNIT = "{unit}：派单 {dispatched} 件，部门响应率 {response}，部门办结率 {resolution}"
DIGEST_TOP_CATEGORIES = "反映最多：{items}"
DIGEST_TOP_PLACES = "集中地点：{items}"
DIGEST_COUNT_ITEM = "{name} {count}"
DIGEST_LONGEST = "未办结最久："
DIGEST_LONGEST_LINE = "· #{number}【{category}】{place} 已 {age}，负责人 {assignee}"
DIGEST_AGE_DAYS = "{days} 天"
DIGEST_AGE_HOURS = "{hours} 小时"
DIGEST_AGE_UNDER_AN_HOUR = "不到 1 小时"
DIGEST_THANKS = "感谢 {names} 本周的辛苦付出！"
DIGEST_THANKS_ITEM = "{name}（办结 {count} 件）"
DIGEST_NO_THANKS = "本周暂无办结事项。"
DIGEST_AGENDA = "议事候选（周议事会 / 月协商会）："
DIGEST_AGENDA_MORE = "……另有 {count} 项，干部发送「议题」查看全部"
DIGEST_NONE = "无"
# What `huiyin digest` prints above each group's text (the terminal, not the chat)
DIGEST_OUTPUT_GROUP = "【{group}】"
DIGEST_OUTPUT_SKIPPED = "【{group}】本周该群的网格没有反映，也没有未办结事项，未发送。"

# Known incidents (通知): the author asked when the expected end passes; the digest's and daily report's lines
INCIDENT_ASK = (
    "#通知{number} 预计 {time} 恢复，时间已到。已恢复请回复「恢复 {number} 说明」；未恢复请用「通知」发新的预计时间。"
)
EVENT_INCIDENT_ASK = "预计 {time} 恢复，时间已到，已私信 {author} 确认"
INCIDENT_DAY = "{month}月{day}日"
DIGEST_INCIDENTS = "通知 {count} 次，回复居民 {residents} 人（未开工单）"
DAILY_INCIDENTS = "进行中的通知："
DAILY_INCIDENT_LINE = "· #通知{number} {scope}{text}（{until}，{residents} 位居民反映）"
DAILY_INCIDENT_UNTIL = "预计{time}恢复"
DAILY_INCIDENT_OVERDUE = "预计{time}恢复，已过时未确认"
DAILY_INCIDENT_NO_END = "未定恢复时间"

# Partner units' own limits (派单): the unit reminded (its group, else its members), then the responsible cadre who
# 督办s it, then the secretary. `unit` is the unit's name, `assignee` the responsible cadre.
UNIT_DEADLINE_NAMES = {"unit_response": "接单", "unit_resolution": "办结"}
UNIT_REMINDER = (
    "⏰ 提醒：派单 #{number}【{category}】{place}的{deadline}时限是 {due}，还剩 {left}，请尽快处理并回复"
    "「接单 {number}」「进度 {number} 说明」或「办结 {number} 处理结果」（{assignee} 督办）。"
)
UNIT_OVERDUE = (
    "⚠️ #{number}【{category}】{place}已派 {unit}，单位{deadline}时限（{due}）已过仍未{deadline}，"
    "请负责人 {assignee} 督办。"
)
UNIT_ESCALATION = (
    "⚠️ #{number}【{category}】{place}已派 {unit}，单位{deadline}时限（{due}）已过仍未{deadline}，负责人 {assignee}，"
    "已升级至{role} {target}，请督办。"
)
EVENT_UNIT_REMIND = "单位{deadline}时限 {due} 提醒 {unit}"
EVENT_UNIT_ESCALATE = "{unit} 单位{deadline}时限 {due} 升级至 {target}"
