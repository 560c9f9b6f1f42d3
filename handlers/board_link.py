"""看板: a cadre asks the bot in private for a signed link to the board's cadre view (real names, own queue).

The link is signed with `HUIYIN_BOARD_SECRET` (shared with `huiyin board`) and expires after
`board.link_hours` of config.yaml. It is sent only in private: it shows residents' real names.
"""

from __future__ import annotations

import datetime as dt

from handlers.commands import Command
from handlers.context import Context
from ledger.links import sign_link
from ledger.messages import Outgoing
from settings.secrets import LINK_SECRET_VARIABLE, board_secrets

LINK = "{cadre}，这是您的看板链接，{hours}小时内有效（含居民实名，请勿转发）：\n{url}"
PRIVATE_ONLY = "看板链接含居民实名，请私聊我发送「看板」获取。"
DISABLED = f"看板链接还没有启用：请管理员在 .env 中设置 {LINK_SECRET_VARIABLE}。"


def board_link(ctx: Context, command: Command) -> list[Outgoing]:
    cadre = ctx.sender_cadre
    assert cadre is not None  # the router lets only cadres reach this handler
    if not ctx.incoming.is_private:
        return [ctx.reply(PRIVATE_ONLY)]
    secret = board_secrets().link_secret
    if secret is None:
        return [ctx.reply(DISABLED)]
    hours = ctx.settings.board.link_hours
    token = sign_link(secret, cadre.id, ctx.now + dt.timedelta(hours=hours))
    url = f"{ctx.settings.board.url.rstrip('/')}/cadre/{token}"
    return [ctx.reply(LINK.format(cadre=cadre.name, hours=hours, url=url))]
