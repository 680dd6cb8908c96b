"""Changelog properties and ``${name}`` substitution, as Liquibase 4.28 does them, with one improvement:
a ``${name}`` that no property defines is an error at its line and column, not text left in the SQL.

Where a value comes from, first match wins (what Liquibase 4.28 does, checked against it: its documented order
puts the run's properties first, but the environment is read first and a property once set keeps its value):

1. environment variables;
2. properties given to the run (``-D name=value`` / ``--property``, or ``properties=`` in the Python API);
3. ``property`` entries of the changelogs, in the order they are read (a property, once set, keeps its
   value): first the global ones (the default), then those with ``global: false`` of the file being read.

A ``property`` entry applies only when its ``context``, ``labels`` and ``dbms`` admit the run. Every ``property``
entry of a file is read before that file's ``${...}`` are expanded, so a file may use a property it defines
further down. ``${:name}`` writes a literal ``${name}``. Names are case-insensitive, as in Liquibase, environment
variables' too (``${user}`` is ``$USER``); of variables whose names differ only in case, the one spelt as the
reference is taken, else the first (Liquibase's choice there follows Java's hash order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from yamlbase.changelog import filters
from yamlbase.changelog.filters import dbms_matches

_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9_]*)")
_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?")


class Substituted(str):
    """Text that came out of ``${...}`` substitution. Liquibase converts it to the attribute's type, so schema
    validation accepts it where a number or a boolean is expected if the text reads as one."""

    def reads_as(self, kind: str) -> bool:
        text = self.strip()
        if kind == "integer":
            return bool(_INTEGER.fullmatch(text))
        if kind == "number":
            return bool(_NUMBER.fullmatch(text))
        if kind == "boolean":
            return text.lower() in ("true", "false")
        return False


@dataclass(frozen=True)
class Definition:
    name: str
    value: str
    context: str | None = None
    labels: str | None = None
    dbms: str | None = None


@dataclass
class Selection:
    """What a run selects: its contexts, label filter and database; properties and changeSets are filtered by it."""

    contexts: frozenset[str] = frozenset()
    label_filter: str | None = None
    dbms: str | None = None


@dataclass
class Properties:
    """Every property known while reading a changelog, and the rules for looking one up."""

    given: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    selection: Selection = field(default_factory=Selection)
    global_definitions: list[Definition] = field(default_factory=list)
    local_definitions: dict[str, list[Definition]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._given = {k.lower(): str(v) for k, v in self.given.items()}
        self._environ: dict[str, list[tuple[str, str]]] = {}
        for k, v in self.environ.items():
            self._environ.setdefault(k.lower(), []).append((k, str(v)))

    def environment_variable(self, name: str) -> tuple[str, str] | None:
        """The environment variable that ``${name}`` reads, as (its name, its value), or None."""
        found = self._environ.get(name.lower())
        if not found:
            return None
        return next((pair for pair in found if pair[0] == name), found[0])

    def origin(self, name: str) -> str | None:
        """Where ``${name}`` takes its value when not from the changelog: the environment or the run's
        properties (``-D``), described; None when the changelog (or nothing) defines it."""
        variable = self.environment_variable(name)
        if variable is not None:
            return f"the environment variable {variable[0]}"
        if name.lower() in self._given:
            return f"-D {name}"
        return None

    def define(self, definition: Definition, *, global_: bool, file: str) -> None:
        if global_:
            self.global_definitions.append(definition)
        else:
            self.local_definitions.setdefault(file, []).append(definition)

    def _admits(self, d: Definition) -> bool:
        s = self.selection
        return (
            filters.labels_match(s.label_filter, filters.names(d.labels))
            and filters.context_matches(d.context, s.contexts)
            and (s.dbms is None or dbms_matches(d.dbms, s.dbms))
        )

    def lookup(self, name: str, file: str) -> str | None:
        """The value of ``name`` for ``file``, or None when nothing defines it."""
        key = name.lower()
        variable = self.environment_variable(name)
        if variable is not None:
            return variable[1]
        if key in self._given:
            return self._given[key]
        for d in self.global_definitions:
            if d.name.lower() == key and self._admits(d):
                return d.value
        for d in reversed(self.local_definitions.get(file, [])):
            if d.name.lower() == key and self._admits(d):
                return d.value
        return None

    def defined(self, name: str, file: str) -> bool:
        return self.lookup(name, file) is not None


class UndefinedProperty(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def expand(text: str, lookup: Callable[[str], str | None], _depth: int = 0) -> str:
    """``text`` with every ``${name}`` replaced (values are expanded in turn; ``${:name}`` stays literal).

    Raises :class:`UndefinedProperty` for the first name nothing defines.
    """
    if "${" not in text:
        return text
    if _depth > 20:
        raise UndefinedProperty(f"{text} (properties refer to each other in a loop)")
    out, _ = _expand_from(text, 0, lookup, _depth, inside=False)
    return out


_MARKS = re.compile(r"\$\{|\}")


def expand_pieces(texts: Iterable[str], expand_text: Callable[[str], str]) -> Iterator[str]:
    """``expand_text`` (an :func:`expand`) over the text ``texts`` make when joined, piece by piece: each piece is
    cut where no ``${`` is open, so that expanding the pieces gives what expanding the whole would. Only a
    ``${`` left open holds what follows it back, up to the end if it is never closed (as it is then kept)."""
    pending = ""
    for text in texts:
        pending += text
        cut = _safe_cut(pending)
        if cut:
            yield expand_text(pending[:cut])
            pending = pending[cut:]
    if pending:
        yield expand_text(pending)


def _safe_cut(text: str) -> int:
    """The longest start of ``text`` that closes every ``${`` it opens and does not end in the ``$`` of one."""
    depth, cut = 0, 0
    for mark in _MARKS.finditer(text):
        if mark.group() == "${":
            if depth == 0:
                cut = mark.start()
            depth += 1
        elif depth:
            depth -= 1
    if depth == 0:
        return len(text) - 1 if text.endswith("$") else len(text)
    return cut


def _expand_from(
    text: str, i: int, lookup: Callable[[str], str | None], depth: int, *, inside: bool
) -> tuple[str, int]:
    """Liquibase's reader, one character at a time: returns the expanded text and where it stopped."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == "$" and i + 1 < n and text[i + 1] == "{":
            inner, i = _expand_from(text, i + 2, lookup, depth, inside=True)
            if inner.startswith("${"):  # never closed: kept as written
                out.append(inner)
                continue
            name = inner.strip()
            if name.startswith(":"):
                out.append("${" + name[1:].strip() + "}")
                continue
            value = lookup(name)
            if value is None:
                raise UndefinedProperty(name)
            out.append(expand(value, lookup, depth + 1))
            continue
        if c == "}" and inside:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    if inside:
        return "${" + "".join(out), i
    return "".join(out), i


def expand_tree(
    data: Any,
    lookup: Callable[[str], str | None],
    path: tuple[str | int, ...],
    on_error: Callable[..., None],
    on_use: Callable[[tuple[str | int, ...], str], None] | None = None,
) -> Any:
    """``data`` with every string value expanded (mapping keys are not, as in Liquibase); each undefined
    property is reported through ``on_error(path, name)`` and the text is left as it was; each name looked up
    (also inside values) through ``on_use(path, name)``."""
    if isinstance(data, dict):
        return {k: expand_tree(v, lookup, (*path, k), on_error, on_use) for k, v in data.items()}
    if isinstance(data, list):
        return [expand_tree(v, lookup, (*path, i), on_error, on_use) for i, v in enumerate(data)]
    if isinstance(data, str) and "${" in data:
        try:
            result = expand(data, lookup if on_use is None else _noting(lookup, on_use, path))
        except UndefinedProperty as exc:
            on_error(path, exc.name)
            return data
        return Substituted(result) if result != data else data
    return data


def _noting(
    lookup: Callable[[str], str | None],
    on_use: Callable[[tuple[str | int, ...], str], None],
    path: tuple[str | int, ...],
) -> Callable[[str], str | None]:
    def noted(name: str) -> str | None:
        on_use(path, name)
        return lookup(name)

    return noted
