"""Routing: an ordered list of (predicate, handler) pairs; the first that matches handles the message."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from handlers import texts
from handlers.commands import COMMANDS, Command, CommandError, CommandName
from handlers.context import Context
from ledger.messages import MessageKind, Outgoing

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
        if spec.cadre_only and ctx.sender_cadre is None:
            return [ctx.reply(texts.CADRE_ONLY.format(word=spec.word))]
        return handlers[command.name](ctx, command)

    return dispatch
