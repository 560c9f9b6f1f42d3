"""Read `config.yaml` into `Settings`, turning everything wrong with it into lines the secretary can act on.

Every problem becomes one line `<file>:<line>: <key path>: <what is wrong>`, e.g.
`config.yaml:42: rota[2].end: '25:00' 不是时间（请写成 HH:MM，如 '08:00'）`, and all of them are
reported at once so a broken file can be fixed in one pass instead of one error per restart. The key
path and line are for finding the spot; the message (`settings.texts`) is Chinese, for the secretary.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from settings import texts
from settings.models import Settings
from settings.rules import ConfigProblem, config_problems

Loc = Sequence[str | int]


class ConfigError(Exception):
    """The configuration cannot be used; `problems` holds one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(path: str | Path) -> Settings:
    """Read and validate the configuration file at `path`; raise ConfigError listing every problem."""
    return load_settings_text(read_config_file(path), name=str(path))


def read_config_file(path: str | Path) -> str:
    """The text of the configuration file at `path`; ConfigError when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: {texts.FILE_NOT_FOUND}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: {texts.NOT_UTF8}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: {texts.UNREADABLE.format(reason=exc.strerror or exc)}"]) from None


def load_settings_text(text: str, name: str = "config.yaml") -> Settings:
    """Validate configuration given as YAML text; `name` is the file name used in problem lines."""
    reading = read_settings_text(text, name)
    if reading.problems or reading.settings is None:
        raise ConfigError(reading.problems)
    return reading.settings


@dataclass(frozen=True)
class Reading:
    """What reading a configuration found: every problem as a line and, when its values are well-formed
    (even if they do not fit together), the settings and the parsed document to locate more findings."""

    problems: list[str]
    settings: Settings | None = None
    document: Document | None = None


def read_settings_text(text: str, name: str = "config.yaml") -> Reading:
    """Parse and validate YAML text, collecting the problems instead of raising them."""
    try:
        root, data = _parse(text, name)
    except ConfigError as error:
        return Reading(error.problems)
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        return Reading([_not_a_mapping(root, name)])
    document = Document(name, root)
    punctuation = list(_full_width_commas(root))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        return Reading(document.report(punctuation + validation_problems(exc, Settings)))
    return Reading(document.report(punctuation + list(config_problems(settings))), settings, document)


def parse_document(text: str, name: str) -> tuple[Document, Any]:
    """The YAML text's located node tree and its data; ConfigError (a located line) when it is no mapping."""
    root, data = _parse(text, name)
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        raise ConfigError([_not_a_mapping(root, name)])
    return Document(name, root), data


def validation_problems(error: ValidationError, model: type[BaseModel]) -> list[ConfigProblem]:
    """Pydantic's errors for a file validated as `model`, in the words of someone editing the file."""
    return [ConfigProblem(tuple(err["loc"]), _describe(err, model)) for err in error.errors()]


class _TextForBadDates:
    """A date YAML cannot build (2026-13-01) stays text, for validation to report with its key."""

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[misc]
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[attr-defined]


class _Loader(_TextForBadDates, yaml.SafeLoader):
    """The pure-Python safe loader: its error messages and marks are the ones reported."""


class _FastLoader(_TextForBadDates, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser (in PyYAML's wheels): reads the ~900-keyword config several times faster."""


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _loader.construct_yaml_timestamp)


def _load(loader_class: type, text: str) -> tuple[Node | None, Any]:
    """What `yaml.safe_load` does, split in two steps so the nodes and the data come from one parse
    (merge keys `<<:` are flattened into the same nodes the data was built from)."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _parse(text: str, name: str) -> tuple[Node | None, Any]:
    """Parse keeping the node tree, so problems can point at line numbers.

    The fast parser reads a valid file; a file it refuses is read again by the pure-Python one, whose
    messages say exactly where and what is wrong.
    """
    try:
        return _load(_FastLoader, text)
    except (yaml.YAMLError, RecursionError):
        pass
    try:
        return _load(_Loader, text)  # the reader rejects control characters here, before parsing
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_syntax_problem(exc, name)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError([f"{name}:{line}: {texts.SPECIAL_CHARACTER.format(code=exc.character)}"]) from None
    except RecursionError:
        raise ConfigError([f"{name}: {texts.NESTED_TOO_DEEPLY}"]) from None


def _syntax_problem(exc: yaml.MarkedYAMLError, name: str) -> str:
    mark = exc.problem_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    problem = str(exc.problem)
    problem = next((said for start, said in texts.YAML_PROBLEMS if problem.startswith(start)), problem)
    if exc.context and exc.context_mark:
        context = texts.YAML_CONTEXTS.get(exc.context, exc.context)
        message = texts.INVALID_YAML_IN.format(problem=problem, context=context, line=exc.context_mark.line + 1)
    else:
        message = texts.INVALID_YAML.format(problem=problem)
    return f"{where}: {message}"


def _not_a_mapping(root: Node | None, name: str) -> str:
    if root is None:
        return f"{name}: {texts.EMPTY_FILE}"
    found = texts.FOUND_LIST if isinstance(root, SequenceNode) else texts.FOUND_VALUE
    return f"{name}:{root.start_mark.line + 1}: {texts.NOT_A_MAPPING.format(found=found)}"


def _describe(err: ErrorDetails, model: type[BaseModel]) -> str:
    """Say what is wrong in the words of someone editing the file, not in pydantic's."""
    kind, value, ctx = err["type"], err["input"], err.get("ctx", {})
    if kind == "missing":
        return texts.REQUIRED
    if kind == "extra_forbidden":
        return _unknown_key(err["loc"], model)
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in ("enum", "literal_error"):
        return texts.NOT_ALLOWED.format(value=value, expected=ctx["expected"].replace(" or ", ", "))
    if kind == "string_too_long":
        return texts.STRING_TOO_LONG.format(length=len(value), max_length=ctx["max_length"])
    template = texts.VALUE_TYPES.get(kind)
    message = template.format(**ctx) if template else texts.OTHER_VALUE_PROBLEM.format(detail=err["msg"])
    if value is None:
        return texts.GOT_NOTHING.format(message=message)
    if isinstance(value, str | int | float):
        return texts.GOT.format(message=message, value=value)
    return message


def _unknown_key(loc: Loc, model: type[BaseModel]) -> str:
    known = _known_keys(loc[:-1], model)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return texts.UNKNOWN_KEY_SUGGESTION.format(suggestion=close[0])
    return texts.UNKNOWN_KEY_KNOWN.format(known=", ".join(known)) if known else texts.UNKNOWN_KEY


def _known_keys(loc: Loc, model: type[BaseModel]) -> list[str]:
    """The field names of the model that the data at `loc` is validated as (`model` being the file's)."""
    annotation: Any = model
    for step in loc:
        if isinstance(step, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(step)
            if field is None:
                return []
            annotation = field.annotation
        elif isinstance(step, int) and get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        else:
            return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


_LIST_MARKS = ("，", "、")  # Chinese punctuation typed where a flow list wants an ASCII comma


def _full_width_commas(root: Node) -> Iterator[ConfigProblem]:
    """Find `[7号楼，8号楼]`: YAML reads it as the one item '7号楼，8号楼', so the mistake changes no type.

    Only unquoted items are reported: quoting one (`["7号楼，8号楼"]`) keeps the mark on purpose.
    """
    stack: list[tuple[tuple[str | int, ...], Node]] = [((), root)]
    seen: set[int] = set()  # an alias shares its anchor's node, and may even contain itself
    while stack:
        loc, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(((*loc, key.value), value) for key, value in node.value if isinstance(key, ScalarNode))
        elif isinstance(node, SequenceNode):
            stack.extend(((*loc, index), item) for index, item in enumerate(node.value))
            if node.flow_style:
                yield from _comma_items(loc, node)


def _comma_items(loc: tuple[str | int, ...], node: SequenceNode) -> Iterator[ConfigProblem]:
    for index, item in enumerate(node.value):
        if not isinstance(item, ScalarNode) or item.style:  # a quoted item keeps its marks on purpose
            continue
        mark = next((m for m in _LIST_MARKS if m in item.value), None)
        if mark is not None:
            parts = [part.strip() for part in item.value.replace("、", "，").split("，")]
            suggestion = ", ".join(part for part in parts if part)
            message = texts.FULL_WIDTH_COMMA.format(value=item.value, mark=mark, suggestion=suggestion)
            yield ConfigProblem((*loc, index), message)


class Document:
    """The parsed file's node tree, used to turn key locations into key paths and line numbers."""

    def __init__(self, name: str, root: MappingNode) -> None:
        self.name = name
        self.root = root

    def report(self, problems: Iterable[ConfigProblem]) -> list[str]:
        """Format problems as lines, in the order they appear in the file."""
        located = [(*self.locate(p.loc), p.message) for p in problems]
        located.sort(key=lambda item: (item[1] is None, item[1] or 0))
        lines = []
        for path, line, message in located:
            where = f"{self.name}:{line}" if line is not None else self.name
            lines.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")
        return lines

    def locate(self, loc: Loc) -> tuple[str, int | None]:
        """Return the key path (`rota[2].end`) and the 1-based line of `loc`.

        A mapping entry's line is the line of its key, so `community` points at `community:` rather than
        at the first key inside it. A missing key points at its parent; a location that is not in the file
        at all (a default value) has no line.
        """
        path = ""
        node: Node | None = self.root
        line: int | None = self.root.start_mark.line + 1
        for depth, step in enumerate(loc):
            in_list = isinstance(node, SequenceNode) or (node is None and isinstance(step, int))
            path += f"[{step}]" if in_list else (f".{step}" if path else str(step))
            found = _child(node, step)
            if found is not None:
                line, node = found
            else:
                is_missing_key = isinstance(node, MappingNode) and depth == len(loc) - 1
                line = line if is_missing_key else None
                node = None
        return path, line


def _child(node: Node | None, step: str | int) -> tuple[int, Node] | None:
    """The line and value node of key or index `step` inside `node`, if the file has it."""
    if isinstance(node, MappingNode):
        for key, value in reversed(node.value):  # the last of duplicate keys is the one that counts
            if isinstance(key, ScalarNode) and key.value == str(step):
                return key.start_mark.line + 1, value
    elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        item = node.value[step]
        return item.start_mark.line + 1, item
    return None
