"""The entries of a ``databaseChangeLog`` list other than changes: changeSet attributes, include, includeAll,
property. One pydantic model each: the published JSON Schema is generated from them, and the reader reads the
attributes through them, so the schema and the behaviour cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from yamlbase.changes.base import Model

Text = str


class ChangeSetEntry(Model):
    """A unit of change, identified by id, author and file path; applied in one transaction."""

    id: Text = Field(description="identifier, unique with author and path")
    author: Text = Field(description="who wrote the changeSet")
    comment: Text | None = Field(None, description="free text, stored in DATABASECHANGELOG.COMMENTS")
    logical_file_path: Text | None = Field(
        None, description="the path recorded in DATABASECHANGELOG.FILENAME instead of the real one"
    )
    context: Text | None = Field(
        None, description='context expression: the contexts it runs under, e.g. "dev and !test" (all when empty)'
    )
    context_filter: Text | None = Field(None, description="the same as context (Liquibase 4.16+ name)")
    labels: Text | None = Field(None, description='comma-separated labels, matched by --label-filter, e.g. "v1,api"')
    dbms: Text | None = Field(
        None, description='the databases it runs on: "postgresql, sqlite", "!mysql", "all" or "none"'
    )
    run_always: bool | None = Field(None, description="run on every update, recorded as RERAN after the first")
    always_run: bool | None = Field(None, description="older name of runAlways")
    run_on_change: bool | None = Field(None, description="run again (RERAN) whenever its content changes")
    fail_on_error: bool | None = Field(
        None, description="false: a failure is logged, the changeSet rolled back and left pending (default true)"
    )
    run_in_transaction: bool | None = Field(
        None, description="false: run without a transaction (e.g. CREATE INDEX CONCURRENTLY; default true)"
    )
    valid_check_sum: Text | list[Text] | None = Field(
        None, description='checksums also accepted for this changeSet once applied, or "ANY"'
    )
    ignore: bool | None = Field(None, description="true: never run, as if it were not there")
    created: Text | None = Field(None, description="free text, e.g. when or in which version it was written")
    run_order: Literal["first", "last"] | None = Field(
        None, description="run before (first) or after (last) every other changeSet of the changelog"
    )
    object_quoting_strategy: Literal["LEGACY", "QUOTE_ALL_OBJECTS", "QUOTE_ONLY_RESERVED_WORDS"] | None = Field(
        None, description="accepted for compatibility; yamlbase quotes every name that needs it, always"
    )
    changes: list[Any] | None = Field(None, description="the changes, in order")
    rollback: Any = Field(None, description="how to undo the changeSet: SQL text, a change, or a list of changes/SQL")
    pre_conditions: Any = Field(None, description="checks that must pass before the changeSet runs")

    @property
    def context_expression(self) -> str | None:
        return self.context_filter if self.context_filter not in (None, "") else self.context

    @property
    def runs_always(self) -> bool:
        return bool(self.run_always if self.run_always is not None else self.always_run)

    @property
    def valid_checksums(self) -> tuple[str, ...]:
        value = self.valid_check_sum
        items = [value] if isinstance(value, str) else list(value or [])
        return tuple(item.strip() for item in items if item and item.strip())


class IncludeEntry(Model):
    """Runs the changeSets of another changelog file at this point."""

    file: Text = Field(description="the changelog file to include")
    relative_to_changelog_file: bool | None = Field(
        None, description="resolve file against this changelog's folder (else the root changelog's)"
    )
    error_if_missing: bool | None = Field(None, description="false: a missing file is skipped (default true)")
    context: Text | None = Field(None, description="context expression every included changeSet must also match")
    context_filter: Text | None = Field(None, description="the same as context")
    labels: Text | None = Field(None, description="labels every included changeSet also carries")
    ignore: bool | None = Field(None, description="true: include nothing")

    @property
    def context_expression(self) -> str | None:
        return self.context_filter if self.context_filter not in (None, "") else self.context


class IncludeAllEntry(Model):
    """Includes every changelog file below a folder, in lexical order of their paths."""

    path: Text = Field(description="the folder to include")
    relative_to_changelog_file: bool | None = Field(None, description="resolve path against this file's folder")
    error_if_missing_or_empty: bool | None = Field(
        None, description="a missing or empty folder is an error (default true)"
    )
    filter: Text | None = Field(
        None, description='a file-name pattern (glob) the included files must match, e.g. "*.yaml" or "V*__*.yml"'
    )
    resource_filter: Text | None = Field(None, description="the same as filter")
    min_depth: int | None = Field(None, ge=0, description="only files at least this deep (1 = directly in path)")
    max_depth: int | None = Field(None, ge=0, description="only files at most this deep (1 = directly in path)")
    ends_with_filter: Text | None = Field(None, description="only files whose name ends so (case-insensitive)")
    context: Text | None = Field(None, description="context expression every included changeSet must also match")
    context_filter: Text | None = Field(None, description="the same as context")
    labels: Text | None = Field(None, description="labels every included changeSet also carries")
    ignore: bool | None = Field(None, description="true: include nothing")

    @property
    def context_expression(self) -> str | None:
        return self.context_filter if self.context_filter not in (None, "") else self.context

    @property
    def pattern(self) -> str | None:
        return self.filter if self.filter is not None else self.resource_filter


class PropertyEntry(Model):
    """Defines a property for ``${name}`` substitution: one name/value pair, or every pair of a properties file."""

    name: Text | None = Field(None, description="the property's name (with value)")
    value: Text | None = Field(None, description="its value")
    file: Text | None = Field(None, description="a Java-style .properties file of name=value lines (instead of name)")
    relative_to_changelog_file: bool | None = Field(None, description="resolve file against this file's folder")
    error_if_missing: bool | None = Field(None, description="false: a missing file is skipped (default true)")
    context: Text | None = Field(None, description="defined only for runs whose contexts match this expression")
    labels: Text | None = Field(None, description="defined only for runs whose label filter admits these labels")
    dbms: Text | None = Field(None, description="defined only on these databases")
    global_: bool | None = Field(
        None, alias="global", description="false: only this changelog file sees it (default true)"
    )


ENTRY_MODELS: dict[str, type[Model]] = {
    "changeSet": ChangeSetEntry,
    "include": IncludeEntry,
    "includeAll": IncludeAllEntry,
    "property": PropertyEntry,
}
