"""Read `config.yaml` into `Settings`, turning everything wrong with it into lines the secretary can act on.

Every problem becomes one line `<file>:<line>: <key path>: <what is wrong>`, e.g.
`config.yaml:42: rota[2].end: '25:00' is not a time (use HH:MM, e.g. '08:00')`, and all of them are
reported at once so a broken file can be fixed in one pass instead of one error per restart.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from settings.models import Settings, reference_problems

Loc = Sequence[str | int]


class ConfigError(Exception):
    """The configuration cannot be used; `problems` holds one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(path: str | Path) -> Settings:
    """Read and validate the configuration file at `path`; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not a UTF-8 text file (save it as UTF-8)"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file ({exc.strerror or exc})"]) from None
    return load_settings_text(text, name=str(path))


def load_settings_text(text: str, name: str = "config.yaml") -> Settings:
    """Validate configuration given as YAML text; `name` is the file name used in problem lines."""
    root, data = _parse(text, name)
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        raise ConfigError([_not_a_mapping(root, name)])
    document = _Document(name, root)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(document.report((err["loc"], _describe(err)) for err in exc.errors())) from None
    problems = [(p.loc, p.message) for p in reference_problems(settings)]
    if problems:
        raise ConfigError(document.report(problems))
    return settings


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
        raise ConfigError([f"{name}:{line}: invalid YAML: {exc.reason} (character #x{exc.character:04x})"]) from None
    except RecursionError:
        raise ConfigError([f"{name}: invalid YAML: lists or mappings nested too deeply"]) from None


def _syntax_problem(exc: yaml.MarkedYAMLError, name: str) -> str:
    mark = exc.problem_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    message = exc.problem
    if exc.context:
        started = f" that starts on line {exc.context_mark.line + 1}" if exc.context_mark else ""
        message = f"{message} ({exc.context}{started})"
    return f"{where}: invalid YAML: {message}"


def _not_a_mapping(root: Node | None, name: str) -> str:
    if root is None:
        return f"{name}: the file is empty (it needs community:, grids:, cadres: and categories:)"
    found = "a list" if isinstance(root, SequenceNode) else "a single value"
    return f"{name}:{root.start_mark.line + 1}: the top level must be keys such as community:, grids:, not {found}"


def _describe(err: ErrorDetails) -> str:
    """Say what is wrong in the words of someone editing the file, not in pydantic's."""
    kind, value, ctx = err["type"], err["input"], err.get("ctx", {})
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return _unknown_key(err["loc"])
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    if kind in ("enum", "literal_error"):
        return f"{value!r} is not allowed (use one of {ctx['expected']})"
    message = "must be a set of `key: value` lines" if kind == "model_type" else err["msg"]
    if value is None:
        return f"{message} (got nothing)"
    if isinstance(value, str | int | float):
        return f"{message} (got {value!r})"
    return message


def _unknown_key(loc: Loc) -> str:
    known = _known_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return f"unknown key, did you mean {close[0]!r}?"
    return f"unknown key (known keys: {', '.join(known)})" if known else "unknown key"


def _known_keys(loc: Loc) -> list[str]:
    """The field names of the model that the data at `loc` is validated as."""
    annotation: Any = Settings
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


class _Document:
    """The parsed file's node tree, used to turn key locations into key paths and line numbers."""

    def __init__(self, name: str, root: MappingNode) -> None:
        self.name = name
        self.root = root

    def report(self, problems: Iterable[tuple[Loc, str]]) -> list[str]:
        """Format (loc, message) pairs as problem lines, in the order they appear in the file."""
        located = [(*self.locate(loc), message) for loc, message in problems]
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
