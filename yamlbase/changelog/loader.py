"""Reading changelog files: YAML/JSON documents with the line and column of every node, and includes.

The loader knows only enough of the changelog's shape to follow ``include`` and ``includeAll``;
everything else is checked by :mod:`yamlbase.changelog.validate` against the published JSON Schema.
"""

from __future__ import annotations

import functools
import os
import re
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
# Nodes built again because an alias repeats a collection: a few hundred bytes of "alias bomb" must not
# cost seconds and gigabytes before MAX_NODES is reached. Sharing a column list or two costs far less.
MAX_ALIAS_NODES = 100_000
# Nesting levels (collections and their scalars). libyaml's composer recurses in C and overflows the stack
# (a crash, not an exception) some ten thousand levels down; SnakeYAML, and so Liquibase, refuses more than
# 50 nested collections. A changelog needs about a dozen.
MAX_DEPTH = 100
MERGE_TAG = "tag:yaml.org,2002:merge"
VALUE_TAG = "tag:yaml.org,2002:value"

JsonPath = tuple[str | int, ...]


@dataclass
class Document:
    """One parsed changelog file: its data, and the position of every node by its path in the data."""

    path: Path
    logical_path: str
    data: Any
    # The file's resource path in the search path (its FILENAME unless a logicalFilePath says otherwise), and
    # the FILENAME yamlbase gave it before following Liquibase's search path (relative to the root's folder).
    resource: str = ""
    legacy_path: str = ""
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

    @functools.cached_property
    def display_path(self) -> str:
        return _display(self.path)  # once per file: every located node of it names it


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


def shown(text: object) -> str:
    """``text`` for a message: characters that would act on a terminal (ESC, NUL, bidi overrides) escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def _display(path: Path) -> str:
    """The path as a person would type it: relative to the working folder when inside it, else absolute."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


class _TooDeep(Exception):
    """Nesting went past MAX_DEPTH while composing; the position is found again afterwards."""


class _BoundedLoader(SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader with bounds on nesting and on merge keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    # The composer (in C or in Python) calls these around every node: the one place to bound its recursion.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep
        if self.yaml_path_resolvers:  # none unless someone registered one: skip the call, it is per node
            super().descend_resolver(current_node, current_index)

    def ascend_resolver(self) -> None:
        self.depth -= 1
        if self.yaml_path_resolvers:
            super().ascend_resolver()

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Apply ``<<`` merge keys; a key written in the mapping overrides a merged one (YAML 1.1, SnakeYAML).

        Overridden merged pairs are dropped at every level (PyYAML recurses through this method), so only
        a key written twice in one mapping is a duplicate, and merges of merges cannot multiply.
        """
        tags = [key.tag for key, _ in node.value]
        if MERGE_TAG not in tags and VALUE_TAG not in tags:
            return
        own = len(tags) - tags.count(MERGE_TAG)
        super().flatten_mapping(node)
        split = len(node.value) - own
        merged, written = node.value[:split], node.value[split:]
        if not merged:
            return
        later = {key.value for key, _ in written if isinstance(key, yaml.ScalarNode)}
        kept = []
        for key, value in reversed(merged):  # PyYAML lets the later of two merged pairs win
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is None or name not in later:
                kept.append((key, value))
                later.add(name)
        node.value = kept[::-1] + written


def _too_deep_mark(text: str) -> Any:
    """Where nesting first goes past MAX_DEPTH (read again from the parser's events, which carry marks)."""
    try:
        return _first_event_past_max_depth(SafeLoader(text))
    except yaml.YAMLError:
        return None


def _first_event_past_max_depth(parser: Any) -> Any:
    """The start mark of the first event nested past MAX_DEPTH, else None; raises the parser's YAMLError."""
    depth = 0
    try:
        while (event := parser.get_event()) is not None and not isinstance(event, yaml.StreamEndEvent):
            if isinstance(event, yaml.CollectionStartEvent | yaml.ScalarEvent) and depth + 1 > MAX_DEPTH:
                return event.start_mark
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return None
    finally:
        parser.dispose()


def _too_deep(path: Path, mark: Any) -> Problem:
    """The problem of a document nesting past MAX_DEPTH, at ``mark`` (else at the file's start)."""
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Problem(Location(_display(path), line, column), f"nesting deeper than {MAX_DEPTH} levels")


def _syntax_problem(path: Path, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """The first problem in ``text``, which the loader refused with ``exc``.

    libyaml (as PyYAML's wheels bundle it from 6.0.4 on) bounds nesting itself, at 1000 levels, in its scanner,
    which reads up to 1024 characters of a line ahead of the parser: on a line of brackets, its error comes before
    the composer passes MAX_DEPTH, or before a syntax error earlier on the line. The pure-Python parser, which has
    no such bound, reads the text again to find which comes first (slower; only on this error path, and not for
    a constructor's error, which comes after the whole document was read).
    """
    if SafeLoader is not yaml.SafeLoader and not isinstance(exc, yaml.constructor.ConstructorError):
        try:
            if (deep := _first_event_past_max_depth(yaml.SafeLoader(text))) is not None:
                return _too_deep(path, deep)
        except yaml.MarkedYAMLError as again:
            if _mark_position(again) < _mark_position(exc):
                exc = again
        except (yaml.YAMLError, RecursionError):
            pass
    tab = _tab_problem(text, exc.problem_mark)
    if tab:
        return Problem(Location(_display(path), exc.problem_mark.line + 1, exc.problem_mark.column + 1), tab)
    mark = exc.problem_mark or exc.context_mark
    message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
    loc = Location(_display(path), mark.line + 1, mark.column + 1) if mark else Location(_display(path), 1, 1)
    return Problem(loc, f"YAML syntax error: {message}")


def _mark_position(exc: yaml.MarkedYAMLError) -> tuple[int, int]:
    """Where ``exc`` points in its text, as (line, column), for comparing two errors."""
    mark = exc.problem_mark or exc.context_mark
    return (mark.line, mark.column) if mark else (0, 0)


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``, counting line breaks as YAML does."""
    before = text[:index]
    breaks = list(_LINE_BREAK.finditer(before))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - start + 1


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
# A JSON string (a tab in one is escaped, never written as it is) or a tab between tokens.
_JSON_STRING_OR_TAB = re.compile(r'"(?:[^"\\]|\\.)*"|\t', re.DOTALL)


def _json_tabs_as_spaces(text: str) -> str:
    """JSON allows tabs between tokens; YAML (which reads JSON files here) refuses them in places, and PyYAML's
    pure-Python scanner everywhere. A space in their place means the same JSON, at the same line and column."""
    return _JSON_STRING_OR_TAB.sub(lambda m: " " if m.group() == "\t" else m.group(), text)


def _tab_problem(text: str, mark: Any) -> str | None:
    """The problem when a YAML error is at a tab character (PyYAML says "cannot start any token" or "violates
    indentation"): said in terms of the tab; None when the error is not at one."""
    if mark is None:
        return None
    lines = _LINE_BREAK.split(text)
    line = lines[mark.line] if 0 <= mark.line < len(lines) else ""
    if line[mark.column : mark.column + 1] != "\t":
        return None
    if not line[: mark.column].strip(" \t-?:"):  # only indentation (and the indicators "- ", "? ", ": ") before it
        return "tab characters are not allowed for indentation in YAML; indent with spaces"
    return "a tab character is not allowed here in YAML; use spaces"


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
    if "\t" in text and path.suffix.lower() == ".json":
        text = _json_tabs_as_spaces(text)
    doc = Document(path=path, logical_path=logical_path, data=None)
    loader = None
    try:
        loader = _BoundedLoader(text)  # the pure-Python reader checks every character here already
        node = loader.get_single_node()
        doc.data = _construct(loader, node, (), doc, _Budget()) if node is not None else None
    except _TooDeep:
        raise DocumentError(_too_deep(path, _too_deep_mark(text))) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML forbids (NUL, other control characters): locate it, the reader gives only an offset.
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)
        line, column = _line_column(text, found.start()) if found else (1, 1)
        character = f"U+{ord(found.group()):04X}" if found else repr(exc.character)
        loc = Location(_display(path), line, column)
        raise DocumentError(Problem(loc, f"character {character} is not allowed in YAML")) from None
    except yaml.MarkedYAMLError as exc:
        raise DocumentError(_syntax_problem(path, text, exc)) from None
    # Not expected any more (each is located above); still an error in the file, at its start, not a crash.
    except yaml.YAMLError as exc:
        raise DocumentError(Problem(Location(_display(path), 1, 1), f"YAML error: {exc}")) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise DocumentError(Problem(Location(_display(path), 1, 1), f"unreadable value: {exc}")) from None
    except RecursionError:
        raise DocumentError(Problem(Location(_display(path), 1, 1), "nesting too deep")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return doc


@dataclass
class _Budget:
    """What building a document has cost so far: nodes, and nodes built again for aliases."""

    nodes: int = 0
    alias_nodes: int = 0
    built: set[int] = field(default_factory=set)  # ids of the collection nodes built at least once


def _node_location(doc: Document, node: yaml.Node) -> Location:
    return Location(_display(doc.path), node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(loader: Any, node: yaml.Node, doc: Document) -> Any:
    try:
        value = loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:  # 10_000-digit integers, February 30th, !!int x
        raise DocumentError(Problem(_node_location(doc, node), f"unreadable value: {exc}")) from None
    # "\ud800" is refused by libyaml but not by PyYAML's pure-Python scanner: text that cannot be printed or stored
    if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
        raise DocumentError(Problem(_node_location(doc, node), "a lone UTF-16 surrogate escape is not text"))
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _construct(loader: Any, node: yaml.Node, path: JsonPath, doc: Document, budget: _Budget, copy: bool = False) -> Any:
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        message = f"document expands to more than {MAX_NODES} nodes (YAML alias bomb?)"
        raise DocumentError(Problem(_node_location(doc, node), message))
    if isinstance(node, yaml.CollectionNode):
        if len(path) >= MAX_DEPTH:  # aliases nest without the composer seeing it, or refer to themselves
            message = f"nesting deeper than {MAX_DEPTH} levels (through aliases)"
            raise DocumentError(Problem(_node_location(doc, node), message))
        copy = copy or id(node) in budget.built
        budget.built.add(id(node))
    if copy:
        budget.alias_nodes += 1
        if budget.alias_nodes > MAX_ALIAS_NODES:
            message = f"aliases repeat more than {MAX_ALIAS_NODES} nodes (YAML alias bomb?)"
            raise DocumentError(Problem(_node_location(doc, node), message))
    doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            key = _scalar(loader, key_node, doc)
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
                    f'"{shown(key)}" appears twice in one mapping (first at line {first_line}:{first_col})',
                    key_node.start_mark,
                )
            doc.key_marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _construct(loader, value_node, (*path, key), doc, budget, copy)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*path, i), doc, budget, copy) for i, item in enumerate(node.value)]
    if node.tag == TIMESTAMP_TAG:
        # Liquibase reads an unquoted date (id: 2024-01-01, valueDate: 2020-01-01T10:00:00) as text; the
        # checksum still needs the parsed moment (Liquibase hashes what SnakeYAML made of it).
        return YamlTimestamp(node.value, _scalar(loader, node, doc))
    return _scalar(loader, node, doc)


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
