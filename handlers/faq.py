"""An inquiry the service directory (`faq:` in config.yaml) answers: the answer at once, no ticket."""

from __future__ import annotations

from handlers.context import Context
from ledger.messages import Outgoing
from nlp import texts
from nlp.faq import match_faq


def answer(ctx: Context) -> Outgoing | None:
    """The directory's answer to the message, or None when no entry matches (it becomes a ticket)."""
    entry = match_faq(ctx.incoming.text, ctx.settings.faq)
    return None if entry is None else ctx.reply(texts.FAQ_ANSWER.format(answer=entry.answer.strip()))
