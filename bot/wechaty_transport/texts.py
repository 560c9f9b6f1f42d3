"""What the WeChat transport itself says (to the secretary, privately)."""

OUTAGE_ALERT = (
    "【回音】与微信的连接中断了 {minutes} 分钟（{start} 至 {end}），现已恢复。"
    "中断期间排队的回复正在按顺序、限速补发；如有居民着急，请在群里说明一下。"
)
