"""Reading a changelog: files and includes → schema validation → typed model, every problem at once."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePath
from typing import Literal

from pydantic import ValidationError

from yamlbase.changelog.entries import IncludeAllEntry, IncludeEntry, PropertyEntry
from yamlbase.changelog.filters import dbms_matches
from yamlbase.changelog.loader import (
    FOREIGN_SUFFIXES,
    Document,
    DocumentError,
    changelog_files_in,
    entries,
    read_document,
    shown,
)
from yamlbase.changelog.model import ChangeLog, ChangeSet, build_changeset
from yamlbase.changelog.preconditions import Preconditions, build_preconditions
from yamlbase.changelog.properties import Definition, Properties, Selection, UndefinedProperty, expand, expand_tree
from yamlbase.changelog.search_path import DuplicateFile, Found, SearchPath, SearchPathLike, normalize, sibling
from yamlbase.changelog.validate import validate_document
from yamlbase.errors import ChangeLogError, Location, Problem

__all__ = ["ChangeLog", "ChangeSet", "SearchPath", "Selection", "parse_changelog"]


def parse_changelog(
    path: str | os.PathLike[str],
    *,
    selection: Selection | None = None,
    properties: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    search_path: SearchPathLike | SearchPath | None = None,
) -> ChangeLog:
    """Load, validate and model the changelog at ``path`` with all its includes.

    Raises :class:`~yamlbase.errors.ChangeLogError` listing every problem in every file, each located.
    Files are found and named as Liquibase 4.28 finds and names them: ``path``, non-relative ``include`` /
    ``includeAll`` / ``sqlFile`` / ``loadData`` / property ``file`` paths are looked up in ``search_path`` (its
    roots, in order; by default the working folder), and FILENAME is a file's path relative to the root holding
    it. A root changelog given by a path on disk inside a root is named relative to that root; one outside the
    default search path has its own folder as the search path (as if yamlbase ran there). Each changeSet also
    keeps the FILENAME yamlbase gave it before (relative to the root changelog's folder), so that a history
    written that way can be recognised. ``selection`` (contexts, labels, database) decides which ``property``
    entries apply and, when it names a database, leaves out changeSets whose ``dbms`` excludes it, as
    Liquibase does while parsing; ``properties`` are the run's own (``-D``), ``environ`` the environment
    (``os.environ`` by default).
    """
    search = SearchPath.of(search_path)
    root, search = _root(os.fspath(path), search)
    store = Properties(
        given=dict(properties or {}),
        environ=dict(os.environ if environ is None else environ),
        selection=selection or Selection(),
    )
    reader = _Reader(search, root.file.parent, store)
    found = reader.visit(root, None, (), (), ())
    if reader.problems:
        raise ChangeLogError(reader.problems)
    for name, value in store.given.items():
        variable = store.environment_variable(name)
        if variable is not None and variable[1] != str(value):
            message = (
                f"ignored: the environment variable {variable[0]} gives ${{{shown(name)}}} its value "
                "(the environment comes first, as in Liquibase)"
            )
            reader.property_warnings.append(Problem(Location(f"-D {shown(name)}"), message))
    return ChangeLog(
        path=root.name,
        changesets=found,
        selection=store.selection,
        preconditions=reader.preconditions,
        properties=store,
        property_warnings=reader.property_warnings,
        search_path=search,
    )


def _root(text: str, search: SearchPath) -> tuple[Found, SearchPath]:
    """The root changelog ``text`` names, found as :meth:`SearchPath.locate` finds files (also as a path relative
    to the working folder), and the search path to read it with."""
    try:
        found = search.locate(text) or search.locate(os.path.abspath(text))
    except DuplicateFile as exc:
        raise ChangeLogError([Problem(Location(shown(text)), str(exc))]) from None
    if found is not None:
        return found, search
    file = Path(os.path.abspath(text))
    if file.is_file():
        if not search.given:  # outside the working folder: its own folder is the search path
            return Found(file, file.name), SearchPath((file.parent,), given=False)
        message = f"the changelog is outside the search path ({search.describe()})"
        raise ChangeLogError([Problem(Location(shown(text)), message)])
    return Found(file, normalize(text)), search  # read_document says it is not there


def _logical(file: Path, base: Path) -> str:
    """``file`` relative to ``base``: the FILENAME yamlbase wrote before it followed Liquibase's search path
    (``base`` the root changelog's folder)."""
    try:
        return file.relative_to(base).as_posix()
    except ValueError:
        return Path(os.path.relpath(file, base)).as_posix()


def _not_found(what: str, name: str, search: SearchPath) -> str:
    return f"{what} not found: {shown(name)} (looked in {search.describe()})"


def add_in_run_order(changesets: list[ChangeSet], cs: ChangeSet) -> None:
    """Append ``cs`` as Liquibase's ``DatabaseChangeLog.addChangeSet`` does: ``runOrder: first`` after the other
    firsts, ``last`` at the very end, any other before the lasts."""
    if cs.run_order == "last":
        changesets.append(cs)
        return
    if cs.run_order == "first":
        at = next((i for i, other in enumerate(changesets) if other.run_order != "first"), len(changesets))
    else:
        at = len(changesets)
        while at > 0 and changesets[at - 1].run_order == "last":
            at -= 1
    changesets.insert(at, cs)


class _Reader:
    def __init__(self, search: SearchPath, legacy_base: Path, properties: Properties) -> None:
        self.search = search
        self.legacy_base = legacy_base  # the root changelog's folder: the FILENAMEs an older yamlbase wrote
        self.properties = properties
        self.problems: list[Problem] = []
        self.seen: dict[tuple[str, str, str], ChangeSet] = {}
        self.preconditions: list[Preconditions] = []
        # The environment overriding a property the changelog defines, located at the property entry.
        self.property_warnings: list[Problem] = []

    def visit(
        self,
        resource: Found,
        included_at: Location | None,
        stack: tuple[Found, ...],
        contexts: tuple[str, ...],
        labels: tuple[str, ...],
    ) -> list[ChangeSet]:
        """The changeSets of ``resource`` and what it includes, in run order; problems are collected."""
        found: list[ChangeSet] = []
        file = resource.file
        if any(f.file == file for f in stack):
            chain = " -> ".join(f.name for f in (*stack, resource))
            self.problems.append(Problem(included_at or Location(str(file)), f"include cycle: {chain}"))
            return found
        if file.suffix.lower() in FOREIGN_SUFFIXES:
            message = f"{resource.name}: {file.suffix} changelogs are not supported (YAML and JSON are)"
            self.problems.append(Problem(included_at or Location(str(file)), message))
            return found
        try:
            doc = read_document(file, resource.name)
        except DocumentError as exc:
            problem = exc.problem
            if included_at is not None and problem.location.line == 0:
                # The file itself could not be read: the include that names it is where to look.
                detail = "not found" if problem.message == "file not found" else problem.message
                problem = Problem(included_at, f"included file {detail}: {resource.name}")
            self.problems.append(problem)
            return found
        doc.resource = resource.name
        doc.legacy_path = _logical(file, self.legacy_base)
        self._logical_path(doc)
        self._define_properties(doc)
        used = self._expand(doc)
        schema_problems = validate_document(doc)
        self.problems.extend(schema_problems)
        spoiled = {p.node_path[1] for p in schema_problems if len(p.node_path) > 1} if schema_problems else set()
        whole_file_bad = any(len(p.node_path) <= 1 for p in schema_problems)
        if whole_file_bad:
            return found
        for index, kind, body in entries(doc):
            if index in spoiled:
                continue
            if kind == "changeSet":
                cs = build_changeset(
                    doc, index, body, self.problems, contexts, labels, search=self.search, expand=self._expander(doc)
                )
                if cs is not None:
                    cs.outside_properties = self._outside(used.get(index, ()))
                if cs is not None and self._admit(cs):
                    add_in_run_order(found, cs)
            elif kind == "include":
                for cs in self._include(
                    doc, index, IncludeEntry.model_validate(body), (*stack, resource), contexts, labels
                ):
                    add_in_run_order(found, cs)
            elif kind == "includeAll":
                entry = IncludeAllEntry.model_validate(body)
                for cs in self._include_all(doc, index, entry, (*stack, resource), contexts, labels):
                    add_in_run_order(found, cs)
            elif kind == "preConditions" and body is not None:
                block = build_preconditions(doc, ("databaseChangeLog", index, "preConditions"), body, self.problems)
                if block is not None:
                    self.preconditions.append(block)
        return found

    def _logical_path(self, doc: Document) -> None:
        """A changelog-level ``- logicalFilePath: x`` entry names the file in the history instead of its path
        (backslashes as slashes, without a leading ``/``, as Liquibase's ``getLogicalFilePath``)."""
        for _, kind, body in entries(doc):
            if kind == "logicalFilePath" and isinstance(body, str) and body.strip():
                doc.legacy_path = body.strip()
                doc.logical_path = body.strip().replace("\\", "/").removeprefix("/")

    def _define_properties(self, doc: Document) -> None:
        """Every ``property`` entry of the file, read before any of its ``${...}`` is expanded (as Liquibase)."""
        for index, kind, body in entries(doc):
            if kind != "property" or not isinstance(body, dict):
                continue
            where = doc.location(("databaseChangeLog", index, "property"))
            try:
                entry = PropertyEntry.model_validate(body)
            except ValidationError:
                continue  # the schema check reports it, located
            if (entry.name is None) == (entry.file is None):
                self.problems.append(Problem(where, "property: give either name (with value) or file"))
                continue
            pairs: list[tuple[str, str]] = []
            if entry.name is not None:
                if entry.value is None:
                    self.problems.append(Problem(where, f"property {shown(entry.name)}: no value"))
                    continue
                pairs = [(entry.name, entry.value)]
            else:
                assert entry.file is not None
                at = doc.location(("databaseChangeLog", index, "property", "file"))
                if entry.relative_to_changelog_file:  # Liquibase: the file beside this one, not a search
                    source = self._resolve(doc.path.parent, entry.file, at)
                    if source is None:
                        continue
                    missing = f"properties file not found: {shown(sibling(doc.resource, entry.file))}"
                else:
                    located = self._locate(entry.file, at)
                    if located is False:
                        continue
                    source = located.file if located is not None else None
                    missing = _not_found("properties file", normalize(entry.file), self.search)
                if source is None or not source.is_file():
                    if entry.error_if_missing is not False:
                        self.problems.append(Problem(where, missing))
                    continue
                try:
                    pairs = read_properties_file(source)
                except (OSError, UnicodeDecodeError) as exc:
                    self.problems.append(Problem(where, f"cannot read properties file {shown(entry.file)}: {exc}"))
                    continue
            for name, value in pairs:
                definition = Definition(name, value, entry.context, entry.labels, entry.dbms)
                self.properties.define(definition, global_=entry.global_ is not False, file=doc.logical_path)
                variable = self.properties.environment_variable(name)
                if variable is not None and variable[1] != value:
                    message = (
                        f"property {shown(name)}: the environment variable {variable[0]} overrides the value "
                        f"given here (the environment comes first, as in Liquibase): what uses ${{{shown(name)}}}, "
                        "and its checksum, depends on the machine it runs on"
                    )
                    self.property_warnings.append(Problem(where, message))

    def _expander(self, doc: Document) -> Callable[[str], str]:
        """``${...}`` replacement for the SQL files the changes of ``doc`` read."""

        def expand_text(text: str) -> str:
            try:
                return expand(text, lambda name: self.properties.lookup(name, doc.logical_path))
            except UndefinedProperty as exc:
                raise ValueError(f"property ${{{shown(exc.name)}}} in the file is not defined") from None

        return expand_text

    def _outside(self, names: Iterable[str]) -> tuple[str, ...]:
        """``${name}`` and where its value comes from, for each of ``names`` that the environment or the run's
        properties give (not the changelog): a checksum that changed may be their doing."""
        found = {}
        for name in sorted(names):
            origin = self.properties.origin(name)
            if origin is not None:
                found.setdefault(name.lower(), f"${{{shown(name)}}} from {origin}")
        return tuple(found[key] for key in sorted(found))

    def _expand(self, doc: Document) -> dict[int, set[str]]:
        """Every ``${...}`` of ``doc`` replaced; returns the names each entry (by index) looked up."""
        used: dict[int, set[str]] = {}

        def lookup(name: str) -> str | None:
            return self.properties.lookup(name, doc.logical_path)

        def note(path: tuple[str | int, ...], name: str) -> None:
            if len(path) > 1 and isinstance(path[1], int):
                used.setdefault(path[1], set()).add(name)

        def undefined(path: tuple[str | int, ...], name: str) -> None:
            message = (
                f"property ${{{shown(name)}}} is not defined (define it with a property entry, "
                f"-D {shown(name)}=…, or the environment)"
            )
            self.problems.append(Problem(doc.location(path), message))

        doc.data = expand_tree(doc.data, lookup, (), undefined, note)
        return used

    def _admit(self, cs: ChangeSet) -> bool:
        """Whether ``cs`` is part of this changelog for the run, and not a duplicate of one that is."""
        dbms = self.properties.selection.dbms
        if dbms is not None and not dbms_matches(cs.dbms, dbms):
            return False  # Liquibase skips it while parsing: another changeSet may use the same id for that dbms
        first = self.seen.get(cs.key)
        if first is not None:
            if dbms is None and (cs.dbms or first.dbms):
                return True  # variants of one changeSet for different databases; only one runs anywhere
            self.problems.append(
                Problem(
                    cs.location,
                    f'duplicate changeSet id "{cs.id}" author "{cs.author}" in {cs.path} '
                    f"(first defined at {first.location})",
                )
            )
            return False
        self.seen[cs.key] = cs
        return True

    def _resolve(self, folder: Path, name: str, where: Location) -> Path | None:
        """The path ``name`` in ``folder``, or None with a located problem when it is no valid path (a NUL byte, …)."""
        try:
            path = (folder / name).resolve()
            path.exists()  # the OS's own objections surface here
        except (ValueError, OSError) as exc:
            self.problems.append(Problem(where, f"not a valid path: {shown(name)} ({exc})"))
            return None
        return path

    def _locate(self, name: str, where: Location) -> Found | Literal[False] | None:
        """``name`` in the search path (None: not there), or False with a located problem when it is no valid path
        (a NUL byte, …) or several roots hold it."""
        try:
            return self.search.locate(name)
        except DuplicateFile as exc:
            self.problems.append(Problem(where, str(exc)))
        except (ValueError, OSError) as exc:
            self.problems.append(Problem(where, f"not a valid path: {shown(name)} ({exc})"))
        return False

    def _include(
        self,
        doc: Document,
        index: int,
        entry: IncludeEntry,
        stack: tuple[Found, ...],
        contexts: tuple[str, ...],
        labels: tuple[str, ...],
    ) -> list[ChangeSet]:
        if entry.ignore:
            return []
        where = doc.location(("databaseChangeLog", index, "include", "file"))
        written = entry.file.replace("\\", "/")
        # Liquibase: relativeToChangelogFile makes the name a sibling of this file's; either way it is then
        # looked up in the search path, and FILENAME is that name normalized.
        name = sibling(doc.resource, written) if entry.relative_to_changelog_file else written
        located = self._locate(name, where)
        if located is False:
            return []
        if located is None:
            if entry.error_if_missing is not False:
                message = _not_found("included file", normalize(name), self.search)
                if not entry.relative_to_changelog_file and self._beside(doc, written):
                    message += f"; {shown(written)} is beside {doc.resource}: add relativeToChangelogFile: true"
                self.problems.append(Problem(where, message))
            return []
        inner_contexts, inner_labels = _inherit(entry.context_expression, entry.labels, contexts, labels)
        return self.visit(located, where, stack, inner_contexts, inner_labels)

    @staticmethod
    def _beside(doc: Document, name: str) -> bool:
        try:
            return (doc.path.parent / name).is_file()
        except (ValueError, OSError):
            return False

    def _include_all(
        self,
        doc: Document,
        index: int,
        entry: IncludeAllEntry,
        stack: tuple[Found, ...],
        contexts: tuple[str, ...],
        labels: tuple[str, ...],
    ) -> list[ChangeSet]:
        if entry.ignore:
            return []
        where = doc.location(("databaseChangeLog", index, "includeAll", "path"))
        written = entry.path.replace("\\", "/")
        # Liquibase's findResources: the folder's name (a sibling of this file's with relativeToChangelogFile),
        # searched for in every root; each file is then named by its path relative to its root.
        name = sibling(doc.resource, written) if entry.relative_to_changelog_file else written
        lowest, highest = entry.min_depth or 0, entry.max_depth
        if highest is not None and highest < lowest:
            self.problems.append(Problem(where, f"includeAll: maxDepth {highest} is less than minDepth {lowest}"))
            return []
        try:
            folders = self.search.folders(name)
        except (ValueError, OSError) as exc:
            self.problems.append(Problem(where, f"not a valid path: {shown(written)} ({exc})"))
            return []
        files: dict[str, Path] = {}
        for root, folder in folders:
            for f in changelog_files_in(folder):
                if _wanted(f.relative_to(folder), entry.pattern, lowest, highest, entry.ends_with_filter):
                    files.setdefault(Path(os.path.relpath(f, root)).as_posix(), f)
        if not files:
            if entry.error_if_missing_or_empty is not False:
                shown_name = normalize(name) or "."
                if folders:
                    message = f"includeAll folder empty: {shown(shown_name)}"
                else:
                    message = _not_found("includeAll folder", shown_name, self.search)
                self.problems.append(Problem(where, message))
            return []
        inner_contexts, inner_labels = _inherit(entry.context_expression, entry.labels, contexts, labels)
        found: list[ChangeSet] = []
        for relative in sorted(files):
            if files[relative] == doc.path:
                continue
            located = self._locate(relative, where)  # as Liquibase includes each: two roots holding it is an error
            if located is False:
                continue
            for cs in self.visit(
                located or Found(files[relative], relative), where, stack, inner_contexts, inner_labels
            ):
                add_in_run_order(found, cs)
        return found


def _inherit(
    context: str | None, labels: str | None, contexts: tuple[str, ...], outer_labels: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The include's context and labels in front of those of the includes above it (innermost first)."""
    inner_contexts = ((context,) if context and context.strip() else ()) + contexts
    inner_labels = ((labels,) if labels and labels.strip() else ()) + outer_labels
    return inner_contexts, inner_labels


def _wanted(relative: PurePath, pattern: str | None, lowest: int, highest: int | None, ends_with: str | None) -> bool:
    """includeAll's file selection: depth (1 = directly in the folder), a glob pattern, a name ending."""
    depth = len(relative.parts)
    if depth < lowest or (highest is not None and depth > highest):
        return False
    text = relative.as_posix()
    if ends_with and not text.lower().endswith(ends_with.lower()):
        return False
    return pattern is None or fnmatch.fnmatchcase(relative.name, pattern) or fnmatch.fnmatchcase(text, pattern)


def read_properties_file(path: Path) -> list[tuple[str, str]]:
    """The ``name=value`` (or ``name: value``) pairs of a Java-style properties file; # and ! start comments."""
    pairs: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text[0] in "#!":
            continue
        match = re.match(r"((?:[^=:\s\\]|\\.)+)\s*[=:\s]\s*(.*)", text)
        if match:
            pairs.append((match.group(1).replace("\\", ""), match.group(2)))
        else:
            pairs.append((text, ""))
    return pairs
