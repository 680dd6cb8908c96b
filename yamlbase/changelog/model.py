"""The typed changelog: ChangeLog and ChangeSet, built from validated documents."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from yamlbase.changelog.loader import Document, JsonPath, YamlTimestamp
from yamlbase.changes import REGISTRY, Change
from yamlbase.errors import Location, Problem


@dataclass(eq=False)
class ChangeSet:
    """One changeSet: identity, changes, optional explicit rollback, and where it was written."""

    id: str
    author: str
    path: str
    location: Location
    changes: list[Change]
    raw_changes: list[tuple[str, Any]]
    comment: str | None = None
    # None: no rollback block (generate one); a list, possibly empty: the explicit rollback.
    rollback: list[Change] | None = None
    _checksums: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.id, self.author)

    @property
    def identifier(self) -> str:
        """``path::id::author``, Liquibase's way of naming a changeSet."""
        return f"{self.path}::{self.id}::{self.author}"

    @functools.cached_property
    def checksum(self) -> str:
        """Liquibase's version-9 MD5SUM of this changeSet (computed once)."""
        return self.checksum_version(9)

    def checksum_version(self, version: int, dbms: str | None = None) -> str:
        from yamlbase.changelog.checksum import changeset_checksum

        # sqlFile and loadData hash the file they read (None for every other change)
        contents = [change.checksum_content() for change in self.changes]
        return changeset_checksum(self.raw_changes, version, dbms=dbms, file_contents=contents)

    def checksum_for(self, dbms: str | None) -> str:
        """The version-9 MD5SUM on database ``dbms``: Liquibase leaves out changes whose ``dbms`` excludes it."""
        if dbms is None or not any(isinstance(p, dict) and "dbms" in p for _, p in self.raw_changes):
            return self.checksum
        if dbms not in self._checksums:
            self._checksums[dbms] = self.checksum_version(9, dbms)
        return self._checksums[dbms]

    def description(self) -> str:
        """DATABASECHANGELOG.DESCRIPTION: each change's description, joined as Liquibase does."""
        text = "; ".join(c.description() for c in self.changes) or "empty"
        return text if len(text) <= 255 else text[:252] + "..."

    @property
    def tag(self) -> str | None:
        for change in self.changes:
            if change.name == "tagDatabase":
                return getattr(change, "tag", None)
        return None


@dataclass
class ChangeLog:
    """A root changelog with everything it includes, flattened into execution order."""

    path: str
    changesets: list[ChangeSet] = field(default_factory=list)

    def by_key(self) -> dict[tuple[str, str, str], ChangeSet]:
        return {cs.key: cs for cs in self.changesets}


def _text(value: Any) -> str:
    return str(value)


def as_parsed(value: Any) -> Any:
    """The value as YAML typed it, for the checksum: unquoted dates back to date/datetime objects."""
    if isinstance(value, YamlTimestamp):
        return value.moment
    if isinstance(value, dict):
        return {k: as_parsed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_parsed(v) for v in value]
    return value


def build_change(
    doc: Document, path: JsonPath, item: dict[str, Any], problems: list[Problem], root: Path | None = None
) -> Change | None:
    """The model of one ``- changeType: {...}`` item (already schema-valid), or None with problems noted.

    ``root`` is the root changelog's folder, against which a change's file names are resolved (as Liquibase's
    search path) unless ``relativeToChangelogFile`` says otherwise."""
    ((name, params),) = item.items()
    cls = REGISTRY[name]
    if name == "sql" and isinstance(params, str):
        params = {"sql": params}
    try:
        change = cls.model_validate(params if params is not None else {})
    except ValidationError as exc:
        for err in exc.errors():
            loc = (*path, name, *err["loc"])
            problems.append(Problem(doc.location(loc), f"{name}: {err['msg']}"))
        return None
    file_problems = change.bind_files(doc.path.parent, root if root is not None else doc.path.parent)
    for attribute, message in file_problems:
        problems.append(Problem(doc.location((*path, name, attribute)), f"{name}: {message}"))
    return None if file_problems else change


def build_changeset(
    doc: Document, index: int, body: dict[str, Any], problems: list[Problem], root: Path | None = None
) -> ChangeSet | None:
    """The ChangeSet for entry ``index`` of ``doc`` (already schema-valid); ``root`` as for :func:`build_change`."""
    base: JsonPath = ("databaseChangeLog", index, "changeSet")
    before = len(problems)
    changes: list[Change] = []
    raw: list[tuple[str, Any]] = []
    for i, item in enumerate(body.get("changes") or []):
        change = build_change(doc, (*base, "changes", i), item, problems, root)
        if change is not None:
            changes.append(change)
            ((name, params),) = item.items()
            raw.append((name, as_parsed(params)))
    rollback: list[Change] | None = None
    if "rollback" in body:
        spec = body["rollback"]
        items = spec if isinstance(spec, list) else [spec]
        rollback = []
        for i, item in enumerate(items):
            loc: JsonPath = (*base, "rollback", i) if isinstance(spec, list) else (*base, "rollback")
            if isinstance(item, str):
                item = {"sql": item}
            elif item is None:
                continue
            change = build_change(doc, loc, item, problems, root)
            if change is not None:
                rollback.append(change)
    if len(problems) > before:
        return None
    return ChangeSet(
        id=_text(body["id"]),
        author=_text(body["author"]),
        path=body.get("logicalFilePath") or doc.logical_path,
        location=doc.location(base),
        changes=changes,
        raw_changes=raw,
        comment=body.get("comment"),
        rollback=rollback,
    )
