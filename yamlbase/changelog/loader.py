"""Reading changelog files: YAML/JSON documents with the line and column of every node, and includes.

The loader knows only enough of the changelog's shape to follow ``include`` and ``includeAll``;
everything else is checked by :mod:`yamlbase.changelog.validate` against the published JSON Schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from yamlbase.errors import Location, Problem

try:  # the C loader is several times faster; fall back to the pure-Python one where it is not built
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

CHANGELOG_SUFFIXES = (".yaml", ".yml", ".json")
# Changelog formats Liquibase reads that yamlbase does not: includeAll must not skip them silently.
FOREIGN_SUFFIXES = (".xml", ".sql")
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# Alias expansion is bounded so that an "alias bomb" is an error, not a hang.
MAX_NODES = 2_000_000

JsonPath = tuple[str | int, ...]


@dataclass
class Document:
    """One parsed changelog file: its data, and the position of every node by its path in the data."""

    path: Path
    logical_path: str
    data: Any
    marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: JsonPath, *, key: bool = False) -> Location:
        """Where the node at ``path`` (or, with ``key``, its mapping key) starts; else its nearest parent."""
        marks = self.key_marks if key else self.marks
        probe = tuple(path)
        while probe:
            if probe in marks:
                line, col = marks[probe]
                return Location(self.display_path, line, col)
            if key:
                marks, key = self.marks, False
                continue
            probe = probe[:-1]
        line, col = self.marks.get((), (1, 1))
        return Location(self.display_path, line, col)

    @property
    def display_path(self) -> str:
        return _display(self.path)


class YamlTimestamp(str):
    """An unquoted YAML date or timestamp: its text as written, with the parsed value in ``moment``."""

    moment: Any

    def __new__(cls, text: str, moment: Any) -> YamlTimestamp:
        self = super().__new__(cls, text)
        self.moment = moment
        return self


class DocumentError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _display(path: Path) -> str:
    """The path as a person would type it: relative to the working folder when inside it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def read_document(path: Path, logical_path: str) -> Document:
    """Parse one YAML or JSON file, keeping marks. Raises :class:`DocumentError` with a located problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(Problem(Location(_display(path)), "file not found")) from None
    except OSError as exc:
        raise DocumentError(Problem(Location(_display(path)), f"cannot read: {exc.strerror}")) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        where = Location(_display(path), line, column)
        raise DocumentError(Problem(where, f"not UTF-8 text ({exc.reason})")) from None
    doc = Document(path=path, logical_path=logical_path, data=None)
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        doc.data = _construct(loader, node, (), doc, [0]) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        loc = Location(_display(path), mark.line + 1, mark.column + 1) if mark else Location(_display(path))
        raise DocumentError(Problem(loc, f"YAML syntax error: {message}")) from None
    except yaml.YAMLError as exc:
        raise DocumentError(Problem(Location(_display(path)), f"YAML error: {exc}")) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise DocumentError(Problem(Location(_display(path)), f"unreadable value: {exc}")) from None
    except RecursionError:
        raise DocumentError(Problem(Location(_display(path)), "nesting too deep")) from None
    finally:
        loader.dispose()
    return doc


def _construct(loader: Any, node: yaml.Node, path: JsonPath, doc: Document, count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise DocumentError(
            Problem(
                Location(_display(doc.path), node.start_mark.line + 1, node.start_mark.column + 1),
                f"document expands to more than {MAX_NODES} nodes (YAML alias bomb?)",
            )
        )
    doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                first_line, first_col = doc.key_marks[(*path, key)]
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f'"{key}" appears twice in one mapping (first at line {first_line}:{first_col})',
                    key_node.start_mark,
                )
            doc.key_marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _construct(loader, value_node, (*path, key), doc, count)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*path, i), doc, count) for i, item in enumerate(node.value)]
    if node.tag == TIMESTAMP_TAG:
        # Liquibase reads an unquoted date (id: 2024-01-01, valueDate: 2020-01-01T10:00:00) as text; the
        # checksum still needs the parsed moment (Liquibase hashes what SnakeYAML made of it).
        return YamlTimestamp(node.value, loader.construct_object(node, deep=True))
    return loader.construct_object(node, deep=True)


def entries(doc: Document) -> Iterator[tuple[int, str, Any]]:
    """The (index, kind, body) of each ``databaseChangeLog`` entry that has a recognisable shape."""
    data = doc.data
    if not isinstance(data, dict):
        return
    items = data.get("databaseChangeLog")
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, dict) and len(item) == 1:
            ((kind, body),) = item.items()
            yield i, kind, body


def changelog_files_in(folder: Path) -> list[Path]:
    """Changelog files below ``folder`` (XML/SQL ones too, to refuse them), in lexical order of their paths."""
    suffixes = CHANGELOG_SUFFIXES + FOREIGN_SUFFIXES
    found = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())
