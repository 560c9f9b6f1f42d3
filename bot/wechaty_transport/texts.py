"""What the bot itself says about delivery: to the secretary (privately) and in `huiyin outbox`."""

OUTAGE_ALERT = (
    "【回音】与微信的连接中断了 {minutes} 分钟（{start} 至 {end}），现已恢复。"
    "中断期间排队的回复正在按顺序、限速补发；如有居民着急，请在群里说明一下。"
)
DELIVERY_FAILED = (
    "【回音】一条发往「{chat}」的消息试了 {attempts} 次仍未发出，已停止重试：\n{text}\n请人工转告。（原因：{error}）"
)
FORWARDED = "[转发图片]"  # a row forwarding a received message (a photo after a dispatch order), as people read it
OUTBOX_EMPTY = "发件箱里没有未发出的消息。"
OUTBOX_NO_FAILED = "没有发送失败的消息。"
OUTBOX_STATES = {"waiting": "等待", "sending": "发送中", "retrying": "重试中", "failed": "失败"}
