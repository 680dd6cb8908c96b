"""Stored procedures: createProcedure, dropProcedure.

The procedure's text is sent as one statement, never split (its body holds ``;``). As Liquibase, a trailing
``;`` is removed (on Oracle a trailing ``/`` line), and ``replaceIfExists`` drops the procedure first where the
database has ``DROP PROCEDURE IF EXISTS`` (PostgreSQL, MySQL/MariaDB) or says ``CREATE OR ALTER`` (SQL Server).
Reading the text from a file (``path``) is not supported yet. SQLite has no stored procedures: refused there.
"""

from __future__ import annotations

import re
from typing import Any

from alembic.operations import ops
from pydantic import Field, model_validator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from yamlbase.changelog.checksum import java_trim
from yamlbase.changes.base import (
    Change,
    FileChange,
    NoInverse,
    ObjectRef,
    PlanContext,
    RawSQL,
    Step,
    Unsupported,
    qualified,
    register,
)
from yamlbase.changes.captured import RecreateObject, captured_object
from yamlbase.changes.sql import dbms_matches
from yamlbase.changes.view import DEFINER as _DEFINER
from yamlbase.changes.view import object_name

_MYSQL_HEAD = re.compile(r"^\s*CREATE\s+(.*?)\bPROCEDURE\b", re.IGNORECASE | re.DOTALL)
_LEADING_CREATE = re.compile(r"^(\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*)CREATE\b", re.IGNORECASE | re.DOTALL)


def _refuse_sqlite(change: str, ctx: PlanContext) -> None:
    if ctx.dialect == "sqlite":
        raise Unsupported(f"{change} is not supported on sqlite: SQLite has no stored procedures")


class DropProcedureDDL(DDLElement):
    """``DROP PROCEDURE [IF EXISTS] name``."""

    def __init__(self, schema: str | None, name: str, *, if_exists: bool) -> None:
        self.schema, self.name, self.if_exists = schema, name, if_exists


@compiles(DropProcedureDDL)
def _drop_procedure(element: DropProcedureDDL, compiler: DDLCompiler, **kw: Any) -> str:
    guard = "IF EXISTS " if element.if_exists else ""
    return f"DROP PROCEDURE {guard}{object_name(compiler, element.schema, element.name)}"


def procedure_body(text: str, dialect: str) -> str:
    """The text as Liquibase sends it: trimmed, without its trailing ``;`` (Oracle: its trailing ``/`` line)."""
    body = java_trim(text)
    if dialect == "oracle":
        return body[:-2].rstrip() if body.endswith("\n/") else body
    return body[:-1].rstrip() if body.endswith(";") else body


@register
class CreateProcedure(FileChange):
    """Creates a stored procedure from its full ``CREATE PROCEDURE`` text (inline or from ``path``), sent as one
    statement."""

    expands_properties = True
    hashes_expanded_text = True
    name = "createProcedure"
    described_by = ("path", "procedureName")
    catalog_name: str | None = None
    schema_name: str | None = None
    procedure_name: str | None = Field(None, description="the procedure's name (required with replaceIfExists)")
    procedure_text: str | None = Field(None, description="the SQL that creates the procedure")
    procedure_body: str | None = Field(None, description="the SQL that creates the procedure (older name)")
    path: str | None = Field(None, description="a file holding the SQL that creates the procedure")
    replace_if_exists: bool | None = Field(None, description="replace a procedure of that name")
    dbms: str | None = None
    comment: str | None = Field(None, description="a comment (not applied to the database)")
    comments: str | None = Field(None, description="a comment (Liquibase 4's name for it)")

    @model_validator(mode="after")
    def _one_text(self) -> CreateProcedure:
        given = [x for x in (self.procedure_text, self.procedure_body, self.path) if x is not None]
        if len(given) != 1:
            raise Unsupported("give the procedure's SQL in exactly one of procedureText, procedureBody or path")
        if self.replace_if_exists and not self.procedure_name:
            raise Unsupported("procedureName is required if replaceIfExists is true")
        return self

    def operations(self, ctx: PlanContext) -> list[Step]:
        if not dbms_matches(self.dbms, ctx.dialect):
            return []
        _refuse_sqlite(self.name, ctx)
        body = procedure_body(self.sql_text(), ctx.dialect)
        steps: list[Step] = []
        if self.replace_if_exists:
            assert self.procedure_name is not None
            if ctx.dialect == "mssql":
                if not re.search(r"\bOR\s+ALTER\b", body[:200], re.IGNORECASE):
                    body = _LEADING_CREATE.sub(lambda m: m.group(1) + "CREATE OR ALTER", body, count=1)
            elif ctx.dialect == "oracle":
                raise Unsupported("createProcedure: replaceIfExists is not supported on oracle (say CREATE OR REPLACE)")
            else:
                steps.append(ops.ExecuteSQLOp(DropProcedureDDL(self.schema_name, self.procedure_name, if_exists=True)))
        steps.append(RawSQL(body))
        return steps

    def sql_text(self) -> str:
        """The procedure's SQL: inline, or the file's text."""
        if self.path is None:
            return (self.procedure_text if self.procedure_text is not None else self.procedure_body) or ""
        return self.file_text()

    def inverse(self, ctx: PlanContext) -> list[Change]:
        raise NoInverse("createProcedure cannot be rolled back automatically; add a rollback block (dropProcedure)")


@register
class DropProcedure(Change):
    """Drops a stored procedure."""

    name = "dropProcedure"
    described_by = ("procedureName",)
    catalog_name: str | None = None
    schema_name: str | None = None
    procedure_name: str = Field(description="the procedure to drop")

    def operations(self, ctx: PlanContext) -> list[Step]:
        _refuse_sqlite(self.name, ctx)
        return [ops.ExecuteSQLOp(DropProcedureDDL(self.schema_name, self.procedure_name, if_exists=False))]

    def destroys(self) -> list[ObjectRef]:
        return [ObjectRef("procedure", self.schema_name, None, self.procedure_name)]

    def inverse(self, ctx: PlanContext) -> list[Change]:
        # Beyond Liquibase (which cannot): the procedure comes back from its text, captured before the drop.
        found = captured_object(ctx, self.name, "procedures", "procedure", self.schema_name, self.procedure_name)
        return [RecreateProcedure(captured=found)]


class RecreateProcedure(RecreateObject):
    """The inverse of ``dropProcedure``: each ``CREATE`` statement the database showed for it, sent as it stands.

    MySQL/MariaDB's text names its ``DEFINER``; it is left out, so the procedure belongs to whoever runs the
    rollback (as a view's). Privileges granted on the procedure are not restored.
    """

    name = "createProcedure"

    def operations(self, ctx: PlanContext) -> list[Step]:
        _refuse_sqlite(self.name, ctx)
        steps: list[Step] = []
        for text in self.captured["definitions"]:
            if ctx.dialect in ("mysql", "mariadb"):
                head = _MYSQL_HEAD.match(text)
                if head:
                    text = f"CREATE {_DEFINER.sub('', head.group(1))}{text[head.end(1) :]}"
            steps.append(RawSQL(text.strip()))
        return steps

    def note(self) -> str:
        where = qualified(self.captured["schema"], self.captured["name"])
        definer = any(_DEFINER.search(t.split("(", 1)[0]) for t in self.captured["definitions"])
        by = "; its DEFINER is the user running the rollback" if definer else ""
        return f"procedure {where} is recreated as captured before the drop (privileges granted on it are not){by}"
