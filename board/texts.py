"""Every sentence and label the board's Python code produces (page wording lives in `templates/`)."""

from __future__ import annotations

NO_OWNER = "待分派"
NO_PLACE = "—"
NOTHING = "—"
DAYS_HOURS = "{days}天{hours}小时"
HOURS_MINUTES = "{hours}小时{minutes}分"
MINUTES = "{minutes}分钟"
COMMITMENT = "{day} 承诺办结"
PRIVATE_REPORT = "（居民私聊反映，内容不公开）"
STATUS_FILTERS = {"open": "办理中", "overdue": "已超期", "resolved": "近期办结"}

FORBIDDEN_TITLE = "链接无效"
FORBIDDEN_REASONS = {
    "malformed": "这个看板链接不完整，请检查是否复制完整。",
    "bad_signature": "这个看板链接无效（可能被改动过）。",
    "expired": "这个看板链接已过期。",
    "unknown_cadre": "这个看板链接对应的干部已不在名单中。",
    "disabled": "干部看板未启用：请在 .env 中设置 HUIYIN_BOARD_SECRET。",
}
FORBIDDEN_HINT = "请在微信里私聊回音发送「看板」，获取新的链接。"
NOT_FOUND = "没有找到 #{number}。"

# Weekly statistics
WEEK_LABEL = "{start:%m月%d日}—{end:%m月%d日}"
WEEK_SHORT = "{start.month}/{start.day}"
CHART_REPORTS = "每周反映数"
CHART_CATEGORIES = "本周各类问题"
CHART_RESPONSE = "首次响应时间中位数（分钟）"
NO_GRID = "未定网格"

WALL_TITLE = "进度公示墙"
STATS_TITLE = "每周统计"
CADRE_TITLE = "{cadre}的看板"
NOT_FOUND_TITLE = "没有找到"
BAD_REQUEST_TITLE = "请求有误"
BAD_REQUEST = "链接里的参数不对，请从看板首页重新进入。"
EXPORT_FILENAME = "huiyin-taizhang-{today}.{ext}"

# Known incidents (通知)
INCIDENT_NUMBER = "通知{number}"
INCIDENT_TITLE = "#通知{number} {scope} · {category}"
INCIDENT_NO_END = "待定"
INCIDENT_STATES = {"active": "进行中", "lapsed": "已过预计恢复时间，尚未确认恢复", "ended": "已恢复"}
INCIDENT_OPENED = "{actor}发布通知：{text}"
INCIDENT_JOINED = "{count}位居民反映（累计{total}位）"
INCIDENT_JOINED_ONE = "1位居民反映（累计{total}位）"
INCIDENT_ATTACHED = "#{ticket} 并入本通知，{count}位反映人转入（累计{total}位）"
INCIDENT_ATTACHED_UNKNOWN = "一件工单并入本通知，{count}位反映人转入（累计{total}位）"
INCIDENT_ENDED = "{actor}确认恢复{note}"
INCIDENT_ENDED_NOTE = "：{note}"
INCIDENT_MORE_JOINS = "另有{count}次反映未逐条列出。"
INCIDENT_NOT_FOUND = "没有找到 #通知{number}。"

# Partner units and sources on the statistics page
CHART_UNITS = "各合作单位部门响应率、部门办结率"
CHART_UNIT_RESPONSE = "部门响应率"
CHART_UNIT_RESOLUTION = "部门办结率"

# The 街道's overview (board/street.py)
STREET_TITLE = "街道总览"
