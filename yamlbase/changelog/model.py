"""The typed changelog: ChangeLog and ChangeSet, built from validated documents."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from yamlbase.changelog import filters
from yamlbase.changelog.entries import ChangeSetEntry
from yamlbase.changelog.loader import Document, JsonPath, YamlTimestamp, shown
from yamlbase.changelog.preconditions import Preconditions, build_preconditions
from yamlbase.changelog.properties import Properties, Selection
from yamlbase.changelog.search_path import SearchPath
from yamlbase.changes import REGISTRY, Change
from yamlbase.changes.base import FileChange
from yamlbase.dialects.types import likely_meant
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
    # Where each of ``changes`` is written.
    change_locations: list[Location] = field(default_factory=list)
    # None: no rollback block (generate one); a list, possibly empty: the explicit rollback.
    rollback: list[Change] | None = None
    # Checked before the changeSet runs; not part of its checksum (as in Liquibase).
    preconditions: Preconditions | None = None
    # Selection: the changeSet's own context expression and labels, and those of the includes above it
    # (innermost first), each of which must also admit the run.
    context: str | None = None
    labels: str | None = None
    inherited_contexts: tuple[str, ...] = ()
    inherited_labels: tuple[str, ...] = ()
    dbms: str | None = None
    ignore: bool = False
    # Execution.
    run_always: bool = False
    run_on_change: bool = False
    fail_on_error: bool = True
    run_in_transaction: bool = True
    valid_checksums: tuple[str, ...] = ()
    run_order: str | None = None
    created: str | None = None
    # Located doubts that do not stop it (a type name that looks like a typo): validate and update say them.
    warnings: list[Problem] = field(default_factory=list)
    # The ``${name}`` it uses whose values come from outside the changelog (the environment, -D), described.
    outside_properties: tuple[str, ...] = ()
    # The FILENAME yamlbase recorded for it before following Liquibase's search path, when that differs.
    legacy_path: str | None = None
    _checksums: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.id, self.author)

    @property
    def legacy_key(self) -> tuple[str, str, str] | None:
        """The key a history written by yamlbase before it followed Liquibase's search path has for it."""
        return (self.legacy_path, self.id, self.author) if self.legacy_path is not None else None

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

    def checksum_valid(self, stored: str | None, dbms: str | None) -> bool:
        """Whether a stored MD5SUM still admits this changeSet: equal, NULL, or allowed by ``validCheckSum``
        (a listed value, or ``ANY``) — Liquibase's ``ChangeSet.isCheckSumValid``."""
        if any(v.lower() in ("any", "all", "*", "1:any", "1:all", "1:*") for v in self.valid_checksums):
            return True
        current = self.checksum_for(dbms)
        if stored is None or stored == current:
            return True
        return current in self.valid_checksums or stored in self.valid_checksums

    def selected_by(self, contexts: frozenset[str], label_filter: str | None) -> bool:
        """Whether a run with these contexts and label filter selects this changeSet (``ignore`` aside)."""
        if not all(filters.context_matches(c, contexts) for c in (self.context, *self.inherited_contexts)):
            return False
        if not filters.labels_match(label_filter, filters.names(self.labels)):
            return False
        inherited = (filters.names(labels) for labels in self.inherited_labels)
        return all(filters.labels_match(label_filter, names) for names in inherited if names)

    @property
    def contexts_column(self) -> str | None:
        """DATABASECHANGELOG.CONTEXTS, as Liquibase writes it."""
        return filters.full_context(self.inherited_contexts, self.context)

    @property
    def labels_column(self) -> str | None:
        """DATABASECHANGELOG.LABELS, as Liquibase writes it."""
        return filters.full_labels(self.inherited_labels, self.labels)

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
    # ``- preConditions:`` entries of the changelog files, checked once before anything runs.
    preconditions: list[Preconditions] = field(default_factory=list)
    # Properties as read (changeLogPropertyDefined looks them up, as ${...} does).
    properties: Properties = field(default_factory=Properties)
    # The run's contexts, label filter and database, which select the changeSets that run.
    selection: Selection = field(default_factory=Selection)
    # Properties the environment overrides (located at their entries, or ``-D name``).
    property_warnings: list[Problem] = field(default_factory=list)
    # Where its files were found (FILENAMEs are relative to its roots).
    search_path: SearchPath | None = None

    def by_key(self) -> dict[tuple[str, str, str], ChangeSet]:
        return {cs.key: cs for cs in self.changesets}

    @property
    def warnings(self) -> list[Problem]:
        """Every changeSet's warnings and the properties' (:attr:`property_warnings`), in file order."""
        found = [w for cs in self.changesets for w in cs.warnings] + self.property_warnings
        return sorted(found, key=lambda p: (p.location.path, p.location.line, p.location.column))


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
    doc: Document,
    path: JsonPath,
    item: dict[str, Any],
    problems: list[Problem],
    search: SearchPath | None = None,
    expand: Callable[[str], str] | None = None,
    warnings: list[Problem] | None = None,
) -> Change | None:
    """The model of one ``- changeType: {...}`` item (already schema-valid), or None with problems noted.

    ``search`` is the search path in which a change's file names are looked up (by default the folder of
    ``doc``) unless ``relativeToChangelogFile`` says otherwise. ``expand`` replaces ``${...}`` in the SQL a
    change reads from a file, as in the changelog itself. A type name that looks like a typo of one yamlbase
    knows is noted in ``warnings`` (it still goes to the database as written, as in Liquibase)."""
    ((name, params),) = item.items()
    cls = REGISTRY[name]
    if name == "sql" and isinstance(params, str):
        params = {"sql": params}
    elif name == "stop" and isinstance(params, str | int | float):
        params = {"message": params}  # ``- stop: why`` (Liquibase's customLoadLogic)
    try:
        change = cls.model_validate(params if params is not None else {})
    except ValidationError as exc:
        for err in exc.errors():
            loc = (*path, name, *err["loc"])
            problems.append(Problem(doc.location(loc), f"{name}: {err['msg']}"))
        return None
    file_problems = change.bind_files(doc.path.parent, search or SearchPath((doc.path.parent,)))
    for attribute, message in file_problems:
        problems.append(Problem(doc.location((*path, name, attribute)), f"{name}: {message}"))
    if file_problems:
        return None
    if isinstance(change, FileChange) and change.expands_properties and change.file_name() is not None and expand:
        change.bind_expander(expand)
        try:
            change.text()  # an undefined ${...} in the file is found now, not half-way through a run
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(Problem(doc.location((*path, name)), f"{name}: {exc}"))
            return None
    if warnings is not None:
        for where, spec in change.type_names():
            meant = likely_meant(spec)
            if meant is not None:
                message = (
                    f'{name}: unknown type "{shown(spec)}" (did you mean "{meant}"?); '
                    "it goes to the database as written"
                )
                warnings.append(Problem(doc.location((*path, name, *where)), message))
    return change


def build_changeset(
    doc: Document,
    index: int,
    body: dict[str, Any],
    problems: list[Problem],
    inherited_contexts: tuple[str, ...] = (),
    inherited_labels: tuple[str, ...] = (),
    *,
    search: SearchPath | None = None,
    expand: Callable[[str], str] | None = None,
) -> ChangeSet | None:
    """The ChangeSet for entry ``index`` of ``doc`` (already schema-valid); ``inherited_*`` come from the
    includes above the file, innermost first; ``search`` as for :func:`build_change`."""
    base: JsonPath = ("databaseChangeLog", index, "changeSet")
    before = len(problems)
    changes: list[Change] = []
    raw: list[tuple[str, Any]] = []
    where: list[Location] = []
    warnings: list[Problem] = []
    for i, item in enumerate(body.get("changes") or []):
        change = build_change(doc, (*base, "changes", i), item, problems, search, expand, warnings)
        if change is not None:
            changes.append(change)
            where.append(doc.location((*base, "changes", i)))
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
                item = _rollback_item(doc, loc, item, problems)
                if item is None:
                    continue
            elif item is None:
                continue
            change = build_change(doc, loc, item, problems, search, expand, warnings)
            if change is not None:
                rollback.append(change)
    try:
        attrs = ChangeSetEntry.model_validate(body)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(doc.location((*base, *err["loc"])), f"changeSet: {err['msg']}"))
        return None
    for key in ("context", "contextFilter"):
        reason = filters.check_expression(body[key]) if isinstance(body.get(key), str) else None
        if reason:
            problems.append(Problem(doc.location((*base, key)), f"changeSet: {key}: {reason}"))
    preconditions = None
    if body.get("preConditions") is not None:
        preconditions = build_preconditions(doc, (*base, "preConditions"), body["preConditions"], problems)
    if len(problems) > before:
        return None
    # Liquibase's ChangeSet.load: logicalFilePath trimmed, backslashes as slashes, no leading "/".
    own = (attrs.logical_file_path or "").strip().replace("\\", "/").removeprefix("/") or None
    path = own or doc.logical_path
    legacy = attrs.logical_file_path or doc.legacy_path or doc.logical_path
    return ChangeSet(
        id=_text(body["id"]),
        author=_text(body["author"]),
        path=path,
        legacy_path=legacy if legacy != path else None,
        location=doc.location(base),
        changes=changes,
        raw_changes=raw,
        change_locations=where,
        comment=attrs.comment,
        rollback=rollback,
        preconditions=preconditions,
        context=attrs.context_expression,
        labels=attrs.labels,
        inherited_contexts=inherited_contexts,
        inherited_labels=inherited_labels,
        dbms=attrs.dbms,
        ignore=bool(attrs.ignore),
        run_always=attrs.runs_always,
        run_on_change=bool(attrs.run_on_change),
        fail_on_error=attrs.fail_on_error is not False,
        run_in_transaction=attrs.run_in_transaction is not False,
        valid_checksums=attrs.valid_checksums,
        run_order=attrs.run_order,
        created=attrs.created,
        warnings=warnings,
    )


_CHANGE_NAMES = {name.lower(): name for name in REGISTRY}


def _rollback_item(doc: Document, path: JsonPath, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    """A rollback entry written as text: SQL, unless it is a change type's bare name (``empty``, in any case as
    Liquibase reads ``empty``), which is that change without parameters; one that needs some is a problem."""
    name = _CHANGE_NAMES.get(text.strip().lower())
    if name is None:
        return {"sql": text}
    required = [
        info.alias or field_name for field_name, info in REGISTRY[name].model_fields.items() if info.is_required()
    ]
    if required:
        wanted = ", ".join(required)
        problems.append(
            Problem(
                doc.location(path),
                f'rollback: "{shown(text.strip())}" is the {name} change, which needs {wanted}: write '
                f"{name}: {{{required[0]}: ...}} (or the SQL itself, if SQL was meant)",
            )
        )
        return None
    return {name: None}
