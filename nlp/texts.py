"""Every sentence of the classification feature that cadres and residents read: 改类, the note on an
uncertain category, and the service-directory answer."""

from __future__ import annotations

# 改类 12 给排水
RECATEGORISED = "已将 #{number} 的类别由【{old}】改为【{new}】，这条反映已记为分类样本。"
RECATEGORISE_SAME = "#{number} 已经是【{new}】，无需修改。"
RECATEGORISE_UNKNOWN = "没有「{name}」这个类别。可选：{names}。例：改类 {number} 给排水"
RECATEGORISE_NOT_YOURS = "抱歉，#{number} 由 {assignee} 负责，只有负责人、当班人员、网格长或书记可以改类。"
RECATEGORISE_CLOSED = "#{number} {status}，不能再改类。"

# A report the classifier was unsure about: ticketed as 其他, the cadre is asked to confirm.
UNCERTAIN_NOTE = "分类待定：可能是【{guess}】（把握 {confidence:.0%}）"
UNCERTAIN_NOTE_NO_GUESS = "分类待定：没有认出类别"
UNCERTAIN_ALERT = (
    "#{number} 未能确定类别，已暂记为【{fallback}】{guess_text}。原话：「{text}」\n"
    "请核实后回复「改类 {number} 类别」，例如「改类 {number} 给排水」。"
)
UNCERTAIN_GUESS = "（可能是【{guess}】）"

# An inquiry the service directory answers at once.
FAQ_ANSWER = "{answer}\n如果还没解决您的问题，请直接说明具体情况，我们会登记并由值班干部跟进。"
