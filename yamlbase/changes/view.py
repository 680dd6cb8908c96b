"""View change types: createView, dropView, renameView.

SQLAlchemy has no view DDL, so each statement is a small ``DDLElement`` compiled per dialect: names are quoted by
the dialect's own preparer, the view's query is the user's SQL as written.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from pydantic import Field, model_validator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from yamlbase.changes.base import (
    Change,
    FileChange,
    NoInverse,
    ObjectRef,
    PlanContext,
    Step,
    Unsupported,
    qualified,
    register,
)
from yamlbase.changes.captured import RecreateObject, captured_object
from yamlbase.changes.remarks import remarks_steps
from yamlbase.changes.sql import tokenize


def object_name(compiler: DDLCompiler, schema: str | None, name: str) -> str:
    """``schema.name`` quoted by the dialect being compiled for."""
    preparer = compiler.preparer
    quoted = preparer.quote(name)
    return f"{preparer.quote_schema(schema)}.{quoted}" if schema else quoted


def verbatim(compiler: DDLCompiler, sql: str) -> str:
    """The user's SQL inside a compiled statement: '%' doubled where the driver formats parameters."""
    return compiler.sql_compiler.post_process_text(sql)


_LEADING_CREATE = re.compile(r"^(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)CREATE\b", re.IGNORECASE | re.DOTALL)


class CreateViewDDL(DDLElement):
    """``CREATE [OR REPLACE] VIEW name AS query``, or a full ``CREATE VIEW`` statement written by the user."""

    def __init__(self, schema: str | None, name: str, query: str, *, replace: bool, full_definition: bool) -> None:
        self.schema, self.name, self.query = schema, name, query
        self.replace, self.full_definition = replace, full_definition


@compiles(CreateViewDDL)
def _create_view(element: CreateViewDDL, compiler: DDLCompiler, **kw: Any) -> str:
    query = element.query.strip()
    if element.full_definition:
        sql = query
    else:
        sql = f"CREATE VIEW {object_name(compiler, element.schema, element.name)} AS {query}"
    if element.replace and not re.search(r"\bOR\s+(REPLACE|ALTER)\b", sql[:200], re.IGNORECASE):
        # SQL Server 2016 SP1+ says CREATE OR ALTER; SQLite has neither (the change drops the view first).
        words = "CREATE OR ALTER" if compiler.dialect.name == "mssql" else "CREATE OR REPLACE"
        sql = _LEADING_CREATE.sub(lambda m: m.group(1) + words, sql, count=1)
    if "--" in sql.rsplit("\n", 1)[-1]:
        sql += "\n"  # a terminator written after it must not land in a trailing line comment
    return verbatim(compiler, sql)


class DropViewDDL(DDLElement):
    """``DROP VIEW [IF EXISTS] name``."""

    def __init__(self, schema: str | None, name: str, *, if_exists: bool) -> None:
        self.schema, self.name, self.if_exists = schema, name, if_exists


@compiles(DropViewDDL)
def _drop_view(element: DropViewDDL, compiler: DDLCompiler, **kw: Any) -> str:
    guard = "IF EXISTS " if element.if_exists else ""
    return f"DROP VIEW {guard}{object_name(compiler, element.schema, element.name)}"


class RenameViewDDL(DDLElement):
    """A view's rename in each dialect's words (Liquibase's ``RenameViewGenerator``)."""

    def __init__(self, schema: str | None, old: str, new: str) -> None:
        self.schema, self.old, self.new = schema, old, new


@compiles(RenameViewDDL)
def _rename_view(element: RenameViewDDL, compiler: DDLCompiler, **kw: Any) -> str:
    dialect = compiler.dialect.name
    old = object_name(compiler, element.schema, element.old)
    if dialect in ("mysql", "mariadb"):
        return f"RENAME TABLE {old} TO {object_name(compiler, element.schema, element.new)}"
    if dialect == "mssql":
        # sp_rename takes the current name as a string and the new one as a bare name (no schema).
        return f"EXEC sp_rename '{old.replace(chr(39), chr(39) * 2)}', {compiler.preparer.quote(element.new)}"
    if dialect == "oracle":
        return f"RENAME {old} TO {compiler.preparer.quote(element.new)}"
    return f"ALTER VIEW {old} RENAME TO {compiler.preparer.quote(element.new)}"


class CreateViewAsDDL(DDLElement):
    """``CREATE VIEW name`` followed by the rest of an existing view's definition (its columns and query)."""

    def __init__(self, schema: str | None, name: str, rest: str) -> None:
        self.schema, self.name, self.rest = schema, name, rest


@compiles(CreateViewAsDDL)
def _create_view_as(element: CreateViewAsDDL, compiler: DDLCompiler, **kw: Any) -> str:
    return verbatim(compiler, f"CREATE VIEW {object_name(compiler, element.schema, element.name)}{element.rest}")


def _after_view_name(definition: str) -> str:
    """What follows the view's name in SQLite's ``CREATE VIEW [IF NOT EXISTS] name …`` text."""
    tokens = [t for t in tokenize(definition) if t.kind != "comment"]
    words = [i for i, t in enumerate(tokens) if t.kind == "code"]
    position = next(n for n, i in enumerate(words) if tokens[i].text.upper() == "VIEW") + 1
    if [tokens[i].text.upper() for i in words[position : position + 3]] == ["IF", "NOT", "EXISTS"]:
        position += 3
    return "".join(t.text for t in tokens[words[position] + 1 :])


def _sqlite_view_definition(ctx: PlanContext, schema: str | None, name: str) -> str:
    if ctx.connection is None:
        raise ValueError("renameView on sqlite recreates the view from its definition, which needs the database")
    master = f'"{schema.replace(chr(34), chr(34) * 2)}".sqlite_master' if schema else "sqlite_master"
    definition = ctx.connection.execute(
        sa.text(f"SELECT sql FROM {master} WHERE type = 'view' AND name = :name"), {"name": name}
    ).scalar()
    if definition is None:
        raise ValueError(f"renameView: there is no view {name!r}")
    return str(definition)


@register
class CreateView(FileChange):
    """Creates a view from a query, written inline or read from ``path`` (``replaceIfExists`` replaces one that
    exists)."""

    expands_properties = True
    hashes_expanded_text = True
    name = "createView"
    described_by = ("path", "viewName")
    catalog_name: str | None = None
    schema_name: str | None = None
    view_name: str = Field(description="name of the view")
    select_query: str | None = Field(
        None, description="the view's query (or, with fullDefinition, the whole CREATE VIEW)"
    )
    path: str | None = Field(None, description="a file holding the query, instead of selectQuery")
    replace_if_exists: bool | None = Field(None, description="replace a view of that name (CREATE OR REPLACE)")
    full_definition: bool | None = Field(None, description="selectQuery is a complete CREATE VIEW statement")
    remarks: str | None = Field(None, description="view comment (PostgreSQL, Oracle, SQL Server)")

    @model_validator(mode="after")
    def _one_query(self) -> CreateView:
        if (self.select_query is None) == (self.path is None):
            raise ValueError("give the view's query in exactly one of selectQuery or path")
        return self

    def query(self) -> str:
        """The view's query: inline, or the file's text."""
        return self.select_query if self.select_query is not None else self.file_text()

    def operations(self, ctx: PlanContext) -> list[Step]:
        replace = bool(self.replace_if_exists)
        steps: list[Step] = []
        if replace and ctx.dialect == "sqlite":
            # SQLite has no CREATE OR REPLACE VIEW: drop it if it is there, then create it.
            steps.append(ops.ExecuteSQLOp(DropViewDDL(self.schema_name, self.view_name, if_exists=True)))
            replace = False
        ddl = CreateViewDDL(
            self.schema_name,
            self.view_name,
            self.query(),
            replace=replace,
            full_definition=bool(self.full_definition),
        )
        steps.append(ops.ExecuteSQLOp(ddl))
        if self.remarks and self.remarks.strip() and ctx.dialect in ("postgresql", "oracle", "mssql"):
            # As Liquibase: a view comment where the database keeps one, nothing elsewhere.
            steps += remarks_steps(ctx, "view", self.schema_name, self.view_name, None, self.remarks)
        return steps

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # As Liquibase, also with replaceIfExists (the view it replaced is not brought back).
        return [DropView(catalogName=self.catalog_name, schemaName=self.schema_name, viewName=self.view_name)]


@register
class DropView(Change):
    """Drops a view (``ifExists``: no error when there is none)."""

    name = "dropView"
    described_by = ("viewName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    view_name: str = Field(description="the view to drop")
    if_exists: bool | None = Field(None, description="no error when the view does not exist")

    def operations(self, ctx: PlanContext) -> list[Step]:
        if self.if_exists and ctx.dialect == "oracle":
            raise Unsupported("dropView: ifExists is not supported on oracle (DROP VIEW has no IF EXISTS)")
        return [ops.ExecuteSQLOp(DropViewDDL(self.schema_name, self.view_name, if_exists=bool(self.if_exists)))]

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("view", self.schema_name, None, self.view_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase (which cannot): the view comes back from its definition, captured before the drop.
        view = captured_object(ctx, self.name, "views", "view", self.schema_name, self.view_name)
        if not view.get("definition"):
            raise NoInverse(
                f"dropView on view {self.view_name} cannot be rolled back automatically: "
                "the database did not show its definition"
            )
        return [RecreateView(captured=view)]


# MySQL's ``DEFINER=user@host`` in a view's or stored routine's CREATE statement.
DEFINER = re.compile(
    r"\bDEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)(?:\s*@\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\S+))?\s*",
    re.IGNORECASE,
)
_MYSQL_VIEW_HEAD = re.compile(r"^\s*CREATE\s+(.*?)\bVIEW\b", re.IGNORECASE | re.DOTALL)


class RecreateView(RecreateObject):
    """The inverse of ``dropView``: the view from the definition the database reported before the drop.

    SQLite keeps the whole ``CREATE VIEW`` (its text after the view's name is restated); PostgreSQL reports the
    query, which comes back with the view's options (``check_option``…) and comment; MySQL/MariaDB report the
    ``CREATE … VIEW`` as the server rewrote it (algorithm, SQL security, check option), restated without its
    ``DEFINER``: the view is owned by whoever runs the rollback.
    """

    name = "createView"

    def operations(self, ctx: PlanContext) -> list[Step]:
        v = self.captured
        schema, view, definition = v["schema"], v["name"], str(v["definition"]).strip()
        steps: list[Step] = []
        if ctx.dialect == "sqlite":
            steps.append(ops.ExecuteSQLOp(CreateViewAsDDL(schema, view, _after_view_name(definition))))
        elif ctx.dialect in ("mysql", "mariadb", "mssql"):
            head = _MYSQL_VIEW_HEAD.match(definition) if ctx.dialect != "mssql" else None
            if head:
                words = DEFINER.sub("", head.group(1))
                definition = f"CREATE {words}{definition[head.end(1) :]}"
            steps.append(ops.ExecuteSQLOp(CreateViewDDL(schema, view, definition, replace=False, full_definition=True)))
        else:
            query = definition[:-1].rstrip() if definition.endswith(";") else definition
            options = f" WITH ({', '.join(v.get('options') or [])})" if v.get("options") else ""
            steps.append(ops.ExecuteSQLOp(CreateViewAsDDL(schema, view, f"{options} AS {query}")))
        if v.get("comment"):
            steps += remarks_steps(ctx, "view", schema, view, None, v["comment"])
        return steps

    def note(self) -> str:
        where = qualified(self.captured["schema"], self.captured["name"])
        definer = (
            "; its DEFINER is the user running the rollback" if DEFINER.search(self.captured["definition"]) else ""
        )
        return f"view {where} is recreated as captured before the drop{definer}"


@register
class RenameView(Change):
    """Renames a view."""

    name = "renameView"
    described_by = ("newViewName", "oldViewName")
    catalog_name: str | None = None
    schema_name: str | None = None
    old_view_name: str = Field(description="the view's current name")
    new_view_name: str = Field(description="the view's new name")

    def operations(self, ctx: PlanContext) -> list[Step]:
        if ctx.dialect == "sqlite":
            # SQLite cannot rename a view (Liquibase sends RENAME, which fails): create it anew under the new
            # name from its stored definition, then drop the old one.
            rest = _after_view_name(_sqlite_view_definition(ctx, self.schema_name, self.old_view_name))
            return [
                ops.ExecuteSQLOp(CreateViewAsDDL(self.schema_name, self.new_view_name, rest)),
                ops.ExecuteSQLOp(DropViewDDL(self.schema_name, self.old_view_name, if_exists=False)),
            ]
        if ctx.dialect == "oracle" and self.schema_name:
            raise Unsupported("renameView: schemaName is not supported on oracle (RENAME works in the own schema)")
        return [ops.ExecuteSQLOp(RenameViewDDL(self.schema_name, self.old_view_name, self.new_view_name))]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        return [self.model_copy(update={"old_view_name": self.new_view_name, "new_view_name": self.old_view_name})]
