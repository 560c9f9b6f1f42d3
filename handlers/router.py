"""Routing: an ordered list of (predicate, handler) pairs; the first that matches handles the message."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from handlers import texts
from handlers.commands import COMMANDS, Command, CommandError, CommandName, CommandSpec
from handlers.context import Context
from ledger.messages import MessageKind, Outgoing
from settings.models import GroupKind

Handler = Callable[[Context], list[Outgoing]]
CommandHandler = Callable[[Context, Command], list[Outgoing]]


@dataclass(frozen=True)
class Route:
    name: str
    matches: Callable[[Context], bool]
    handle: Handler


def route(routes: Sequence[Route], ctx: Context) -> list[Outgoing]:
    for candidate in routes:
        if candidate.matches(ctx):
            return candidate.handle(ctx)
    return []


def is_not_text(ctx: Context) -> bool:
    return ctx.incoming.kind is not MessageKind.TEXT


def is_command(ctx: Context) -> bool:
    return ctx.command is not None


def is_from_cadre(ctx: Context) -> bool:
    return ctx.sender_cadre is not None


def is_from_partner_unit(ctx: Context) -> bool:
    """A partner unit's member anywhere, or anyone in a unit's own group (kind: unit): never a residents' report."""
    if ctx.unit_member is not None:
        return True
    group = None if ctx.incoming.is_private else ctx.settings.group(ctx.incoming.chat_id, ctx.incoming.chat_name)
    return group is not None and group.kind is GroupKind.UNIT


def always(ctx: Context) -> bool:
    return True


def ignore(ctx: Context) -> list[Outgoing]:
    return []


def command_dispatcher(handlers: Mapping[CommandName, CommandHandler]) -> Handler:
    """A handler that answers syntax errors, refuses cadre commands to residents, then runs the command."""

    def dispatch(ctx: Context) -> list[Outgoing]:
        command = ctx.command
        if isinstance(command, CommandError):
            problem = texts.SYNTAX_PROBLEMS.get(command.problem.value, "")
            return [ctx.reply(problem + texts.SYNTAX.format(usage=command.usage))]
        assert command is not None
        spec = COMMANDS[command.name]
        refusal = _refusal(ctx, spec)
        if refusal is not None:
            return [ctx.reply(refusal)]
        return handlers[command.name](ctx, command)

    return dispatch


def _refusal(ctx: Context, spec: CommandSpec) -> str | None:
    """Why the sender may not use the command at all, or None. Cadres use the cadre commands; a partner unit's
    member uses the few marked `units` (on its own tickets: the handler checks); residents use the rest."""
    unit_member = ctx.unit_member
    if spec.unit_only and unit_member is None:
        return texts.UNIT_ONLY.format(word=spec.word)
    if not spec.cadre_only or ctx.sender_cadre is not None:
        return None
    if unit_member is not None:
        return None if spec.units else texts.UNIT_MAY_NOT.format(word=spec.word, unit=unit_member.unit.name)
    return texts.CADRE_ONLY.format(word=spec.word)
