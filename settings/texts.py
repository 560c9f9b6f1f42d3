"""Every message about config.yaml, in Chinese for the secretary who edits the file (logs stay English).

A problem line is `<file>:<line>: <key path>: <message>`; the templates here are the `<message>` part,
filled in with `str.format`.
"""

# Reading the file.
FILE_NOT_FOUND = "找不到这个文件"
NOT_UTF8 = "不是 UTF-8 编码的文本文件（请另存为 UTF-8）"
UNREADABLE = "无法读取这个文件（{reason}）"
EMPTY_FILE = "文件是空的（至少需要 community:、grids:、cadres: 和 categories:）"
NOT_A_MAPPING = "最外层应当是 community:、grids: 这样的键，而不是{found}"
FOUND_LIST = "一个列表"
FOUND_VALUE = "单独一个值"

# YAML syntax: PyYAML's description of the common mistakes in Chinese, the rarer ones as PyYAML words them.
YAML_PROBLEMS = (  # (start of PyYAML's problem, what to say instead)
    ("expected ',' or '}'", "这里应当是英文逗号 , 或 }"),
    ("expected ',' or ']'", "这里应当是英文逗号 , 或 ]"),
    ("expected <block end>", "缩进没有对齐"),
    ("mapping values are not allowed here", "这里不能有冒号（冒号后要有空格；文字里有冒号请加引号）"),
    ("found character '\\t' that cannot start any token", "不能用 Tab 缩进，请用空格"),
    ("could not find expected ':'", "缺少冒号 :"),
    ("found unexpected end of stream", "文件意外结束（引号或括号没有配对？）"),
)
INVALID_YAML = "YAML 格式错误：{problem}"
INVALID_YAML_IN = "YAML 格式错误：{problem}（{context}从第 {line} 行开始）"
YAML_CONTEXTS = {
    "while parsing a flow mapping": "这个 {…} ",
    "while parsing a flow sequence": "这个 […] ",
    "while parsing a block mapping": "这一段 `键: 值` ",
    "while parsing a block collection": "这一段 `- ` 列表",
    "while scanning a quoted scalar": "这段引号里的文字",
    "while scanning a simple key": "这个键",
}
SPECIAL_CHARACTER = "YAML 格式错误：含有不允许的特殊字符（#x{code:04x}）"
NESTED_TOO_DEEPLY = "YAML 格式错误：列表或 `键: 值` 嵌套太深"

# A value of the wrong kind, by pydantic error type.
REQUIRED = "必须填写"
UNKNOWN_KEY = "不认识这个键"
UNKNOWN_KEY_SUGGESTION = "不认识这个键，是不是想写 {suggestion!r}？"
UNKNOWN_KEY_KNOWN = "不认识这个键（可以写的键：{known}）"
NOT_ALLOWED = "{value!r} 不是可选的值（可选：{expected}）"
VALUE_TYPES = {
    "model_type": "应当是一组 `键: 值`",
    "dict_type": "应当是一组 `键: 值`",
    "list_type": "应当是一个列表，如 [甲, 乙]",
    "string_type": "应当是文字",
    "int_type": "应当是整数",
    "int_parsing": "应当是整数",
    "int_from_float": "应当是整数",
    "float_type": "应当是数字",
    "float_parsing": "应当是数字",
    "bool_type": "应当是 true 或 false",
    "bool_parsing": "应当是 true 或 false",
    "greater_than": "应当大于 {gt}",
    "greater_than_equal": "应当不小于 {ge}",
    "less_than": "应当小于 {lt}",
    "less_than_equal": "应当不大于 {le}",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "最多只能有 {max_length} 项",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "只能用英文字母、数字和 _ . : -（如 g1、wangfang）",
}
STRING_TOO_LONG = "太长了：{length} 个字，最多 {max_length} 个"
OTHER_VALUE_PROBLEM = "写得不对（{detail}）"
GOT = "{message}（现在写的是 {value!r}）"
GOT_NOTHING = "{message}（现在是空的）"

# Values the models check.
NOT_A_TIME = "{value!r} 不是时间（请写成 HH:MM，如 '08:00'）"
NOT_A_DATE = "{value!r} 不是日期（请写成 YYYY-MM-DD，如 '2026-11-23'）"
UNKNOWN_TIMEZONE = "{value!r} 不是已知的时区（如 'Asia/Shanghai'）"
NOT_A_WEEKDAY = "{value!r} 不是星期几（可写：{days}）"
NOT_A_CRON_LINE = "{value!r} 不是 cron 时间（分 时 日 月 星期，如 '0 9 * * mon'）：{error}"

# References and consistency between sections: errors.
DUPLICATE_ID = "id {value!r} 重复了"
UNKNOWN_GRID = "没有 id 为 {value!r} 的网格"
UNKNOWN_CADRE = "没有 id 为 {value!r} 的干部"
EMPTY_SHIFT = "班次的开始和结束不能是同一时间"
NO_SECRETARY = "至少要有一位干部的 role 是 'secretary'（书记是转办的最后一环）"
DUPLICATE_CHAT_ID = "chat_id {value!r} 已经是干部 {other!r} 的了（一个微信号只能对应一位干部）"
DUPLICATE_CADRE_NAME = "{value!r} 已经是干部 {other!r} 的名字或别名（@{value} 时分不清是谁）"
DUPLICATE_GROUP_NAME = "群名 {value!r} 重复了（每个群只写一次）"
DUPLICATE_GROUP_ID = "群 id {value!r} 重复了（每个群只写一次）"
SECOND_CADRES_GROUP = "已经有干部群 {other!r} 了（kind: cadres 只能有一个）"
BUILDING_IN_TWO_GRIDS = "{value!r} 已经在网格 {other!r} 里了（一栋楼只能属于一个网格）"
DUPLICATE_DATE = "日期 {value} 重复了"
OFF_AND_WORK = "{value} 同时写在 days_off（放假）和 working_days（上班）里，只能写在一处"
WEEKEND_WORKDAY_PATTERN = "{value!r} 是周末；调休上班的周六、周日要按周一到周五中的一天排班（如 mon）"
UNKNOWN_UNIT = "没有 id 为 {value!r} 的合作单位（units:）"
AUTO_DISPATCH_WITHOUT_UNIT = "auto_dispatch: true 要配合 default_unit 使用：自动派给哪个合作单位？"
UNKNOWN_CATEGORY = "没有 id 为 {value!r} 的类别"
DUPLICATE_UNIT_NAME = "{value!r} 已经是合作单位 {other!r} 的名字或简称（派单 时分不清是哪家）"
UNKNOWN_UNIT_GROUP = "groups: 里没有群 {value!r}（合作单位的群也要写进 groups:，kind: unit）"
UNIT_GROUP_KIND = "群 {value!r} 在 groups: 里不是合作单位的群（请在那里写 kind: unit，居民群和干部群不能当作单位群）"
UNIT_UNREACHABLE = "合作单位 {value!r} 既没有 group 也没有 members，派单消息无处可发"
DUPLICATE_MEMBER_CHAT_ID = "chat_id {value!r} 已经是{other}的了（一个微信号只能对应一个人）"
CADRE_OWNER = "干部 {name!r} "
UNIT_OWNER = "{unit} 的 {name!r} "
EMPTY_WORKING_HOURS = "工作时间的开始和结束不能是同一时间（全天候的单位不写 working_hours）"
DUPLICATE_WEEKDAY = "{value!r} 重复了"
FULL_WIDTH_COMMA = "{value!r} 里有中文标点“{mark}”，会被当成一项；列表项之间请用英文逗号分隔，如 [{suggestion}]"

# Worth a look, but the bot runs: warnings.
NO_GRID_LEADER = "网格 {value!r} 没有网格长（role: grid_leader），没人值班时问题直接交给书记"
NO_KEYWORDS = "类别 {value!r} 没有关键词（keywords 或 weights），居民的消息不会被分到这一类"
UNIT_GROUP_WITHOUT_UNIT = "群 {value!r} 是 kind: unit，但没有哪家合作单位的 group 是它"
UNKNOWN_HOLIDAY_YEAR = (
    "日历库 chinese-calendar 还没有 {year} 年的放假安排，{year} 年的节假日会当作工作日（只有周末休息）；"
    "请升级它（pip install -U chinese-calendar），"
    "或把 {year} 年的放假和调休上班日期写进 holidays 的 days_off 和 working_days"
)

# Reports.
CONFIG_ERRORS = "配置文件 {path} 有错误，改好后再启动："
CHECK_ERRORS = "错误："
CHECK_WARNINGS = "警告："
CHECK_FAILED = "{path}：{errors} 处错误，{warnings} 处警告。改好错误后再运行 huiyin check。"
CHECK_WARNED = "{path}：没有错误，{warnings} 处警告（可以启动，但最好看一看）。"
CHECK_PASSED = "{path}：没有发现问题。"

# The 街道 file (street.yaml): the communities it runs and its staff.
STREET_EMPTY_FILE = "文件是空的（至少需要 street:、communities: 和 staff:）"
COMMUNITY_FILE_PROBLEMS = "社区配置文件 {path} 有 {count} 处错误（见下面以 {path} 开头的行）"
DUPLICATE_COMMUNITY_ID = "社区 id {value!r} 已经是 {other} 的了（每个社区的 community.id 要不同）"
GROUP_IN_TWO_COMMUNITIES = "群 {value!r} 已经属于社区 {other!r}（一个群只能属于一个社区）"
STAFF_IS_A_CADRE = "chat_id {value!r} 已经是社区 {other!r} 的干部（街道工作人员和社区干部请用不同的微信号）"
DUPLICATE_STAFF_CHAT_ID = "chat_id {value!r} 重复了（一个微信号只能对应一位街道工作人员）"
STAFF_ID_IS_A_CADRE = "id {value!r} 已经是社区 {other!r} 一位干部的 id（请换一个）"
