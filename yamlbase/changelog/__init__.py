"""Reading a changelog: files and includes → schema validation → typed model, every problem at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
from yamlbase.changelog.validate import validate_document
from yamlbase.errors import ChangeLogError, Location, Problem

__all__ = ["ChangeLog", "ChangeSet", "parse_changelog"]


def parse_changelog(path: str | os.PathLike[str]) -> ChangeLog:
    """Load, validate and model the changelog at ``path`` with all its includes.

    Raises :class:`~yamlbase.errors.ChangeLogError` listing every problem in every file, each located.
    FILENAME paths are relative to the root changelog's folder, so they do not depend on how the root
    was named on the command line.
    """
    root = Path(path).resolve()
    base = root.parent
    reader = _Reader(base)
    reader.visit(root, None, ())
    if reader.problems:
        raise ChangeLogError(reader.problems)
    return ChangeLog(path=_logical(root, base), changesets=reader.changesets)


def _logical(file: Path, base: Path) -> str:
    try:
        return file.relative_to(base).as_posix()
    except ValueError:
        return Path(os.path.relpath(file, base)).as_posix()


class _Reader:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.problems: list[Problem] = []
        self.changesets: list[ChangeSet] = []
        self.seen: dict[tuple[str, str, str], ChangeSet] = {}

    def visit(self, file: Path, included_at: Location | None, stack: tuple[Path, ...]) -> None:
        if file in stack:
            chain = " -> ".join(_logical(p, self.base) for p in (*stack, file))
            self.problems.append(Problem(included_at or Location(str(file)), f"include cycle: {chain}"))
            return
        if file.suffix.lower() in FOREIGN_SUFFIXES:
            message = f"{_logical(file, self.base)}: {file.suffix} changelogs are not supported (YAML and JSON are)"
            self.problems.append(Problem(included_at or Location(str(file)), message))
            return
        try:
            doc = read_document(file, _logical(file, self.base))
        except DocumentError as exc:
            problem = exc.problem
            if included_at is not None and problem.location.line == 0:
                # The file itself could not be read: the include that names it is where to look.
                detail = "not found" if problem.message == "file not found" else problem.message
                problem = Problem(included_at, f"included file {detail}: {_logical(file, self.base)}")
            self.problems.append(problem)
            return
        schema_problems = validate_document(doc)
        self.problems.extend(schema_problems)
        spoiled = {p.node_path[1] for p in schema_problems if len(p.node_path) > 1} if schema_problems else set()
        whole_file_bad = any(len(p.node_path) <= 1 for p in schema_problems)
        for index, kind, body in entries(doc):
            if kind == "changeSet" and not whole_file_bad and index not in spoiled:
                self._add(doc, index, body)
            elif kind == "include" and isinstance(body, dict) and isinstance(body.get("file"), str):
                where = doc.location(("databaseChangeLog", index, "include", "file"))
                target = self._resolve(doc, body["file"], body.get("relativeToChangelogFile") is True, where)
                if target is not None:
                    self.visit(target, where, (*stack, file))
            elif kind == "includeAll" and isinstance(body, dict) and isinstance(body.get("path"), str):
                self._include_all(doc, index, body, (*stack, file))

    def _resolve(self, doc: Document, name: str, relative: bool, where: Location) -> Path | None:
        """The included path, or None with a located problem when it is no valid path (a NUL byte, …)."""
        try:
            path = ((doc.path.parent if relative else self.base) / name).resolve()
            path.exists()  # the OS's own objections surface here
        except (ValueError, OSError) as exc:
            self.problems.append(Problem(where, f"not a valid path: {shown(name)} ({exc})"))
            return None
        return path

    def _include_all(self, doc: Document, index: int, body: dict[str, Any], stack: tuple[Path, ...]) -> None:
        where = doc.location(("databaseChangeLog", index, "includeAll", "path"))
        folder = self._resolve(doc, body["path"], body.get("relativeToChangelogFile") is True, where)
        if folder is None:
            return
        files = changelog_files_in(folder) if folder.is_dir() else []
        if not files:
            if body.get("errorIfMissingOrEmpty", True):
                state = "empty" if folder.is_dir() else "not found"
                self.problems.append(Problem(where, f"includeAll folder {state}: {_logical(folder, self.base)}"))
            return
        for target in files:
            if target != doc.path:
                self.visit(target, where, stack)

    def _add(self, doc: Document, index: int, body: dict[str, Any]) -> None:
        cs = build_changeset(doc, index, body, self.problems, self.base)
        if cs is None:
            return
        first = self.seen.get(cs.key)
        if first is not None:
            self.problems.append(
                Problem(
                    cs.location,
                    f'duplicate changeSet id "{cs.id}" author "{cs.author}" in {cs.path} '
                    f"(first defined at {first.location})",
                )
            )
            return
        self.seen[cs.key] = cs
        self.changesets.append(cs)
