"""Every sentence the bot says in chat, in one place so it can be reviewed.

Templates use `str.format` fields. Mentions (`@名字`) are written by `mention_prefix`, so each
template starts with the content, not with the people it addresses.
"""

from __future__ import annotations

from ledger.privacy import mask_name as mask_name  # the one masking implementation (ledger/privacy.py)
from ledger.wording import NO_PLACE as NO_PLACE
from ledger.wording import STATUS_NAMES as STATUS_NAMES
from ledger.wording import format_time as format_time
from ledger.wording import mention_prefix as mention_prefix
from ledger.wording import place_text as place_text

ACTION_VERBS: dict[str, str] = {
    "accept": "签收",
    "progress": "更新进度",
    "resolve": "办结",
    "reopen": "重新办理",
    "transfer": "转派",
    "return": "退回",
    "cancel": "撤销",
    "merge": "合并",
    "commit": "承诺时限",
    "rate": "评价",
}

# Reports
TICKET_OPENED = "收到，已登记 #{number}【{category}】{place}，由{duty}{assignee} 负责，{response}回复。"
INQUIRY_OPENED = "收到您的咨询，已登记 #{number}【{category}】，由{duty}{assignee} 负责，{response}答复。"
URGENT_OPENED = (
    "⚠️ 情况紧急，请先拨打 {emergency}！已登记 #{number}【{category}】{place}，"
    "已通知值班 {assignee} 和 {chain} 立即处置。"
)
URGENT_ALERT = "⚠️ 紧急 #{number}【{category}】{place}：{reporter} 反映「{text}」。请立即处置并在群内回复。"
TICKET_JOINED = "已有 {count} 位居民反映，#{number}【{category}】{place} 正在处理，负责人 {assignee}。"
TICKET_ALREADY_REPORTED = "您已反映过 #{number}，正在处理（{status}），负责人 {assignee}。"
EMERGENCY_NUMBERS = {"rescue": "119", "police": "110", "medical": "120"}
# An addressed message with no problem in it (`@回音 在吗`): how to report and follow up, in one line.
INTRODUCTION = (
    "我是{bot}：在群里说清问题和楼栋（如「3号楼2单元楼道灯不亮」）就会登记，由值班干部负责；"
    "发「查询 编号」看进度，「帮助」看全部指令。"
)

# Triage (P7): a message the classifier was unsure about goes privately to the cadre on duty first
TRIAGE_ASK = "可能的问题 P{item}（{chat} {sender}）：「{text}」 回复「登记 P{item}」或「忽略 P{item}」"
TRIAGE_PRIVATE_CHAT = "私聊"
TRIAGE_REGISTERED = "P{item} 已登记为 #{number}，已在群里回复 {sender}。"
TRIAGE_JOINED = "P{item} 与 #{number} 是同一件事，已并入 #{number}。"
TRIAGE_IGNORED = "P{item} 已忽略，群里不会回复。"
TRIAGE_UNKNOWN = "没有找到 P{item}，请核对编号。"
TRIAGE_DECIDED = "P{item} 已{decision}（{by}）。"
TRIAGE_DECISIONS = {"registered": "登记为 #{number}", "ignored": "忽略", "timed_out": "超时自动登记为 #{number}"}
TRIAGE_NOT_YOURS = "抱歉，P{item} 已交给 {asked} 确认，只有他/她、当班人员、网格长或书记可以处理。"
TRIAGE_UNKNOWN_CATEGORY = "没有「{name}」这个类别。可选：{names}。例：登记 P{item} 给排水"
EVENT_TRIAGE_REGISTERED = "登记 P{item}（{cadre}）"
WITHIN = "{duration}内"
BY_TIME = "工作时间内，{time}前"
DUTY_LABELS = {"grid": "今日值班 ", "community": "社区值班 ", "grid_leader": "网格长 ", "secretary": "书记 "}

# Announcements to the originating group (mentioning the reporters)
ACCEPTED = "#{number} 已由 {cadre} 签收，正在处理。"
PROGRESS = "#{number} 进展（{cadre}）：{note}"
RESOLVED = (
    "#{number} 已办结（{cadre}）：{note}\n请回复「评价 {number} 满意 / 基本满意 / 不满意」；"
    "如果没有解决，请回复「没修好 {number}」。"
)
RESOLVED_FINDING = "#{number} 已办结（{cadre}）：{note}"  # a patrol finding: nobody to ask for a rating
TRANSFERRED = "#{number} 已由 {cadre} 转派给 {assignee} 负责。"
RETURNED = "#{number} 已退回（{cadre}）：{note}"
COMMITTED = "#{number} {cadre} 承诺于 {day} 前办结。"
REOPENED = "#{number} 居民反映没有解决，已重新办理，负责人 {assignee}。"
REOPENED_BY_RATING = "#{number} 评价为不满意，已重新办理，负责人 {assignee}。"
CLOSED_WITH_RATING = "#{number} 已收到您的评价「{rating}」，谢谢！此事项已关闭。"
WITHDRAWN = "#{number} 已按您的要求撤销。"
WITHDRAWN_BY_CADRE = "#{number} 已撤销（{cadre}）：{note}"
WITHDRAWN_BY_CADRE_NO_REASON = "#{number} 已撤销（{cadre}）。"
REPORTER_LEFT = "已撤回您对 #{number} 的反映，其他居民的反映仍在办理。"

# Follow-ups in residents' own words (handlers/followup.py)
FOLLOW_UP_STATUS = "#{number}【{category}】{place}{status}，负责人 {assignee}。{latest}"
FOLLOW_UP_CHOOSE = "您反映过 {count} 件，是哪一件？回复「查询 编号」看进度："
FOLLOW_UP_CHOICE = "#{number}【{category}】{place}{status}"
FOLLOW_UP_NO_MATCH = (
    "没找到您说的事项。请直接说明问题和楼栋（如「3号楼2单元楼道灯不亮」）即可登记；发「我的反映」看您反映过的事项。"
)
FOLLOW_UP_NUDGE = "#{number} 居民 {reporter} 追问：「{text}」"
NOT_FIXED_NOT_REPORTER = (
    "#{number} 已于 {resolved} 办结。如果您那里还有这个问题，"
    "请说明楼栋和情况（如「报修 3号楼2单元下水道还是堵」）另行登记。"
)
THANKS_RATED = "#{number} 收到您的感谢，已记为「满意」并关闭，谢谢！如仍有问题请回复「没修好 {number}」。"
EVENT_THANKS = "居民致谢，记为满意：{text}"

# 合并 (handlers/merge.py)
MERGED_NOTICE = "您反映的问题已并入 #{target}，由 {assignee} 负责，进展会在这里告诉您。"
MERGED_CONFIRM = "#{number} 已并入 #{target}（{cadre}），{count} 位反映人已转入 #{target}。"
MERGE_SAME = "#{number} 不能并入自己，请写要并入的另一个编号。"
MERGE_NOT_OPEN = "#{number} 当前状态是「{status}」，只有未办结的事项可以合并。"
EVENT_MERGED = "并入 #{target}"
EVENT_MERGED_FROM = "由 #{number} 并入：{text}"

# Queries
TICKET_LINE = "#{number}【{category}】{place}{status}，负责人 {assignee}，{when}"
TICKET_DETAIL = (
    "#{number}【{category}】{status}\n地点：{place}\n内容：{description}\n反映人：{reporters}\n"
    "负责人：{assignee}\n登记：{created}\n响应时限：{response_due}\n办结时限：{resolution_due}{commitment}{voices}"
)
TICKET_PUBLIC = "#{number}【{category}】{place}{status}，负责人 {assignee}，登记于 {created}。{latest}"
COMMITMENT_SUFFIX = "\n承诺办结：{day}"
VOICES_HEADER = "\n其他居民反映："
VOICE_LINE = "\n· {name}：{text}"
LATEST_PREFIX = "最新进展：{note}"
MY_QUEUE_HEADER = "{cadre}，您有 {count} 件未办结："
MY_QUEUE_EMPTY = "{cadre}，您目前没有未办结的事项。"
MY_REPORTS_HEADER = "您最近反映的事项："
MY_REPORTS_EMPTY = "您还没有反映过问题。直接在群里描述问题和楼栋即可，例如「3号楼2单元楼道灯不亮」。"
ON_DUTY_LINE = "{grid}：{cadre}（{source}）"
ON_DUTY_HEADER = "现在值班（{time}）："
DUTY_SOURCES = {"grid": "网格值班", "community": "社区值班", "grid_leader": "网格长兜底", "secretary": "书记兜底"}
SWAPPED = "已换班：{day} {cadre} 的班由 {replacement} 接替。"

# Refusals and errors
UNKNOWN_TICKET = "没有找到 #{number}，请核对编号。可以发送「我的」或「我的反映」查看。"
ILLEGAL_TRANSITION = "#{number} 当前状态是「{status}」，不能{verb}。"
CADRE_ONLY = "抱歉，「{word}」是社区干部办理事项用的指令。居民可以发送「帮助」查看能用的指令。"
NOT_YOUR_TICKET = "抱歉，#{number} 由 {assignee} 负责，只有负责人、当班人员、网格长或书记可以{verb}。"
NOT_REPORTER = "抱歉，只有 #{number} 的反映人可以{verb}。"
UNKNOWN_CADRE = "没有找到社区干部「{name}」，请用 @ 选择群里的干部，或核对名字。"
TRANSFER_TO_SELF = "#{number} 已经由 {assignee} 负责，无需转派。"
BAD_DATE = "没看懂日期「{text}」，请写成 11月30日、11-30、明天 或 周五。"
PAST_DATE = "{day} 已经过去，请给一个今天或以后的日期。"
NO_SHIFT = "您在 {day} 没有值班，无需换班。"
ALREADY_RATED = "#{number} 已收到评价并关闭，谢谢您的反馈！"
SYNTAX = "指令格式：{usage}"
INTERNAL_ERROR = "抱歉，回音处理这条消息时出了问题，已记录下来，值班干部会跟进。"
SYNTAX_PROBLEMS = {
    "missing_ticket": "缺少事项编号。",
    "bad_ticket": "事项编号应是数字，如 12。",
    "missing_argument": "缺少说明。",
    "bad_rating": "评价请用 满意 / 基本满意 / 不满意，或 1-5 分。",
    "missing_mention": "请 @ 要交接的人。",
    "missing_date": "缺少日期。",
}

# Meeting agenda (议题 / 立项)
AGENDA_HEADER = "当前议事候选："
AGENDA_EMPTY = "目前没有议事候选。多户反映或同一地点反复出现的问题会自动列入；干部可发送「立项 编号」。"
AGENDA_MARKED = "#{number} 已立项为议事议题（{cadre}），办结前每周通报都会列出。"
AGENDA_ALREADY = "#{number} 已经立项。"
AGENDA_NOT_OPEN = "#{number} 当前状态是「{status}」，只有未办结的事项可以立项。"

HELP_REPORTING = "直接在群里描述问题和地点即可登记，例如「3号楼2单元楼道灯不亮」。"
HELP_RESIDENT_HEADER = "居民指令："
HELP_CADRE_HEADER = "干部指令："

# How far ahead 承诺 and 换班 may reach (ledger/dates.py)
COMMITMENT_TOO_FAR = "{day} 太远了，承诺办结的日期请定在一年之内（最晚 {last}）。"
SWAP_TOO_FAR = "{day} 太远了，换班只能换 {days} 天之内的班（最晚 {last}）；更长的安排请联系书记调整排班表。"

# 查 in a residents' group: only what the progress wall shows; the full details go to the cadre privately
TICKET_DETAIL_PUBLIC = (
    "#{number}【{category}】{status}\n地点：{place}\n内容：{description}\n反映人：{reporters}\n"
    "负责人：{assignee}\n登记：{created}\n办结时限：{resolution_due}{commitment}{voices}{latest}"
)
TICKET_DETAIL_PRIVATE_REPORT = "#{number}【{category}】{status}\n地点：{place}\n（私聊反映的事项，群里不显示内容。）"
DETAIL_SENT_PRIVATELY = "\n完整信息已私信发给您。"

# Emergencies (handlers/emergency.py): what the residents of an urgent report are told to do first, one line per
# hazard, with the numbers from config (`emergency:`): {fire} {police} {ambulance} {lift_platform}, {gas} and {power}
# (a company's name and line), {lift_company} (EMERGENCY_LIFT_COMPANY, or nothing when config names none).
EMERGENCY_ADVICE = {
    "fire": "请立即拨打 {fire}，离开着火处，走楼梯不要乘电梯，用湿毛巾捂住口鼻、弯腰撤离",
    "gas": "燃气泄漏：不要开关电器，开窗通风，到户外打电话给{gas}；不要点火，情况危急请拨打 {fire}",
    "live_wire": (
        "请远离掉落或漏电的电线（至少8米），不要触碰，也不要徒手拉触电的人；请联系{power}，有人触电请拨打 {ambulance}"
    ),
    "lift": (
        "请立即拨打电梯应急处置服务平台 {lift_platform}{lift_company}；被困的人请按轿厢内的警铃或对讲，"
        "不要扒门、撬门，安心等待救援"
    ),
    "trapped": "请立即拨打 {fire} 救援，隔着门窗安抚被困的人，等待救援",
    "water": "请立即拨打 {fire} 救援、{ambulance} 急救，不会游泳不要下水，可抛救生圈、绳子或竹竿",
    "ledge": "请立即拨打 {police} 和 {fire}，派人守在旁边，不要刺激或催促",
    "crime": "请立即拨打 {police}，先保护好自己，远离对方，不要正面冲突",
    "collapse": "请立即远离，疏散周围的人，不要靠近或进入；有人被压或被困请拨打 {fire}",
    "falling": "请避开楼下，不要在下面停留或围观；高空抛物请拨打 {police}，有人被砸伤请拨打 {ambulance}",
    "animal": (
        "请立即用肥皂水和流动清水冲洗伤口15分钟，尽快就医接种狂犬疫苗；伤得重请拨打 {ambulance}，"
        "伤人的狗请远离并拨打 {police}"
    ),
    "injury": "请立即拨打 {ambulance}，不要随意搬动伤者（尤其是摔倒的老人），有人陪在身边等救护车",
    "missing": "请立即拨打 {police} 报警（不用等24小时），说清走失的时间、地点和衣着，也请大家帮忙留意",
    "manhole": "请远离井口，在旁边放醒目的东西提醒行人绕行；有人掉下去请立即拨打 {fire}",
    "unknown": "请根据情况立即拨打 {police}（报警）、{fire}（火警救援）或 {ambulance}（急救）",
}
EMERGENCY_CONTACT = "{name} {phone}"
EMERGENCY_LIFT_COMPANY = "，并联系电梯维保单位 {contact}"
EMERGENCY_INJURED = "；有人受伤请拨打 {ambulance}"
# The hazard as the cadres' alert names it.
EMERGENCY_HAZARDS = {
    "fire": "火情", "gas": "燃气泄漏", "live_wire": "电线带电", "lift": "电梯险情", "trapped": "有人被困",
    "water": "有人落水", "ledge": "有人身处高处危险", "crime": "治安险情", "collapse": "倒塌危险",
    "falling": "高空坠物", "animal": "动物伤人", "injury": "有人受伤或急病", "missing": "有人走失",
    "manhole": "井口敞开", "unknown": "紧急情况",
}  # fmt: skip
EMERGENCY_OPENED = (
    "⚠️ 情况紧急！{advice}。已登记 #{number}【{category}】{place}，已通知{told} 立即处置，{within}内回复。"
)
EMERGENCY_ALERT = (
    "⚠️ 紧急 #{number}【{category}】{place}（{hazard}）：{reporter} 反映「{text}」。已提示居民：{advice}。"
    "立即处置！请{within}内在群内回复。"
)
EMERGENCY_REOPENED_ALERT = (
    "⚠️ 紧急事项 #{number}【{category}】{place}（{hazard}）居民反映仍未解决，已重新办理，请立即处置！"
    "请{within}内在群内回复。"
)
EMERGENCY_REOPENED_NOTE = "居民说：「{note}」"

# Notices and incidents (handlers/notices.py)
NOTICE_LINE = "#通知{number} {scope}{text}{until}"
NOTICE_UNTIL = "，预计{time}恢复"
NOTICE_TOMORROW = "明天"
NOTICE_DAY = "{month}月{day}日"
NOTICE_GROUP = "📢 {line}\n已知情况，无需重复反映，恢复后群里通知。"
NOTICE_POSTED = "已发布 #通知{number} 到：{groups}。"
NOTICE_NO_GROUP = "已登记 #通知{number}，但没有覆盖该范围的居民群。"
NOTICE_UNKNOWN_SCOPE = "范围请写楼栋（3号楼）、网格名（{grids}）或「全部」。"
NOTICE_END_PAST = "结束时间 {time} 已过，请写以后的时间。"
NOTICE_KNOWN = "已知情况：{line}。已记下您，恢复后通知您。"
NOTICE_UNKNOWN = "没有找到 #通知{number}，请核对编号。"
NOTICE_ENDED_ALREADY = "#通知{number} 已于 {time} 恢复。"
NOTICE_RESTORED = "✅ #通知{number} {scope}{text} 已恢复。{note}如仍有问题请直接在群里说。"
NOTICE_RESTORED_NOTE = "{note}。"
NOTICE_RESTORED_CONFIRM = "#通知{number} 已结束，已通知 {count} 位反映的居民。"
NOTICE_LINKED = "#{ticket} 已并入 {line}。恢复后通知您。"
NOTICE_LINKED_CONFIRM = "#{ticket} 已并入 #通知{number}（{count} 位居民）。"
NOTICE_LINK_NOT_OPEN = "#{ticket} 当前状态是「{status}」，只有未办结的事项可以关联。"
NOTICE_NOT_ACTIVE = "#通知{number} 已结束，不能再关联。"
NOTICE_EVENT_LINKED = "并入 通知{number}"
NOTICE_VERB_LINK = "关联"

# Partner units (handlers/units.py): 派单 / 改派 to a unit of config `units:`, its members' 接单 进度 办结 退单.
# The cadre who dispatched stays the ticket's assignee and is chased by its deadlines (督办).
UNIT_VERBS = {"dispatch": "派单", "redispatch": "改派", "unit_return": "退单"}
UNIT_ORDER = (
    "派单 #{number}【{category}】{place}\n居民反映：「{text}」\n{photos}"
    "请于 {response_due} 前接单，{resolution_due} 前办结（{cadre} 督办）。\n"
    "回复：接单 {number} ／ 进度 {number} 说明 ／ 办结 {number} 处理结果 ／ 退单 {number} 原因"
)
UNIT_ORDER_PHOTOS = "附现场图片 {count} 张，随后转发。\n"
UNIT_ORDER_PHOTOS_CAPPED = "附现场图片 {total} 张，随后转发前 {count} 张，其余可向 {cadre} 索取。\n"
UNIT_PHOTO_ADDED = "#{number} 补充现场图片（第 {index} 张），随后转发。"
UNIT_PHOTO_UNAVAILABLE = "#{number} 的第 {index} 张现场图片已无法转发（原图已过期），如需查看请向 {cadre} 索取。"
UNIT_DISPATCHED = "#{number} 已派 {unit} 处理，{cadre} 督办。"
AUTO_DISPATCHED = "已同时派 {unit} 处理。"
UNIT_REDISPATCHED = "#{number} 已改派 {unit} 处理，{cadre} 督办。"
UNIT_WITHDRAWN = "#{number} 已改派 {unit}，{old} 无需再处理，谢谢。"
UNIT_SENT_TO = "派单已发到：{where}。"
UNIT_TOLD = "#{number} 已在 {chat} 告知居民。"
UNIT_TOLD_PRIVATELY = "#{number} 已私信告知反映的居民。"
UNIT_PRIVATE_CHAT = "{name}（私聊）"
UNIT_ACCEPT_NOTE = "{unit} 已接单"
UNIT_SIGNED_ALREADY = "#{number} {unit} 已经签收过了，请用「进度 {number} 说明」或「办结 {number} 处理结果」。"
UNIT_RETURNED = (
    "#{number}【{category}】{place} 被 {actor} 退单：{note}\n您仍是负责人，请「派单 {number} 单位」另派或自行办理。"
)
UNIT_RETURN_CONFIRM = "#{number} 已退单，已告知负责人 {assignee}。"
UNIT_RESOLVED = "#{number} 已由 {actor} 办结：{note}\n您是负责人，请留意居民的评价和反馈。"
UNIT_NOT_DISPATCHED = "抱歉，#{number} 不是派给 {unit} 的事项，不能{verb}。"
UNIT_ONLY = "抱歉，「{word}」是合作单位退回派单用的指令。"
UNIT_MAY_NOT = "抱歉，「{word}」是社区干部用的指令。{unit} 可以对派给本单位的事项用：接单、进度、办结、退单。"
UNIT_UNKNOWN = "没有找到合作单位「{name}」。可选：{units}。例：{word} {number} {example}"
UNIT_NO_DEFAULT = "【{category}】没有默认的合作单位，请写明派给哪家：{units}。例：派单 {number} {example}"
UNIT_NONE_CONFIGURED = "还没有配置合作单位（config.yaml 的 units:），无法派单。"
UNIT_ALREADY = "#{number} 已经派给 {unit}。要换单位请用「改派 {number} 单位」。"
UNIT_SAME = "#{number} 已经派给 {unit}，无需改派。"
UNIT_NOT_YET = "#{number} 还没有派单，请用「派单 {number} 单位」。"
HELP_UNIT_HEADER = "{unit} 可用的指令（只限派给本单位的事项）："
# A resident reopens a ticket dispatched to a unit (handlers/resident.py): the unit answers afresh by new limits.
UNIT_REOPENED = (
    "派单 #{number}【{category}】{place} 居民反映没有解决，已重新办理。"
    "请于 {response_due} 前接单，{resolution_due} 前办结（{cadre} 督办）。\n"
    "回复：接单 {number} ／ 进度 {number} 说明 ／ 办结 {number} 处理结果"
)

# Patrol findings (handlers/patrol.py): 上报 [自办] 地点 问题 opens a ticket (source patrol) that residents do not see
# until 公开 posts it to the residents' group(s) of its grid; until then its announcements stay where it was reported.
PATROL_OPENED = "已登记巡查 #{number}【{category}】{place}，由{duty}{assignee} 负责，{response}回复。{attached}"
PATROL_OPENED_SELF = "已登记巡查 #{number}【{category}】{place}，由您自办。{attached}"
PATROL_PUBLISH_HINT = "居民群暂不公开，需要时发「公开 {number}」。"
PATROL_ASSIGNED = (
    "{reporter} 巡查上报 #{number}【{category}】{place}：「{text}」，由您负责，{response}回复。{attached}\n"
    "回复：接单 {number}"
)
PATROL_ATTACHED = "已附{what}。"
PATROL_PHOTO_ATTACHED = "{what}已附在巡查 #{number}【{category}】{place}下。"
PATROL_NEEDS_PROBLEM = "请写明地点和问题。"
PATROL_PUBLIC = "#{number}【{category}】{place}：网格员巡查发现「{text}」，由 {assignee} 负责，办结后在群里告知。"
PATROL_PUBLISHED = "#{number} 已公开到：{groups}。之后的进展在居民群告知。"
PATROL_ALREADY_PUBLIC = "#{number} 已于 {time} 公开。"
PATROL_NOT_PATROL = "#{number} 是居民反映的事项，居民群里本来就能看到。"
PATROL_NO_GROUP = "#{number} 的地点不在任何网格，没有可公开的居民群。"
PATROL_VERB_PUBLISH = "公开"
