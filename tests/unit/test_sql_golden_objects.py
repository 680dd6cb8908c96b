"""Exact SQL per dialect for views, sequences, procedures, remarks, addLookupTable, mergeColumns, empty/output/stop.

Same idea as tests/unit/test_sql_golden.py (whose helpers and SETUP tables this reuses): each case is rendered by
``TextSink`` — the sink behind ``update-sql`` — for each of the six dialects. A change that a dialect cannot express
is refused with a ValueError naming the dialect (REFUSED), never rendered as wrong SQL. Also here: the inverses.
"""

from __future__ import annotations

import io
import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_sql_golden import DIALECTS, Case, changes_from, each, laid_out, normal, render, same, text_sink
from yamlbase import commands
from yamlbase.changelog import parse_changelog
from yamlbase.changes import NoInverse, PlanContext
from yamlbase.changes.base import Halt, HaltRequested, Message
from yamlbase.changes.composite import AddLookupTable
from yamlbase.changes.meta import Empty, Output, Stop
from yamlbase.changes.sequence import DropSequence
from yamlbase.changes.view import DropView
from yamlbase.runtime.sink import ConnectionSink

NEW_TYPES = {
    "createView",
    "dropView",
    "renameView",
    "createSequence",
    "alterSequence",
    "renameSequence",
    "dropSequence",
    "createProcedure",
    "dropProcedure",
    "setTableRemarks",
    "setColumnRemarks",
    "addLookupTable",
    "mergeColumns",
    "empty",
    "output",
    "stop",
}

SEQUENCE_DIALECTS = ("postgresql", "mariadb", "mssql", "oracle")


def only(dialects: tuple[str, ...], statements: dict[str, str]) -> dict[str, str]:
    return {d: s for d, s in statements.items() if d in dialects}


# --- views ------------------------------------------------------------------------------------------------------

VIEW_QUERY = "SELECT id, name FROM person WHERE name LIKE 'a%'"

CREATE_VIEW = Case(
    f"""
    - createView:
        viewName: v_person
        selectQuery: "{VIEW_QUERY}"
    """,
    same(f"CREATE VIEW v_person AS {VIEW_QUERY}"),
)

CREATE_VIEW_REPLACE = Case(
    """
    - createView:
        viewName: Person View
        replaceIfExists: true
        selectQuery: |
          SELECT id FROM person
    """,
    each(
        # SQLite has no CREATE OR REPLACE VIEW
        sqlite=('DROP VIEW IF EXISTS "Person View"', 'CREATE VIEW "Person View" AS SELECT id FROM person'),
        postgresql='CREATE OR REPLACE VIEW "Person View" AS SELECT id FROM person',
        mysql="CREATE OR REPLACE VIEW `Person View` AS SELECT id FROM person",
        mariadb="CREATE OR REPLACE VIEW `Person View` AS SELECT id FROM person",
        mssql="CREATE OR ALTER VIEW [Person View] AS SELECT id FROM person",
        oracle='CREATE OR REPLACE VIEW "Person View" AS SELECT id FROM person',
    ),
)

CREATE_VIEW_FULL_DEFINITION = Case(
    """
    - createView:
        viewName: v_full
        fullDefinition: true
        replaceIfExists: true
        selectQuery: "-- the whole statement\\ncreate view v_full (n) as select id from person"
    """,
    each(
        sqlite=(
            "DROP VIEW IF EXISTS v_full",
            "-- the whole statement\ncreate view v_full (n) as select id from person",
        ),
        **{
            d: f"-- the whole statement\nCREATE OR {'ALTER' if d == 'mssql' else 'REPLACE'} view v_full (n) as "
            "select id from person"
            for d in DIALECTS
            if d != "sqlite"
        },
    ),
)

COMMENT_ON_VIEW_MSSQL = (
    "IF EXISTS (SELECT 1 FROM sys.extended_properties WHERE major_id = OBJECT_ID(N'[app].[v_team]') "
    "AND name = N'MS_Description' AND minor_id = 0)\n"
    "    EXEC sys.sp_updateextendedproperty @name = N'MS_Description', @value = N'teams''s view', "
    "@level0type = N'SCHEMA', @level0name = N'app', @level1type = N'VIEW', @level1name = N'v_team'\n"
    "ELSE\n"
    "    EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'teams''s view', "
    "@level0type = N'SCHEMA', @level0name = N'app', @level1type = N'VIEW', @level1name = N'v_team'"
)

CREATE_VIEW_SCHEMA_REMARKS = Case(
    """
    - createView: {schemaName: app, viewName: v_team, selectQuery: SELECT id FROM team, remarks: "teams's view"}
    """,
    each(
        sqlite="CREATE VIEW app.v_team AS SELECT id FROM team",
        postgresql=("CREATE VIEW app.v_team AS SELECT id FROM team", "COMMENT ON VIEW app.v_team IS 'teams''s view'"),
        mysql="CREATE VIEW app.v_team AS SELECT id FROM team",
        mariadb="CREATE VIEW app.v_team AS SELECT id FROM team",
        mssql=("CREATE VIEW app.v_team AS SELECT id FROM team", COMMENT_ON_VIEW_MSSQL),
        oracle=("CREATE VIEW app.v_team AS SELECT id FROM team", "COMMENT ON TABLE app.v_team IS 'teams''s view'"),
    ),
)

DROP_VIEW = Case(
    "- dropView: {viewName: Person View}",
    each(
        sqlite='DROP VIEW "Person View"',
        postgresql='DROP VIEW "Person View"',
        mysql="DROP VIEW `Person View`",
        mariadb="DROP VIEW `Person View`",
        mssql="DROP VIEW [Person View]",
        oracle='DROP VIEW "Person View"',
    ),
)

DROP_VIEW_IF_EXISTS = Case(
    "- dropView: {schemaName: app, viewName: v, ifExists: true}",
    only(("sqlite", "postgresql", "mysql", "mariadb", "mssql"), same("DROP VIEW IF EXISTS app.v")),
)

RENAME_VIEW = Case(
    """
    - createView: {viewName: v_person, selectQuery: "SELECT id, name FROM person"}
    - renameView: {oldViewName: v_person, newViewName: People View}
    """,
    each(
        # SQLite cannot rename a view: it is created anew from its stored definition, and the old one dropped
        sqlite=(
            "CREATE VIEW v_person AS SELECT id, name FROM person",
            'CREATE VIEW "People View" AS SELECT id, name FROM person',
            "DROP VIEW v_person",
        ),
        postgresql=(
            "CREATE VIEW v_person AS SELECT id, name FROM person",
            'ALTER VIEW v_person RENAME TO "People View"',
        ),
        mysql=("CREATE VIEW v_person AS SELECT id, name FROM person", "RENAME TABLE v_person TO `People View`"),
        mariadb=("CREATE VIEW v_person AS SELECT id, name FROM person", "RENAME TABLE v_person TO `People View`"),
        mssql=("CREATE VIEW v_person AS SELECT id, name FROM person", "EXEC sp_rename 'v_person', [People View]"),
        oracle=("CREATE VIEW v_person AS SELECT id, name FROM person", 'RENAME v_person TO "People View"'),
    ),
)

RENAME_VIEW_SQLITE_DEFINITION = Case(
    """
    - createView:
        viewName: v2
        fullDefinition: true
        selectQuery: |
          create view if not exists "v2" (a, b) as
          select id, name from person -- both
    - renameView: {oldViewName: v2, newViewName: v3}
    """,
    {
        # the column list and query are kept, comments aside; the statement ending in a comment gets its own line
        "sqlite": laid_out(
            "sqlite",
            'create view if not exists "v2" (a, b) as\nselect id, name from person -- both\n',
            "CREATE VIEW v3 (a, b) as\nselect id, name from person",
            "DROP VIEW v2",
        )
    },
)

# --- sequences --------------------------------------------------------------------------------------------------

CREATE_SEQUENCE = Case(
    """
    - createSequence:
        sequenceName: seq_person
        startValue: 100
        incrementBy: 5
        minValue: 1
        maxValue: 1000000
        cacheSize: 20
        cycle: true
    """,
    each(
        postgresql="CREATE SEQUENCE IF NOT EXISTS seq_person INCREMENT BY 5 START WITH 100 MINVALUE 1 MAXVALUE 1000000 "
        "CACHE 20 CYCLE",
        **{
            d: "CREATE SEQUENCE seq_person INCREMENT BY 5 START WITH 100 MINVALUE 1 MAXVALUE 1000000 CACHE 20 CYCLE"
            for d in ("mariadb", "mssql", "oracle")
        },
    ),
)

CREATE_SEQUENCE_NO_CACHE = Case(
    "- createSequence: {schemaName: app, sequenceName: Seq Two, cacheSize: 0, cycle: false}",
    each(
        postgresql='CREATE SEQUENCE IF NOT EXISTS app."Seq Two" CACHE 1',
        mariadb="CREATE SEQUENCE app.`Seq Two` CACHE 0",
        mssql="CREATE SEQUENCE app.[Seq Two] NO CACHE",
        oracle='CREATE SEQUENCE app."Seq Two" NOCACHE',
    ),
)

CREATE_SEQUENCE_TYPED = Case(
    "- createSequence: {sequenceName: seq_small, dataType: int, startValue: 1}",
    each(
        postgresql="CREATE SEQUENCE IF NOT EXISTS seq_small AS INTEGER START WITH 1",
        mssql="CREATE SEQUENCE seq_small AS INTEGER START WITH 1",
    ),
)

CREATE_SEQUENCE_ORDERED = Case(
    "- createSequence: {sequenceName: seq_ordered, ordered: true}",
    each(oracle="CREATE SEQUENCE seq_ordered ORDER", mariadb="CREATE SEQUENCE seq_ordered"),
)

ALTER_SEQUENCE = Case(
    "- alterSequence: {sequenceName: seq_person, incrementBy: 10, maxValue: 99999, cacheSize: 0, cycle: false}",
    each(
        postgresql="ALTER SEQUENCE seq_person INCREMENT BY 10 MAXVALUE 99999 CACHE 1 NO CYCLE",
        mariadb="ALTER SEQUENCE seq_person INCREMENT BY 10 MAXVALUE 99999 CACHE 0 NOCYCLE",
        mssql="ALTER SEQUENCE seq_person INCREMENT BY 10 MAXVALUE 99999 NO CACHE NO CYCLE",
        oracle="ALTER SEQUENCE seq_person INCREMENT BY 10 MAXVALUE 99999 NOCACHE NOCYCLE",
    ),
)

ALTER_SEQUENCE_MORE = Case(
    "- alterSequence: {schemaName: app, sequenceName: s, minValue: 5, cacheSize: 50, cycle: true}",
    each(
        postgresql="ALTER SEQUENCE app.s MINVALUE 5 CACHE 50 CYCLE",
        mariadb="ALTER SEQUENCE app.s MINVALUE 5 CACHE 50 CYCLE",
        mssql="ALTER SEQUENCE app.s MINVALUE 5 CACHE 50 CYCLE",
        oracle="ALTER SEQUENCE app.s MINVALUE 5 CACHE 50 CYCLE",
    ),
)

RENAME_SEQUENCE = Case(
    "- renameSequence: {oldSequenceName: seq_person, newSequenceName: Seq Person}",
    each(
        postgresql='ALTER SEQUENCE seq_person RENAME TO "Seq Person"',
        mariadb="RENAME TABLE seq_person TO `Seq Person`",
        mssql="EXEC sp_rename 'seq_person', [Seq Person]",
        oracle='RENAME seq_person TO "Seq Person"',
    ),
)

DROP_SEQUENCE = Case(
    "- dropSequence: {schemaName: app, sequenceName: seq_person}",
    each(
        postgresql="DROP SEQUENCE app.seq_person CASCADE",  # as Liquibase
        mariadb="DROP SEQUENCE app.seq_person",
        mssql="DROP SEQUENCE app.seq_person",
        oracle="DROP SEQUENCE app.seq_person",
    ),
)

# --- procedures -------------------------------------------------------------------------------------------------

MYSQL_PROCEDURE = "CREATE PROCEDURE add_one() BEGIN UPDATE person SET id = id + 1; UPDATE team SET id = id + 1; END"

CREATE_PROCEDURE = Case(
    f"""
    - createProcedure:
        procedureName: add_one
        procedureText: |
          {MYSQL_PROCEDURE};
    """,
    # one statement, never split at the ';' inside; the trailing ';' is the sink's terminator, not the text's
    # (on Oracle the text keeps its ';', which ends a PL/SQL block there, and loses only a '/' line)
    {
        **only(("postgresql", "mysql", "mariadb", "mssql"), same(MYSQL_PROCEDURE)),
        "oracle": laid_out("oracle", MYSQL_PROCEDURE + ";"),
    },
)

CREATE_PROCEDURE_REPLACE = Case(
    f"""
    - createProcedure:
        procedureName: add_one
        replaceIfExists: true
        procedureBody: "{MYSQL_PROCEDURE}"
    """,
    each(
        postgresql=("DROP PROCEDURE IF EXISTS add_one", MYSQL_PROCEDURE),
        mysql=("DROP PROCEDURE IF EXISTS add_one", MYSQL_PROCEDURE),
        mariadb=("DROP PROCEDURE IF EXISTS add_one", MYSQL_PROCEDURE),
        mssql=MYSQL_PROCEDURE.replace("CREATE PROCEDURE", "CREATE OR ALTER PROCEDURE"),
    ),
)

PLSQL_PROCEDURE = "CREATE OR REPLACE PROCEDURE bump IS\nBEGIN\n  UPDATE person SET id = id + 1;\nEND;"

CREATE_PROCEDURE_ORACLE = Case(
    f"""
    - createProcedure:
        procedureName: bump
        dbms: oracle
        procedureText: |
          {textwrap.indent(PLSQL_PROCEDURE, "          ").strip()}
          /
    """,
    # Oracle keeps the PL/SQL block's END; and loses the trailing '/' line; other databases skip it (dbms)
    {**dict.fromkeys(DIALECTS, ""), "oracle": laid_out("oracle", PLSQL_PROCEDURE)},
)

DROP_PROCEDURE = Case(
    "- dropProcedure: {schemaName: app, procedureName: Add One}",
    each(
        postgresql='DROP PROCEDURE app."Add One"',
        mysql="DROP PROCEDURE app.`Add One`",
        mariadb="DROP PROCEDURE app.`Add One`",
        mssql="DROP PROCEDURE app.[Add One]",
        oracle='DROP PROCEDURE app."Add One"',
    ),
)

# --- remarks ----------------------------------------------------------------------------------------------------


def mssql_description(table: str, value: str, column: str | None = None) -> str:
    minor = f"COLUMNPROPERTY(OBJECT_ID(N'[dbo].[{table}]'), N'{column}', 'ColumnId')" if column else "0"
    levels = f"@level0type = N'SCHEMA', @level0name = N'dbo', @level1type = N'TABLE', @level1name = N'{table}'"
    if column:
        levels += f", @level2type = N'COLUMN', @level2name = N'{column}'"
    return (
        f"IF EXISTS (SELECT 1 FROM sys.extended_properties WHERE major_id = OBJECT_ID(N'[dbo].[{table}]') "
        f"AND name = N'MS_Description' AND minor_id = {minor})\n"
        f"    EXEC sys.sp_updateextendedproperty @name = N'MS_Description', @value = N'{value}', {levels}\n"
        "ELSE\n"
        f"    EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'{value}', {levels}"
    )


SET_TABLE_REMARKS = Case(
    """- setTableRemarks: {tableName: person, remarks: "  People's 100% table "}""",
    {
        # SQLite has no comments: nothing is run, and update-sql says so
        "sqlite": "-- SQLite has no comments: the remarks on table person are not stored",
        **each(
            postgresql="COMMENT ON TABLE person IS 'People''s 100% table'",
            mysql="ALTER TABLE person COMMENT 'People''s 100% table'",
            mariadb="ALTER TABLE person COMMENT 'People''s 100% table'",
            mssql=mssql_description("person", "People''s 100% table"),
            oracle="COMMENT ON TABLE person IS 'People''s 100% table'",
        ),
    },
)

SET_COLUMN_REMARKS = Case(
    "- setColumnRemarks: {tableName: person, columnName: Nick Name, remarks: what friends say, columnDataType: varchar(20)}",
    {
        "sqlite": "-- SQLite has no comments: the remarks on table person column Nick Name are not stored",
        # MySQL restates the column (as Liquibase, with its warning)
        **{
            d: f"-- setColumnRemarks on {d} restates table person column Nick Name as varchar(20): a NOT NULL, "
            "DEFAULT or AUTO_INCREMENT it had is lost\n\n"
            + laid_out(d, "ALTER TABLE person MODIFY `Nick Name` VARCHAR(20) NULL COMMENT 'what friends say'")
            for d in ("mysql", "mariadb")
        },
        **each(
            postgresql="""COMMENT ON COLUMN person."Nick Name" IS 'what friends say'""",
            mssql=mssql_description("person", "what friends say", "Nick Name"),
            oracle="""COMMENT ON COLUMN person."Nick Name" IS 'what friends say'""",
        ),
    },
)

SET_COLUMN_REMARKS_NO_TYPE = Case(
    "- setColumnRemarks: {tableName: t, columnName: c, remarks: x}",
    {
        "sqlite": "-- SQLite has no comments: the remarks on table t column c are not stored",
        **each(
            postgresql="COMMENT ON COLUMN t.c IS 'x'",
            oracle="COMMENT ON COLUMN t.c IS 'x'",
            mssql=mssql_description("t", "x", "c"),
        ),
    },
)

# --- addLookupTable, mergeColumns -------------------------------------------------------------------------------

LOOKUP_FILL = "INSERT INTO person_name (name) SELECT DISTINCT person.name\nFROM person\nWHERE person.name IS NOT NULL"


def lookup_create(name_type: str) -> str:
    return f"CREATE TABLE person_name (\n    name {name_type} NOT NULL,\n    PRIMARY KEY (name)\n)"


ADD_LOOKUP_TABLE = Case(
    """
    - addLookupTable:
        existingTableName: person
        existingColumnName: name
        newTableName: person_name
        newColumnName: name
        newColumnDataType: varchar(50)
    """,
    each(
        sqlite=(
            lookup_create("VARCHAR(50)"),
            LOOKUP_FILL,
            # SQLite adds a foreign key by recreating the table (rows, key, index kept)
            "CREATE TABLE _alembic_tmp_person (\n    id INTEGER NOT NULL,\n    name VARCHAR(50) NOT NULL,\n"
            '    "Nick Name" VARCHAR(20),\n    team_id INTEGER,\n    PRIMARY KEY (id),\n'
            "    CONSTRAINT fk_person_team FOREIGN KEY(team_id) REFERENCES team (id),\n"
            "    CONSTRAINT FK_PERSON_PERSON_NAME FOREIGN KEY(name) REFERENCES person_name (name)\n)",
            'INSERT INTO _alembic_tmp_person (id, name, "Nick Name", team_id) SELECT person.id, person.name, '
            'person."Nick Name", person.team_id\nFROM person',
            "DROP TABLE person",
            "ALTER TABLE _alembic_tmp_person RENAME TO person",
            "CREATE INDEX ix_person_name ON person (name)",
        ),
        # Liquibase's default name, unquoted (PostgreSQL folds it to lower case, as for Liquibase)
        postgresql=(
            lookup_create("VARCHAR(50)"),
            LOOKUP_FILL,
            "ALTER TABLE person ADD CONSTRAINT FK_PERSON_PERSON_NAME FOREIGN KEY(name) REFERENCES person_name (name)",
        ),
        mysql=(
            lookup_create("VARCHAR(50)"),
            LOOKUP_FILL,
            "ALTER TABLE person ADD CONSTRAINT FK_PERSON_PERSON_NAME FOREIGN KEY(name) REFERENCES person_name (name)",
        ),
        mariadb=(
            lookup_create("VARCHAR(50)"),
            LOOKUP_FILL,
            "ALTER TABLE person ADD CONSTRAINT FK_PERSON_PERSON_NAME FOREIGN KEY(name) REFERENCES person_name (name)",
        ),
        mssql=(
            lookup_create("VARCHAR(50)"),
            LOOKUP_FILL,
            "ALTER TABLE person ADD CONSTRAINT FK_PERSON_PERSON_NAME FOREIGN KEY(name) REFERENCES person_name (name)",
        ),
        oracle=(
            lookup_create("VARCHAR2(50 CHAR)"),
            LOOKUP_FILL,
            "ALTER TABLE person ADD CONSTRAINT FK_PERSON_PERSON_NAME FOREIGN KEY(name) REFERENCES person_name (name)",
        ),
    ),
)

ADD_LOOKUP_TABLE_NO_TYPE = Case(
    """
    - addLookupTable: {existingTableName: person, existingColumnName: name, newTableName: person_name, newColumnName: name}
    """,
    # without newColumnDataType the existing column's type is read from the database (here SQLite's preview copy)
    {"sqlite": ADD_LOOKUP_TABLE.sql["sqlite"]},
)

ADD_LOOKUP_TABLE_NAMED = Case(
    """
    - addLookupTable:
        existingTableSchemaName: app
        existingTableName: person
        existingColumnName: team
        newTableSchemaName: ref
        newTableName: team_code
        newColumnName: code
        newColumnDataType: char(2)
        constraintName: fk_person_team_code
    """,
    {
        d: laid_out(
            d,
            "CREATE TABLE ref.team_code (\n    code CHAR(2) NOT NULL,\n    PRIMARY KEY (code)\n)",
            "INSERT INTO ref.team_code (code) SELECT DISTINCT app.person.team\nFROM app.person\n"
            "WHERE app.person.team IS NOT NULL",
            "ALTER TABLE app.person ADD CONSTRAINT fk_person_team_code FOREIGN KEY(team) REFERENCES ref.team_code (code)",
        )
        for d in DIALECTS
        if d != "sqlite"
    },
)

MERGE_COLUMNS = Case(
    """
    - mergeColumns:
        tableName: person
        column1Name: name
        joinString: " aka "
        column2Name: Nick Name
        finalColumnName: full_name
        finalColumnType: varchar(80)
    """,
    each(
        sqlite=(
            "ALTER TABLE person ADD COLUMN full_name VARCHAR(80)",
            "UPDATE person SET full_name=(person.name || ' aka ' || person.\"Nick Name\")",
            # the index on a merged column goes first (SQLite would refuse to drop an indexed column)
            "DROP INDEX ix_person_name",
            "CREATE TABLE _alembic_tmp_person (\n    id INTEGER NOT NULL,\n    team_id INTEGER,\n    full_name VARCHAR(80),\n"
            "    PRIMARY KEY (id),\n    CONSTRAINT fk_person_team FOREIGN KEY(team_id) REFERENCES team (id)\n)",
            "INSERT INTO _alembic_tmp_person (id, team_id, full_name) SELECT person.id, person.team_id, "
            "person.full_name\nFROM person",
            "DROP TABLE person",
            "ALTER TABLE _alembic_tmp_person RENAME TO person",
        ),
        postgresql=(
            "ALTER TABLE person ADD COLUMN full_name VARCHAR(80)",
            "UPDATE person SET full_name=(person.name || ' aka ' || person.\"Nick Name\")",
            "ALTER TABLE person DROP COLUMN name",
            'ALTER TABLE person DROP COLUMN "Nick Name"',
        ),
        mysql=(
            "ALTER TABLE person ADD COLUMN full_name VARCHAR(80)",
            "UPDATE person SET full_name=(concat(person.name, ' aka ', person.`Nick Name`))",
            "ALTER TABLE person DROP COLUMN name",
            "ALTER TABLE person DROP COLUMN `Nick Name`",
        ),
        mariadb=(
            "ALTER TABLE person ADD COLUMN full_name VARCHAR(80)",
            "UPDATE person SET full_name=(concat(person.name, ' aka ', person.`Nick Name`))",
            "ALTER TABLE person DROP COLUMN name",
            "ALTER TABLE person DROP COLUMN `Nick Name`",
        ),
        mssql=(
            "ALTER TABLE person ADD full_name VARCHAR(80) NULL",
            "UPDATE person SET full_name=(person.name + ' aka ' + person.[Nick Name])",
            "ALTER TABLE person DROP COLUMN name",
            "ALTER TABLE person DROP COLUMN [Nick Name]",
        ),
        oracle=(
            "ALTER TABLE person ADD full_name VARCHAR2(80 CHAR)",
            "UPDATE person SET full_name=(person.name || ' aka ' || person.\"Nick Name\")",
            "ALTER TABLE person DROP COLUMN name",
            'ALTER TABLE person DROP COLUMN "Nick Name"',
        ),
    ),
)

# --- empty, output ----------------------------------------------------------------------------------------------

EMPTY = Case("- empty: {}", dict.fromkeys(DIALECTS, ""))

OUTPUT = Case(
    """- output: {message: "  half way\\nthrough ", target: STDOUT}""",
    # in update-sql the message is a comment, each line commented
    dict.fromkeys(DIALECTS, "-- half way\n-- through"),
)

CASES: dict[str, Case] = {
    "createView": CREATE_VIEW,
    "createView-replace": CREATE_VIEW_REPLACE,
    "createView-fullDefinition": CREATE_VIEW_FULL_DEFINITION,
    "createView-schema-remarks": CREATE_VIEW_SCHEMA_REMARKS,
    "dropView": DROP_VIEW,
    "dropView-ifExists": DROP_VIEW_IF_EXISTS,
    "renameView": RENAME_VIEW,
    "renameView-sqlite-definition": RENAME_VIEW_SQLITE_DEFINITION,
    "createSequence": CREATE_SEQUENCE,
    "createSequence-no-cache": CREATE_SEQUENCE_NO_CACHE,
    "createSequence-typed": CREATE_SEQUENCE_TYPED,
    "createSequence-ordered": CREATE_SEQUENCE_ORDERED,
    "alterSequence": ALTER_SEQUENCE,
    "alterSequence-more": ALTER_SEQUENCE_MORE,
    "renameSequence": RENAME_SEQUENCE,
    "dropSequence": DROP_SEQUENCE,
    "createProcedure": CREATE_PROCEDURE,
    "createProcedure-replace": CREATE_PROCEDURE_REPLACE,
    "createProcedure-oracle": CREATE_PROCEDURE_ORACLE,
    "dropProcedure": DROP_PROCEDURE,
    "setTableRemarks": SET_TABLE_REMARKS,
    "setColumnRemarks": SET_COLUMN_REMARKS,
    "setColumnRemarks-no-type": SET_COLUMN_REMARKS_NO_TYPE,
    "addLookupTable": ADD_LOOKUP_TABLE,
    "addLookupTable-no-type": ADD_LOOKUP_TABLE_NO_TYPE,
    "addLookupTable-named": ADD_LOOKUP_TABLE_NAMED,
    "mergeColumns": MERGE_COLUMNS,
    "empty": EMPTY,
    "output": OUTPUT,
}

# (case, dialect, what the refusal says): a change the dialect cannot express is refused, never rendered wrong.
NO_SEQUENCES = [name for name in CASES if "Sequence" in name]
REFUSED: list[tuple[str, str, str]] = [
    ("dropView-ifExists", "oracle", "dropView: ifExists is not supported on oracle"),
    *(
        (name, d, f"{name.split('-')[0]} is not supported on {d}: .* has no sequences")
        for name in NO_SEQUENCES
        for d in ("sqlite", "mysql")
    ),
    ("createSequence-typed", "mariadb", "createSequence: dataType is not supported on mariadb"),
    ("createSequence-typed", "oracle", "createSequence: dataType is not supported on oracle"),
    ("createSequence-ordered", "postgresql", "createSequence: ordered is not supported on postgresql"),
    ("createSequence-ordered", "mssql", "createSequence: ordered is not supported on mssql"),
    ("createProcedure", "sqlite", "createProcedure is not supported on sqlite: SQLite has no stored procedures"),
    ("createProcedure-replace", "sqlite", "SQLite has no stored procedures"),
    ("createProcedure-replace", "oracle", "replaceIfExists is not supported on oracle"),
    ("dropProcedure", "sqlite", "dropProcedure is not supported on sqlite: SQLite has no stored procedures"),
    *(
        (
            "addLookupTable-no-type",
            d,
            "addLookupTable needs newColumnDataType when the SQL is rendered without a database",
        )
        for d in DIALECTS
        if d != "sqlite"
    ),
    ("setColumnRemarks-no-type", "mysql", "setColumnRemarks needs columnDataType on mysql"),
    ("setColumnRemarks-no-type", "mariadb", "setColumnRemarks needs columnDataType on mariadb"),
]
# Not rendered, for a reason that is no refusal: SQLite's preview shadow holds no "app" schema to recreate from;
# and the case for SQLite's view definitions is about SQLite alone.
NOT_RENDERED = {("addLookupTable-named", "sqlite")} | {
    ("renameView-sqlite-definition", d) for d in DIALECTS if d != "sqlite"
}


def _golden_params() -> list[Any]:
    return [
        pytest.param(case.changes, dialect, expected, id=f"{name}-{dialect}")
        for name, case in CASES.items()
        for dialect, expected in case.sql.items()
    ]


@pytest.mark.parametrize(("changes", "dialect", "expected"), _golden_params())
def test_golden_sql(changes: str, dialect: str, expected: str) -> None:
    assert render(dialect, textwrap.dedent(changes)) == expected


@pytest.mark.parametrize(("name", "dialect", "reason"), REFUSED, ids=[f"{n}-{d}" for n, d, _ in REFUSED])
def test_refused_where_the_dialect_cannot_express_it(name: str, dialect: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        render(dialect, textwrap.dedent(CASES[name].changes))


def test_every_case_is_rendered_or_refused_on_every_dialect() -> None:
    refused = {(name, dialect) for name, dialect, _ in REFUSED}
    for name, case in CASES.items():
        for dialect in DIALECTS:
            pairs = [dialect in case.sql, (name, dialect) in refused, (name, dialect) in NOT_RENDERED]
            assert sum(pairs) == 1, (name, dialect)


def test_every_new_change_type_has_a_case() -> None:
    covered = {next(iter(item)) for case in CASES.values() for item in yaml.safe_load(textwrap.dedent(case.changes))}
    assert NEW_TYPES - covered == {"stop"}  # stop renders nothing: it stops the run (tested below)


def covered_types() -> set[str]:
    """The change types this module gives exact SQL for (``stop`` renders nothing: it is tested for stopping)."""
    names = {next(iter(item)) for case in CASES.values() for item in yaml.safe_load(textwrap.dedent(case.changes))}
    return names | {"stop"}


# --- stop, output: the steps they make and how the preview sink handles them -------------------------------------


def test_stop_halts_the_sink_with_its_message() -> None:
    (stop,) = changes_from("- stop: {message: '  not yet  '}")
    assert stop.operations(PlanContext("postgresql")) == [Halt("not yet")]
    with pytest.raises(HaltRequested, match=r"^not yet$"):
        render("postgresql", "- output: {message: before}\n- stop: {message: not yet}")


def test_stop_has_liquibase_default_message() -> None:
    assert Stop().operations(PlanContext("sqlite")) == [Halt("Stop command in changelog file")]


def test_output_targets_and_default() -> None:
    assert Output(message="m").operations(PlanContext("sqlite")) == [Message("m", "STDERR")]
    assert Output(message="m", target="warn").operations(PlanContext("sqlite")) == [Message("m", "WARN")]
    assert Output(message="   ").operations(PlanContext("sqlite")) == []
    with pytest.raises(ValueError, match="unknown target 'PRINTER'"):
        Output(message="m", target="PRINTER")


def test_the_sqlite_preview_shadow_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # the shadow replays each step silently: the message is the preview's comment, written once
    assert render("sqlite", "- output: {message: once, target: STDOUT}") == "-- once"
    assert capsys.readouterr().out == ""


def test_a_table_recreation_in_a_preview_sees_the_earlier_steps_of_its_change() -> None:
    # mergeColumns adds a column, then recreates the table to drop two: the copy keeps the added column
    sql = render("sqlite", MERGE_COLUMNS.changes)
    assert "INSERT INTO _alembic_tmp_person (id, team_id, full_name)" in sql


# --- descriptions (DATABASECHANGELOG.DESCRIPTION, as Liquibase writes them) ---------------------------------------


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ("- createView: {schemaName: s, viewName: v, selectQuery: select 1}", "createView viewName=v"),
        ("- dropView: {viewName: v}", "dropView viewName=v"),
        ("- renameView: {oldViewName: a, newViewName: b}", "renameView newViewName=b, oldViewName=a"),
        ("- createSequence: {sequenceName: s, startValue: 5}", "createSequence sequenceName=s"),
        ("- alterSequence: {sequenceName: s, incrementBy: 2}", "alterSequence sequenceName=s"),
        (
            "- renameSequence: {oldSequenceName: a, newSequenceName: b}",
            "renameSequence newSequenceName=b, oldSequenceName=a",
        ),
        ("- dropSequence: {sequenceName: s}", "dropSequence sequenceName=s"),
        ("- createProcedure: {procedureName: p, procedureText: x}", "createProcedure procedureName=p"),
        ("- createProcedure: {procedureText: x}", "createProcedure"),
        ("- dropProcedure: {procedureName: p}", "dropProcedure procedureName=p"),
        ("- setTableRemarks: {tableName: t, remarks: r}", "setTableRemarks tableName=t"),
        ("- setColumnRemarks: {tableName: t, columnName: c, remarks: r}", "setColumnRemarks columnName=c, tableName=t"),
        (
            "- addLookupTable: {existingTableName: a, existingColumnName: c, newTableName: b, newColumnName: d,"
            " existingTableSchemaName: s}",
            "addLookupTable existingColumnName=c, existingTableName=a, newColumnName=d, newTableName=b",
        ),
        (
            "- mergeColumns: {tableName: t, column1Name: a, column2Name: b, finalColumnName: c, finalColumnType: int}",
            "mergeColumns column1Name=a, column2Name=b, finalColumnName=c, tableName=t",
        ),
        ("- empty: {}", "empty"),
        ("- output: {message: hi}", "output"),
        ("- stop: {message: hi}", "stop"),
    ],
)
def test_descriptions(change: str, description: str) -> None:
    (model,) = changes_from(change)
    assert model.description() == description


# --- inverses -------------------------------------------------------------------------------------------------

CTX = PlanContext("postgresql")


def test_create_view_inverse_drops_it_also_when_it_replaced_one() -> None:
    # as Liquibase: dropView, whether or not replaceIfExists (the replaced view is not brought back)
    for replace in ("false", "true"):
        (change,) = changes_from(
            f"- createView: {{catalogName: c, schemaName: s, viewName: v, selectQuery: select 1, replaceIfExists: {replace}}}"
        )
        assert change.inverse(CTX) == [DropView(catalogName="c", schemaName="s", viewName="v")]


def test_rename_view_inverse_renames_back() -> None:
    (change,) = changes_from("- renameView: {schemaName: s, oldViewName: a, newViewName: b}")
    assert change.inverse(CTX) == changes_from("- renameView: {schemaName: s, oldViewName: b, newViewName: a}")


def test_create_sequence_inverse_drops_it() -> None:
    (change,) = changes_from("- createSequence: {schemaName: s, sequenceName: q, startValue: 3}")
    assert change.inverse(CTX) == [DropSequence(schemaName="s", sequenceName="q")]


def test_rename_sequence_inverse_renames_back() -> None:
    (change,) = changes_from("- renameSequence: {schemaName: s, oldSequenceName: a, newSequenceName: b}")
    assert change.inverse(CTX) == changes_from(
        "- renameSequence: {schemaName: s, oldSequenceName: b, newSequenceName: a}"
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_add_lookup_table_inverse_drops_the_foreign_key_then_the_table(dialect: str) -> None:
    (change,) = changes_from(
        "- addLookupTable: {existingTableName: person, existingColumnName: name, newTableName: person_name,"
        " newColumnName: name, newColumnDataType: varchar(50), constraintName: fk_lookup}"
    )
    out = io.StringIO()
    with text_sink(dialect, out) as sink:
        sink.apply(change)
        for inverse in change.inverse(PlanContext(dialect)):
            sink.apply(inverse)
    sql = normal(out.getvalue())
    drop_fk = {
        "mysql": "ALTER TABLE person DROP FOREIGN KEY fk_lookup",
        "mariadb": "ALTER TABLE person DROP FOREIGN KEY fk_lookup",
    }.get(dialect, "ALTER TABLE person DROP CONSTRAINT fk_lookup")
    if dialect == "sqlite":  # the table is recreated without the key
        tail = sql[sql.index(laid_out("sqlite", "CREATE INDEX ix_person_name ON person (name)")) :]
        assert "fk_lookup" not in tail.split("CREATE TABLE _alembic_tmp_person", 2)[1]
        assert tail.endswith(laid_out("sqlite", "DROP TABLE person_name"))
    else:
        assert sql.endswith(laid_out(dialect, drop_fk, "DROP TABLE person_name"))


def test_add_lookup_table_without_type_needs_the_column() -> None:
    with pytest.raises(ValueError, match=r"addLookupTable: column person.nickname not found"):
        render(
            "sqlite",
            "- addLookupTable: {existingTableName: person, existingColumnName: nickname, newTableName: n, newColumnName: n}",
        )


def test_add_lookup_table_default_constraint_name_is_liquibase_s() -> None:
    (change,) = changes_from(
        "- addLookupTable: {existingTableName: address, existingColumnName: state, newTableName: state,"
        " newColumnName: abbreviation}"
    )
    assert isinstance(change, AddLookupTable)
    assert change.final_constraint_name() == "FK_ADDRESS_STATE"


def test_nothing_to_undo_for_empty_and_output() -> None:
    assert Empty().inverse(CTX) == []
    assert Output(message="m").inverse(CTX) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            "- dropView: {viewName: v}",
            "dropView on view v cannot be rolled back automatically: its definition was not captured when it ran",
        ),
        ("- alterSequence: {sequenceName: s, incrementBy: 2}", "alterSequence cannot be rolled back automatically"),
        (
            "- dropSequence: {schemaName: app, sequenceName: s}",
            "dropSequence on sequence app.s cannot be rolled back automatically: its definition was not captured",
        ),
        ("- createProcedure: {procedureText: x}", "createProcedure cannot be rolled back automatically"),
        (
            "- dropProcedure: {procedureName: p}",
            "dropProcedure on procedure p cannot be rolled back automatically: its definition was not captured",
        ),
        ("- setTableRemarks: {tableName: t, remarks: r}", "setTableRemarks cannot be rolled back automatically"),
        (
            "- setColumnRemarks: {tableName: t, columnName: c, remarks: r}",
            "setColumnRemarks cannot be rolled back automatically",
        ),
        (
            "- mergeColumns: {tableName: t, column1Name: a, column2Name: b, finalColumnName: c, finalColumnType: int}",
            "mergeColumns cannot be rolled back automatically",
        ),
        ("- stop: {message: m}", "stop cannot be rolled back automatically"),
    ],
)
def test_changes_without_an_inverse_say_why(change: str, reason: str) -> None:
    (model,) = changes_from(change)
    with pytest.raises(NoInverse, match=reason):
        model.inverse(CTX)


def test_create_procedure_wants_one_text_and_a_name_to_replace() -> None:
    with pytest.raises(ValueError, match="exactly one of procedureText, procedureBody or path"):
        changes_from("- createProcedure: {procedureText: a, procedureBody: b}")
    with pytest.raises(ValueError, match="procedureName is required if replaceIfExists"):
        changes_from("- createProcedure: {procedureText: a, replaceIfExists: true}")


def test_rename_view_on_sqlite_needs_the_view() -> None:
    with pytest.raises(ValueError, match="renameView: there is no view 'nowhere'"):
        render("sqlite", "- renameView: {oldViewName: nowhere, newViewName: v}")
    (change,) = changes_from("- renameView: {oldViewName: a, newViewName: b}")
    with pytest.raises(ValueError, match="needs the database"):
        change.operations(PlanContext("sqlite"))


@pytest.mark.parametrize("attribute", ["startValue", "incrementBy", "minValue", "maxValue", "cacheSize"])
def test_sequence_numbers_must_be_whole(attribute: str) -> None:
    with pytest.raises(ValueError, match=f"{attribute} must be a whole number, not '1.5'"):
        changes_from(f"- createSequence: {{sequenceName: s, {attribute}: '1.5'}}")
    # quoted whole numbers are numbers, as Liquibase's BigInteger attributes read them
    assert " 12" in render("postgresql", f"- createSequence: {{sequenceName: s, {attribute}: '12'}}")


def test_alter_sequence_that_changes_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="alterSequence changes nothing"):
        render("postgresql", "- alterSequence: {sequenceName: s}")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_output_online_writes_to_its_target(capsys: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("yamlbase.output")
    collect, level, propagate = Collect(), log.level, log.propagate
    log.addHandler(collect)
    log.setLevel(logging.INFO)
    log.propagate = False  # the CLI's stderr handler (on "yamlbase") is not this test's business
    engine = commands.create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            sink = ConnectionSink(connection)
            for change in changes_from(
                """
                - output: {message: to stdout, target: STDOUT}
                - output: {message: to stderr}
                - output: {message: to the log, target: info}
                """
            ):
                sink.apply(change)
    finally:
        engine.dispose()
        log.removeHandler(collect)
        log.setLevel(level)
        log.propagate = propagate
    captured = capsys.readouterr()
    assert captured.out == "to stdout\n"
    assert captured.err == "to stderr\n"
    assert [(r.levelno, r.getMessage()) for r in collect.records] == [(logging.INFO, "to the log")]


def test_stop_written_as_its_message_alone(tmp_path: Path) -> None:
    # ``- stop: why`` (Liquibase's customLoadLogic): the same change, and the same checksum, as {message: why}
    for name, stop in (("short", "'  why '"), ("long", "{message: why}")):
        (tmp_path / f"{name}.yaml").write_text(
            f"databaseChangeLog:\n  - changeSet:\n      id: s\n      author: a\n      changes:\n        - stop: {stop}\n",
            encoding="utf-8",
        )
    short, long = (parse_changelog(tmp_path / f"{name}.yaml").changesets[0] for name in ("short", "long"))
    assert [type(c) for c in short.changes] == [Stop]
    assert short.changes[0].operations(CTX) == long.changes[0].operations(CTX) == [Halt("why")]
    assert short.checksum == long.checksum
