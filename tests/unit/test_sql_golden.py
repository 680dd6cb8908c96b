"""Exact SQL per dialect, with no database (Alembic's op_fixture idea, sqlglot's validate_all).

Each case is one or more changes and the SQL that ``TextSink`` — the sink behind ``update-sql`` — must render for
each of the six dialects. Expectations are what is *correct* for that database; where yamlbase renders something
else today, the (case, dialect) is a strict xfail whose reason names the bug. Also here: ``split_sql``, each
change's inverse, and the pure planning functions of ``yamlbase.runtime.plan``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import io
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Connection

from yamlbase import commands
from yamlbase.changelog.model import ChangeLog, ChangeSet
from yamlbase.changes import REGISTRY, Change, NoInverse, PlanContext
from yamlbase.changes.column import AddColumn, ColumnConfig, ColumnItem, ColumnName, ColumnNameItem, DropColumn
from yamlbase.changes.index import DropIndex
from yamlbase.changes.meta import TagDatabase
from yamlbase.changes.sql import Sql, dbms_matches, split_sql
from yamlbase.changes.table import CreateTable, DropTable, RenameTable
from yamlbase.errors import ChecksumMismatchError, Location, RollbackImpossibleError, YamlbaseError
from yamlbase.runtime import plan
from yamlbase.runtime.history import HistoryRow
from yamlbase.runtime.sink import TextSink

DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")

# The tables the cases work on. Only SQLite needs them (its table recreation reflects the current table from the
# in-memory shadow database); the other dialects render ALTERs from the change alone.
SETUP = """
- createTable:
    tableName: team
    columns:
      - column: {name: id, type: int, autoIncrement: false, constraints: {primaryKey: true}}
- createTable:
    tableName: person
    columns:
      - column: {name: id, type: int, autoIncrement: false, constraints: {primaryKey: true}}
      - column: {name: name, type: varchar(50), constraints: {nullable: false}}
      - column: {name: Nick Name, type: varchar(20)}
      - column: {name: team_id, type: int, constraints: {references: team(id), foreignKeyName: fk_person_team}}
- createIndex:
    tableName: person
    indexName: ix_person_name
    columns: [{column: {name: name}}]
"""


def changes_from(text: str) -> list[Change]:
    """The change models of a YAML list of changes, as a changelog's ``changes:`` would give them."""
    result = []
    for item in yaml.safe_load(text):
        ((name, params),) = item.items()
        if name == "sql" and isinstance(params, str):
            params = {"sql": params}
        result.append(REGISTRY[name].model_validate(params))
    return result


@contextlib.contextmanager
def text_sink(dialect: str, out: io.StringIO) -> Iterator[TextSink]:
    """A TextSink as update-sql makes it: SQLite gets an in-memory shadow holding SETUP's tables."""
    if dialect != "sqlite":
        yield TextSink(dialect, out)
        return
    engine = commands.create_engine("sqlite://")
    try:
        with engine.connect() as shadow:
            sink = TextSink(dialect, out, shadow=shadow)
            assert sink.shadow is not None
            for change in changes_from(SETUP):
                sink.shadow.apply(change)
            yield sink
    finally:
        engine.dispose()


def normal(text: str) -> str:
    """SQL text without trailing blanks on its lines (SQLAlchemy leaves one after each comma)."""
    return "\n".join(line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines())


def render(dialect: str, changes: str) -> str:
    out = io.StringIO()
    with text_sink(dialect, out) as sink:
        for change in changes_from(changes):
            sink.apply(change)
    return normal(out.getvalue())


def laid_out(dialect: str, *statements: str) -> str:
    """Statements the way TextSink writes them: ';' (none on Oracle), then GO on SQL Server, '/' on Oracle."""
    parts = [normal(s) for s in statements]
    if dialect == "mssql":
        return "\n\n".join(f"{s};\n\nGO" for s in parts)
    if dialect == "oracle":
        return "\n\n".join(f"{s}\n\n/" for s in parts)
    return "\n\n".join(f"{s};" for s in parts)


def same(*statements: str) -> dict[str, str]:
    """The same statements on every dialect."""
    return {d: laid_out(d, *statements) for d in DIALECTS}


def each(**statements: str | tuple[str, ...]) -> dict[str, str]:
    """Per dialect: one statement or a tuple of them."""
    return {d: laid_out(d, *((s,) if isinstance(s, str) else s)) for d, s in statements.items()}


@dataclass(frozen=True)
class Case:
    changes: str
    sql: dict[str, str]
    bugs: dict[str, str] = field(default_factory=dict)


# --- createTable ----------------------------------------------------------------------------------------------

CREATE_PERSON = """
- createTable:
    tableName: Person Table
    columns:
      - column: {name: id, type: bigint, autoIncrement: true, constraints: {primaryKey: true, primaryKeyName: pk_person}}
      - column: {name: Email, type: varchar(100), constraints: {nullable: false, unique: true, uniqueConstraintName: uq_person_email}}
      - column: {name: team_id, type: int, constraints: {references: team(id), foreignKeyName: fk_person_team, deleteCascade: true}}
      - column: {name: active, type: boolean, defaultValueBoolean: true}
      - column: {name: score, type: "decimal(10,2)", defaultValueNumeric: 0.5}
      - column: {name: created, type: timestamp, defaultValueComputed: CURRENT_TIMESTAMP}
      - column: {name: nick, type: varchar(20), defaultValue: "it's"}
"""


def person_table(name: str, columns: str, quote: tuple[str, str]) -> str:
    q0, q1 = quote
    lines = [
        *textwrap.dedent(columns).strip().splitlines(),
        "CONSTRAINT pk_person PRIMARY KEY (id)",
        f"CONSTRAINT uq_person_email UNIQUE ({q0}Email{q1})",
        "CONSTRAINT fk_person_team FOREIGN KEY(team_id) REFERENCES team (id) ON DELETE CASCADE",
    ]
    body = ",\n".join(f"    {line.rstrip(',')}" for line in lines)
    return f"CREATE TABLE {q0}{name}{q1} (\n{body}\n)"


CREATE_TABLE = Case(
    CREATE_PERSON,
    each(
        # SQLite: an INTEGER primary key is the rowid, which is what auto-increments there
        sqlite=person_table(
            "Person Table",
            """
            id INTEGER NOT NULL,
            "Email" VARCHAR(100) NOT NULL,
            team_id INTEGER,
            active BOOLEAN DEFAULT 1,
            score NUMERIC(10, 2) DEFAULT (0.5),
            created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            nick VARCHAR(20) DEFAULT 'it''s'""",
            ('"', '"'),
        ),
        postgresql=person_table(
            "Person Table",
            """
            id BIGINT GENERATED BY DEFAULT AS IDENTITY,
            "Email" VARCHAR(100) NOT NULL,
            team_id INTEGER,
            active BOOLEAN DEFAULT true,
            score NUMERIC(10, 2) DEFAULT 0.5,
            created TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP,
            nick VARCHAR(20) DEFAULT 'it''s'""",
            ('"', '"'),
        ),
        mysql=person_table(
            "Person Table",
            """
            id BIGINT NOT NULL AUTO_INCREMENT,
            `Email` VARCHAR(100) NOT NULL,
            team_id INTEGER,
            active BOOL DEFAULT true,
            score NUMERIC(10, 2) DEFAULT (0.5),
            created TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
            nick VARCHAR(20) DEFAULT 'it''s'""",
            ("`", "`"),
        ),
        mariadb=person_table(
            "Person Table",
            """
            id BIGINT NOT NULL AUTO_INCREMENT,
            `Email` VARCHAR(100) NOT NULL,
            team_id INTEGER,
            active BOOL DEFAULT true,
            score NUMERIC(10, 2) DEFAULT (0.5),
            created TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
            nick VARCHAR(20) DEFAULT 'it''s'""",
            ("`", "`"),
        ),
        mssql=person_table(
            "Person Table",
            """
            id BIGINT NOT NULL IDENTITY,
            [Email] VARCHAR(100) NOT NULL,
            team_id INTEGER NULL,
            active BIT NULL DEFAULT 1,
            score NUMERIC(10, 2) NULL DEFAULT 0.5,
            created DATETIME2 NULL DEFAULT CURRENT_TIMESTAMP,
            nick VARCHAR(20) NULL DEFAULT 'it''s'""",
            ("[", "]"),
        ),
        oracle=person_table(
            "Person Table",
            """
            id NUMBER(19) GENERATED BY DEFAULT AS IDENTITY,
            "Email" VARCHAR2(100 CHAR) NOT NULL,
            team_id INTEGER,
            active BOOLEAN DEFAULT 1,
            score NUMERIC(10, 2) DEFAULT 0.5,
            created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            nick VARCHAR2(20 CHAR) DEFAULT 'it''s'""",
            ('"', '"'),
        ),
    ),
)

SERIAL_BUG = (
    "BUG: an integer primary key without autoIncrement is made auto-incrementing (SERIAL / AUTO_INCREMENT / "
    "IDENTITY, which on SQL Server even refuses explicit ids); Liquibase creates a plain INTEGER. "
    "changes/column.py ColumnConfig.to_column passes autoincrement='auto' when autoIncrement is absent"
)

CREATE_TABLE_INTEGER_KEY = Case(
    """
    - createTable:
        tableName: team
        columns:
          - column: {name: id, type: int, constraints: {primaryKey: true}}
          - column: {name: name, type: varchar(50)}
    """,
    {
        d: laid_out(
            d,
            f"""
            CREATE TABLE team (
                id INTEGER NOT NULL,
                name {"VARCHAR2(50 CHAR)" if d == "oracle" else "VARCHAR(50)"}{" NULL" if d == "mssql" else ""},
                PRIMARY KEY (id)
            )""",
        )
        for d in DIALECTS
    },
)

CREATE_TABLE_REMARKS = Case(
    """
    - createTable:
        tableName: note
        remarks: it's a note
        columns:
          - column: {name: id, type: int, remarks: the key}
    """,
    each(
        sqlite="CREATE TABLE note (\n    id INTEGER\n)",
        postgresql=(
            "CREATE TABLE note (\n    id INTEGER\n)",
            "COMMENT ON TABLE note IS 'it''s a note'",
            "COMMENT ON COLUMN note.id IS 'the key'",
        ),
        mysql="CREATE TABLE note (\n    id INTEGER COMMENT 'the key'\n)COMMENT='it''s a note'",
        mariadb="CREATE TABLE note (\n    id INTEGER COMMENT 'the key'\n)COMMENT='it''s a note'",
        mssql=(
            "CREATE TABLE note (\n    id INTEGER NULL\n)",
            "execute sp_addextendedproperty 'MS_Description', N'it''s a note', 'schema', dbo, 'table', note",
            "execute sp_addextendedproperty 'MS_Description', N'the key', 'schema', dbo, 'table', note, 'column', id",
        ),
        oracle=(
            "CREATE TABLE note (\n    id INTEGER\n)",
            "COMMENT ON TABLE note IS 'it''s a note'",
            "COMMENT ON COLUMN note.id IS 'the key'",
        ),
    ),
)


def membership(role: str, lvl: str) -> str:
    return f"""
        CREATE TABLE membership (
            person_id INTEGER NOT NULL,
            team_id INTEGER NOT NULL,
            {lvl},
            {role},
            CONSTRAINT pk_membership PRIMARY KEY (person_id, team_id),
            CONSTRAINT fk_membership_team FOREIGN KEY(team_id) REFERENCES team (id),
            CHECK (lvl > 0)
        )"""


CREATE_TABLE_COMPOSITE = Case(
    """
    - createTable:
        tableName: membership
        columns:
          - column: {name: person_id, type: int, constraints: {primaryKey: true, primaryKeyName: pk_membership}}
          - column:
              name: team_id
              type: int
              constraints: {primaryKey: true, referencedTableName: team, referencedColumnNames: id, foreignKeyName: fk_membership_team}
          - column: {name: lvl, type: smallint, defaultValueNumeric: 1, constraints: {checkConstraint: "lvl > 0"}}
          - column: {name: role, type: varchar(10), defaultValue: member, constraints: {nullable: false}}
    """,
    each(
        sqlite=membership("role VARCHAR(10) DEFAULT 'member' NOT NULL", "lvl SMALLINT DEFAULT 1"),
        postgresql=membership("role VARCHAR(10) DEFAULT 'member' NOT NULL", "lvl SMALLINT DEFAULT 1"),
        # ROLE is a reserved word in MySQL 8, not in MariaDB
        mysql=membership("`role` VARCHAR(10) NOT NULL DEFAULT 'member'", "lvl SMALLINT DEFAULT 1"),
        mariadb=membership("role VARCHAR(10) NOT NULL DEFAULT 'member'", "lvl SMALLINT DEFAULT 1"),
        mssql=membership("role VARCHAR(10) NOT NULL DEFAULT 'member'", "lvl SMALLINT NULL DEFAULT 1"),
        oracle=membership("role VARCHAR2(10 CHAR) DEFAULT 'member' NOT NULL", "lvl SMALLINT DEFAULT 1"),
    ),
)

CREATE_TABLE_IF_NOT_EXISTS = Case(
    """
    - createTable:
        tableName: t
        ifNotExists: true
        columns:
          - column: {name: id, type: int}
    """,
    each(
        sqlite="CREATE TABLE IF NOT EXISTS t (\n    id INTEGER\n)",
        postgresql="CREATE TABLE IF NOT EXISTS t (\n    id INTEGER\n)",
        mysql="CREATE TABLE IF NOT EXISTS t (\n    id INTEGER\n)",
        mariadb="CREATE TABLE IF NOT EXISTS t (\n    id INTEGER\n)",
        # T-SQL has no CREATE TABLE IF NOT EXISTS
        mssql="IF OBJECT_ID(N't', N'U') IS NULL\nCREATE TABLE t (\n    id INTEGER NULL\n)",
        oracle="CREATE TABLE IF NOT EXISTS t (\n    id INTEGER\n)",  # Oracle 23ai
    ),
)

CREATE_TABLE_SEQUENCE_DEFAULT = Case(
    """
    - createTable:
        tableName: t
        columns:
          - column: {name: id, type: bigint, defaultValueSequenceNext: seq_t}
    """,
    each(
        postgresql="CREATE TABLE t (\n    id BIGINT DEFAULT nextval('seq_t')\n)",
        mariadb="CREATE TABLE t (\n    id BIGINT DEFAULT (NEXT VALUE FOR seq_t)\n)",  # an expression default
        mssql="CREATE TABLE t (\n    id BIGINT NULL DEFAULT NEXT VALUE FOR seq_t\n)",
        oracle="CREATE TABLE t (\n    id NUMBER(19) DEFAULT seq_t.NEXTVAL\n)",
    ),
)

# --- dropTable, renameTable -----------------------------------------------------------------------------------

DROP_TABLE = Case("- dropTable: {tableName: person}", same("DROP TABLE person"))

DROP_TABLE_CASCADE = Case(
    "- dropTable: {tableName: person, cascadeConstraints: true}",
    each(
        sqlite="DROP TABLE person",  # no CASCADE in SQLite
        postgresql="DROP TABLE person CASCADE",
        mysql="DROP TABLE person CASCADE",  # parsed and ignored by MySQL/MariaDB
        mariadb="DROP TABLE person CASCADE",
        mssql="DROP TABLE person",  # no CASCADE in T-SQL
        oracle="DROP TABLE person CASCADE CONSTRAINTS",
    ),
)

DROP_TABLE_QUOTED = Case(
    "- dropTable: {schemaName: app, tableName: Person}",
    each(
        sqlite='DROP TABLE app."Person"',
        postgresql='DROP TABLE app."Person"',
        mysql="DROP TABLE app.`Person`",
        mariadb="DROP TABLE app.`Person`",
        mssql="DROP TABLE app.[Person]",
        oracle='DROP TABLE app."Person"',
    ),
)

RENAME_TABLE = Case(
    "- renameTable: {oldTableName: person, newTableName: People}",
    each(
        sqlite='ALTER TABLE person RENAME TO "People"',
        postgresql='ALTER TABLE person RENAME TO "People"',
        mysql="ALTER TABLE person RENAME TO `People`",
        mariadb="ALTER TABLE person RENAME TO `People`",
        mssql="EXEC sp_rename 'person', [People]",
        oracle='ALTER TABLE person RENAME TO "People"',
    ),
)

SCHEMA_QUALIFIED = Case(
    """
    - renameTable: {schemaName: app, oldTableName: person, newTableName: people}
    - createIndex: {schemaName: app, tableName: people, indexName: ix_people_name, columns: [{column: {name: name}}]}
    - dropIndex: {schemaName: app, tableName: people, indexName: ix_people_name}
    """,
    each(
        # SQLite names the schema (an attached database) on the index, not on its table
        sqlite=(
            "ALTER TABLE app.person RENAME TO people",
            "CREATE INDEX app.ix_people_name ON people (name)",
            "DROP INDEX app.ix_people_name",
        ),
        postgresql=(
            "ALTER TABLE app.person RENAME TO people",
            "CREATE INDEX ix_people_name ON app.people (name)",
            "DROP INDEX app.ix_people_name",
        ),
        # MySQL moves a table renamed to an unqualified name into the current database: keep the schema
        mysql=(
            "ALTER TABLE app.person RENAME TO app.people",
            "CREATE INDEX ix_people_name ON app.people (name)",
            "DROP INDEX ix_people_name ON app.people",
        ),
        mariadb=(
            "ALTER TABLE app.person RENAME TO app.people",
            "CREATE INDEX ix_people_name ON app.people (name)",
            "DROP INDEX ix_people_name ON app.people",
        ),
        mssql=(
            "EXEC sp_rename 'app.person', people",
            "CREATE INDEX ix_people_name ON app.people (name)",
            "DROP INDEX ix_people_name ON app.people",
        ),
        oracle=(
            "ALTER TABLE app.person RENAME TO people",
            "CREATE INDEX app.ix_people_name ON app.people (name)",
            "DROP INDEX app.ix_people_name",
        ),
    ),
)

# --- columns --------------------------------------------------------------------------------------------------


def recreate_person(columns: str, copied: str, selected: str, extra_constraints: str = "", index: str = "name") -> str:
    """SQLite's table recreation of SETUP's person table (Alembic batch mode), as one text."""
    constraints = "PRIMARY KEY (id),\n    CONSTRAINT fk_person_team FOREIGN KEY(team_id) REFERENCES team (id)"
    if columns.find("team_id") < 0:
        constraints = "PRIMARY KEY (id)"
    statements = [
        "CREATE TABLE _alembic_tmp_person (\n"
        + textwrap.indent(textwrap.dedent(columns).strip(), "    ")
        + ",\n    "
        + constraints
        + extra_constraints
        + "\n)",
        f"INSERT INTO _alembic_tmp_person ({copied}) SELECT {selected}\nFROM person",
        "DROP TABLE person",
        "ALTER TABLE _alembic_tmp_person RENAME TO person",
    ]
    if index:
        statements.append(f"CREATE INDEX ix_person_name ON person ({index})")
    return laid_out("sqlite", *statements)


ALL_COLUMNS = 'id, name, "Nick Name", team_id'
ALL_SELECTED = 'person.id, person.name, person."Nick Name", person.team_id'

ADD_COLUMN = Case(
    "- addColumn: {tableName: person, columns: [{column: {name: age, type: int}}]}",
    each(
        sqlite="ALTER TABLE person ADD COLUMN age INTEGER",
        postgresql="ALTER TABLE person ADD COLUMN age INTEGER",
        mysql="ALTER TABLE person ADD COLUMN age INTEGER",
        mariadb="ALTER TABLE person ADD COLUMN age INTEGER",
        mssql="ALTER TABLE person ADD age INTEGER NULL",
        oracle="ALTER TABLE person ADD age INTEGER",
    ),
)

ADD_COLUMN_CONSTRAINTS = Case(
    """
    - addColumn:
        tableName: person
        columns:
          - column: {name: email, type: varchar(100), defaultValue: x, constraints: {nullable: false, unique: true}}
          - column: {name: boss_id, type: int, constraints: {references: person(id), foreignKeyName: fk_person_boss}}
    """,
    {
        # SQLite cannot add a constraint to a table: it is recreated, and the unique constraint must be named
        "sqlite": recreate_person(
            """
            id INTEGER NOT NULL,
            name VARCHAR(50) NOT NULL,
            "Nick Name" VARCHAR(20),
            team_id INTEGER,
            email VARCHAR(100) DEFAULT 'x' NOT NULL,
            boss_id INTEGER""",
            ALL_COLUMNS,
            ALL_SELECTED,
            ",\n    CONSTRAINT uq_person_email UNIQUE (email),"
            "\n    CONSTRAINT fk_person_boss FOREIGN KEY(boss_id) REFERENCES person (id)",
        ),
        **each(
            postgresql=(
                "ALTER TABLE person ADD COLUMN email VARCHAR(100) DEFAULT 'x' NOT NULL",
                "ALTER TABLE person ADD COLUMN boss_id INTEGER",
                "ALTER TABLE person ADD UNIQUE (email)",
                "ALTER TABLE person ADD CONSTRAINT fk_person_boss FOREIGN KEY(boss_id) REFERENCES person (id)",
            ),
            mysql=(
                "ALTER TABLE person ADD COLUMN email VARCHAR(100) NOT NULL DEFAULT 'x'",
                "ALTER TABLE person ADD COLUMN boss_id INTEGER",
                "ALTER TABLE person ADD UNIQUE (email)",
                "ALTER TABLE person ADD CONSTRAINT fk_person_boss FOREIGN KEY(boss_id) REFERENCES person (id)",
            ),
            mariadb=(
                "ALTER TABLE person ADD COLUMN email VARCHAR(100) NOT NULL DEFAULT 'x'",
                "ALTER TABLE person ADD COLUMN boss_id INTEGER",
                "ALTER TABLE person ADD UNIQUE (email)",
                "ALTER TABLE person ADD CONSTRAINT fk_person_boss FOREIGN KEY(boss_id) REFERENCES person (id)",
            ),
            mssql=(
                "ALTER TABLE person ADD email VARCHAR(100) NOT NULL DEFAULT 'x'",
                "ALTER TABLE person ADD boss_id INTEGER NULL",
                "ALTER TABLE person ADD UNIQUE (email)",
                "ALTER TABLE person ADD CONSTRAINT fk_person_boss FOREIGN KEY(boss_id) REFERENCES person (id)",
            ),
            oracle=(
                "ALTER TABLE person ADD email VARCHAR2(100 CHAR) DEFAULT 'x' NOT NULL",
                "ALTER TABLE person ADD boss_id INTEGER",
                "ALTER TABLE person ADD UNIQUE (email)",
                "ALTER TABLE person ADD CONSTRAINT fk_person_boss FOREIGN KEY(boss_id) REFERENCES person (id)",
            ),
        ),
    },
)

ADD_COLUMN_COMPUTED_DEFAULT = Case(
    "- addColumn: {tableName: person, columns: [{column: {name: created, type: timestamp, defaultValueComputed: CURRENT_TIMESTAMP}}]}",
    {
        # SQLite refuses ADD COLUMN with a non-constant default once the table has rows: recreate it
        "sqlite": recreate_person(
            """
            id INTEGER NOT NULL,
            name VARCHAR(50) NOT NULL,
            "Nick Name" VARCHAR(20),
            team_id INTEGER,
            created TIMESTAMP DEFAULT CURRENT_TIMESTAMP""",
            ALL_COLUMNS,
            ALL_SELECTED,
        ),
        **each(
            postgresql="ALTER TABLE person ADD COLUMN created TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP",
            mysql="ALTER TABLE person ADD COLUMN created TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP",
            mariadb="ALTER TABLE person ADD COLUMN created TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP",
            mssql="ALTER TABLE person ADD created DATETIME2 NULL DEFAULT CURRENT_TIMESTAMP",
            oracle="ALTER TABLE person ADD created TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
        ),
    },
)

ADD_COLUMN_VALUE = Case(
    "- addColumn: {tableName: person, columns: [{column: {name: status, type: varchar(10), value: new}}]}",
    each(
        sqlite=("ALTER TABLE person ADD COLUMN status VARCHAR(10)", "UPDATE person SET status='new'"),
        postgresql=("ALTER TABLE person ADD COLUMN status VARCHAR(10)", "UPDATE person SET status='new'"),
        mysql=("ALTER TABLE person ADD COLUMN status VARCHAR(10)", "UPDATE person SET status='new'"),
    ),
)

DROP_COLUMN = Case(
    "- dropColumn: {tableName: person, columnName: Nick Name}",
    {
        "sqlite": recreate_person(
            """
            id INTEGER NOT NULL,
            name VARCHAR(50) NOT NULL,
            team_id INTEGER""",
            "id, name, team_id",
            "person.id, person.name, person.team_id",
        ),
        **each(
            postgresql='ALTER TABLE person DROP COLUMN "Nick Name"',
            mysql="ALTER TABLE person DROP COLUMN `Nick Name`",
            mariadb="ALTER TABLE person DROP COLUMN `Nick Name`",
            mssql="ALTER TABLE person DROP COLUMN [Nick Name]",
            oracle='ALTER TABLE person DROP COLUMN "Nick Name"',
        ),
    },
)

DROP_COLUMNS = Case(
    """
    - dropColumn:
        tableName: person
        columns:
          - column: {name: name}
          - column: {name: Nick Name}
    """,
    {
        # the index on a dropped column goes with it, as PostgreSQL, MySQL and Oracle do (SQL Server refuses)
        "sqlite": "DROP INDEX ix_person_name;\n\n"
        + recreate_person(
            """
            id INTEGER NOT NULL,
            team_id INTEGER""",
            "id, team_id",
            "person.id, person.team_id",
            index="",
        ),
        **each(
            postgresql=("ALTER TABLE person DROP COLUMN name", 'ALTER TABLE person DROP COLUMN "Nick Name"'),
            mysql=("ALTER TABLE person DROP COLUMN name", "ALTER TABLE person DROP COLUMN `Nick Name`"),
            mariadb=("ALTER TABLE person DROP COLUMN name", "ALTER TABLE person DROP COLUMN `Nick Name`"),
            mssql=("ALTER TABLE person DROP COLUMN name", "ALTER TABLE person DROP COLUMN [Nick Name]"),
            oracle=("ALTER TABLE person DROP COLUMN name", 'ALTER TABLE person DROP COLUMN "Nick Name"'),
        ),
    },
)

MYSQL_RENAME = (
    "BUG: renameColumn on MySQL/MariaDB renders CHANGE old new <type> NULL, which redefines the column and silently "
    "drops NOT NULL, DEFAULT, AUTO_INCREMENT and COMMENT (and without columnDataType raises an uncaught Alembic "
    "CommandError); MySQL 8.0 / MariaDB 10.5.2 have ALTER TABLE … RENAME COLUMN (changes/column.py "
    "RenameColumn.operations)"
)

RENAME_COLUMN = Case(
    "- renameColumn: {tableName: person, oldColumnName: name, newColumnName: Full Name, columnDataType: varchar(50)}",
    {
        # SQLite 3.25's RENAME COLUMN, not a recreation: it also rewrites the indexes, views and triggers naming it
        **each(
            sqlite='ALTER TABLE person RENAME COLUMN name TO "Full Name"',
            postgresql='ALTER TABLE person RENAME name TO "Full Name"',
            mysql="ALTER TABLE person RENAME COLUMN name TO `Full Name`",
            mariadb="ALTER TABLE person RENAME COLUMN name TO `Full Name`",
            mssql="EXEC sp_rename 'person.name', [Full Name], 'COLUMN'",
            oracle='ALTER TABLE person RENAME COLUMN name TO "Full Name"',
        ),
    },
)

RENAME_COLUMN_WITHOUT_TYPE = Case(
    "- renameColumn: {tableName: person, oldColumnName: name, newColumnName: full_name}",
    {
        **each(
            sqlite="ALTER TABLE person RENAME COLUMN name TO full_name",
            postgresql="ALTER TABLE person RENAME name TO full_name",
            mysql="ALTER TABLE person RENAME COLUMN name TO full_name",
            mariadb="ALTER TABLE person RENAME COLUMN name TO full_name",
            mssql="EXEC sp_rename 'person.name', full_name, 'COLUMN'",
            oracle="ALTER TABLE person RENAME COLUMN name TO full_name",
        ),
    },
)

# --- indexes --------------------------------------------------------------------------------------------------

CREATE_INDEX = Case(
    """
    - createIndex:
        tableName: person
        indexName: ux_person_team_nick
        unique: true
        columns:
          - column: {name: team_id}
          - column: {name: Nick Name, descending: true}
    - createIndex:
        tableName: person
        indexName: IX_Person_Team
        columns:
          - column: {name: team_id}
    """,
    each(
        sqlite=(
            'CREATE UNIQUE INDEX ux_person_team_nick ON person (team_id, "Nick Name" DESC)',
            'CREATE INDEX "IX_Person_Team" ON person (team_id)',
        ),
        postgresql=(
            'CREATE UNIQUE INDEX ux_person_team_nick ON person (team_id, "Nick Name" DESC)',
            'CREATE INDEX "IX_Person_Team" ON person (team_id)',
        ),
        mysql=(
            "CREATE UNIQUE INDEX ux_person_team_nick ON person (team_id, `Nick Name` DESC)",
            "CREATE INDEX `IX_Person_Team` ON person (team_id)",
        ),
        mariadb=(
            "CREATE UNIQUE INDEX ux_person_team_nick ON person (team_id, `Nick Name` DESC)",
            "CREATE INDEX `IX_Person_Team` ON person (team_id)",
        ),
        mssql=(
            "CREATE UNIQUE INDEX ux_person_team_nick ON person (team_id, [Nick Name] DESC)",
            "CREATE INDEX [IX_Person_Team] ON person (team_id)",
        ),
        oracle=(
            'CREATE UNIQUE INDEX ux_person_team_nick ON person (team_id, "Nick Name" DESC)',
            'CREATE INDEX "IX_Person_Team" ON person (team_id)',
        ),
    ),
)

CREATE_INDEX_COMPUTED = Case(
    """
    - createIndex:
        tableName: person
        indexName: ix_person_lower_name
        columns:
          - column: {name: lower(name), computed: true}
    """,
    each(
        sqlite="CREATE INDEX ix_person_lower_name ON person (lower(name))",
        postgresql="CREATE INDEX ix_person_lower_name ON person (lower(name))",
        # MySQL 8.0.13+: a functional key part must be in its own parentheses
        mysql="CREATE INDEX ix_person_lower_name ON person ((lower(name)))",
        oracle="CREATE INDEX ix_person_lower_name ON person (lower(name))",
    ),
)

DROP_INDEX = Case(
    "- dropIndex: {tableName: person, indexName: ix_person_name}",
    each(
        sqlite="DROP INDEX ix_person_name",
        postgresql="DROP INDEX ix_person_name",
        mysql="DROP INDEX ix_person_name ON person",
        mariadb="DROP INDEX ix_person_name ON person",
        mssql="DROP INDEX ix_person_name ON person",
        oracle="DROP INDEX ix_person_name",
    ),
)

# --- sql, tagDatabase -----------------------------------------------------------------------------------------

SQL = Case(
    """
    - sql: "insert into t values (1); insert into t values ('a;b'); -- trailing; comment"
    - sql:
        sql: |
          /* header; */
          update t set x = 'it''s;'; -- done
          delete from t
        stripComments: true
    """,
    same(
        "insert into t values (1)",
        "insert into t values ('a;b')",
        "update t set x = 'it''s;'",
        "delete from t",
    ),
)

SQL_END_DELIMITER = Case(
    """
    - sql:
        sql: |
          select 1
          go
          select 2
        endDelimiter: go
    - sql:
        sql: "select 3$$ select 4$$"
        endDelimiter: $$
    """,
    same("select 1", "select 2", "select 3", "select 4"),
)

SQL_NO_SPLIT = Case(
    """
    - sql:
        sql: "create procedure p as begin select 1; select 2; end"
        splitStatements: false
    """,
    {d: laid_out(d, "create procedure p as begin select 1; select 2; end") for d in DIALECTS if d != "oracle"},
)

PLSQL_BLOCK = "DECLARE\n  x NUMBER;\nBEGIN\n  x := 10 / 2;\nEND;"

SQL_PLSQL = Case(
    """
    - sql:
        sql: |
          DECLARE
            x NUMBER;
          BEGIN
            x := 10 / 2;
          END;
        splitStatements: false
    - sql:
        sql: |
          DECLARE
            x NUMBER;
          BEGIN
            x := 10 / 2;
          END;
          /
        endDelimiter: /
    """,
    {"oracle": f"{PLSQL_BLOCK}\n\n/\n\n{PLSQL_BLOCK}\n\n/"},
)

SQL_LINE_COMMENT_LAST = Case(
    '- sql: "select 1 -- one\\n;\\nselect 2"',
    {
        **{d: "select 1 -- one\n;\n\nselect 2;" for d in ("sqlite", "postgresql", "mysql", "mariadb")},
        "mssql": "select 1 -- one\n;\n\nGO\n\nselect 2;\n\nGO",
        "oracle": "select 1 -- one\n\n/\n\nselect 2\n\n/",
    },
)

# Liquibase 4.28 runs a change with dbms: mysql on MySQL only, not on MariaDB (short name "mariadb")
SQL_DBMS = Case(
    '- sql: {sql: "select 1", dbms: mysql}',
    {d: ("select 1;" if d == "mysql" else "") for d in DIALECTS},
)

TAG_DATABASE = Case("- tagDatabase: {tag: v1.0}", dict.fromkeys(DIALECTS, ""))

CASES: dict[str, Case] = {
    "createTable": CREATE_TABLE,
    "createTable-integer-key": CREATE_TABLE_INTEGER_KEY,
    "createTable-remarks": CREATE_TABLE_REMARKS,
    "createTable-composite-check": CREATE_TABLE_COMPOSITE,
    "createTable-ifNotExists": CREATE_TABLE_IF_NOT_EXISTS,
    "createTable-sequence-default": CREATE_TABLE_SEQUENCE_DEFAULT,
    "dropTable": DROP_TABLE,
    "dropTable-cascade": DROP_TABLE_CASCADE,
    "dropTable-quoted": DROP_TABLE_QUOTED,
    "renameTable": RENAME_TABLE,
    "schema-qualified": SCHEMA_QUALIFIED,
    "addColumn": ADD_COLUMN,
    "addColumn-constraints": ADD_COLUMN_CONSTRAINTS,
    "addColumn-computed-default": ADD_COLUMN_COMPUTED_DEFAULT,
    "addColumn-value": ADD_COLUMN_VALUE,
    "dropColumn": DROP_COLUMN,
    "dropColumn-several": DROP_COLUMNS,
    "renameColumn": RENAME_COLUMN,
    "renameColumn-without-type": RENAME_COLUMN_WITHOUT_TYPE,
    "createIndex": CREATE_INDEX,
    "createIndex-computed": CREATE_INDEX_COMPUTED,
    "dropIndex": DROP_INDEX,
    "sql": SQL,
    "sql-endDelimiter": SQL_END_DELIMITER,
    "sql-no-split": SQL_NO_SPLIT,
    "sql-plsql": SQL_PLSQL,
    "sql-line-comment-last": SQL_LINE_COMMENT_LAST,
    "sql-dbms": SQL_DBMS,
    "tagDatabase": TAG_DATABASE,
}


def _golden_params() -> list[Any]:
    params = []
    for name, case in CASES.items():
        for dialect, expected in case.sql.items():
            bug = case.bugs.get(dialect)
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            params.append(pytest.param(case.changes, dialect, expected, id=f"{name}-{dialect}", marks=marks))
    return params


@pytest.mark.parametrize(("changes", "dialect", "expected"), _golden_params())
def test_golden_sql(changes: str, dialect: str, expected: str) -> None:
    assert render(dialect, textwrap.dedent(changes)) == expected


def test_every_change_type_has_a_golden_case() -> None:
    covered = {next(iter(item)) for case in CASES.values() for item in yaml.safe_load(textwrap.dedent(case.changes))}
    for module in sorted(Path(__file__).parent.glob("test_sql_golden_*.py")):  # cases kept in sibling files
        sibling = importlib.import_module(f"tests.unit.{module.stem}")
        if hasattr(sibling, "covered_types"):
            covered |= sibling.covered_types()
        elif isinstance(getattr(sibling, "CASES", None), dict):
            cases = sibling.CASES.values()
            covered |= {next(iter(item)) for case in cases for item in yaml.safe_load(textwrap.dedent(case.changes))}
    assert covered == set(REGISTRY)


def test_bugs_name_only_dialects_of_their_case() -> None:
    for name, case in CASES.items():
        assert set(case.bugs) <= set(case.sql), name


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "oracle"])
def test_drop_index_without_table_where_none_is_needed(dialect: str) -> None:
    assert render(dialect, "- dropIndex: {indexName: ix_person_name}") == laid_out(dialect, "DROP INDEX ix_person_name")


@pytest.mark.parametrize("dialect", ["mysql", "mariadb", "mssql"])
def test_drop_index_without_table_is_refused_where_the_table_is_needed(dialect: str) -> None:
    with pytest.raises(ValueError, match="tableName"):
        render(dialect, "- dropIndex: {indexName: ix_person_name}")


def test_the_sqlite_shadow_follows_the_changes() -> None:
    # a table created earlier in the same run is recreated from what the shadow holds at that point
    out = io.StringIO()
    with text_sink("sqlite", out) as sink:
        for change in changes_from(
            """
            - createTable: {tableName: tag, columns: [{column: {name: id, type: int}}, {column: {name: label, type: varchar(9)}}]}
            - dropColumn: {tableName: tag, columnName: label}
            """
        ):
            sink.apply(change)
    assert normal(out.getvalue()) == laid_out(
        "sqlite",
        "CREATE TABLE tag (\n    id INTEGER,\n    label VARCHAR(9)\n)",
        "CREATE TABLE _alembic_tmp_tag (\n    id INTEGER\n)",
        "INSERT INTO _alembic_tmp_tag (id) SELECT tag.id\nFROM tag",
        "DROP TABLE tag",
        "ALTER TABLE _alembic_tmp_tag RENAME TO tag",
    )


# --- update-sql end to end -----------------------------------------------------------------------------------

UPDATE_CHANGELOG = """\
databaseChangeLog:
  - changeSet:
      id: 1
      author: ann
      comment: first table
      changes:
        - createTable:
            tableName: team
            columns:
              - column: {name: id, type: int, autoIncrement: false, constraints: {primaryKey: true}}
  - changeSet:
      id: v1
      author: ann
      changes:
        - tagDatabase: {tag: v1}
"""

UPDATE_SQL_POSTGRESQL = """\
-- Update Database Script
-- Change Log: changelog.yaml
-- Dialect: postgresql

CREATE TABLE databasechangeloglock (
    id INTEGER NOT NULL,
    locked BOOLEAN NOT NULL,
    lockgranted TIMESTAMP WITHOUT TIME ZONE,
    lockedby VARCHAR(255),
    CONSTRAINT pk_databasechangeloglock PRIMARY KEY (id)
);

DELETE FROM databasechangeloglock;

INSERT INTO databasechangeloglock (id, locked) VALUES (1, false);

-- Lock Database

UPDATE databasechangeloglock SET locked=true, lockgranted=CURRENT_TIMESTAMP, lockedby='<LOCKEDBY>' WHERE databasechangeloglock.id = 1 AND databasechangeloglock.locked = false;

CREATE TABLE databasechangelog (
    id VARCHAR(255) NOT NULL,
    author VARCHAR(255) NOT NULL,
    filename VARCHAR(255) NOT NULL,
    dateexecuted TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    orderexecuted INTEGER NOT NULL,
    exectype VARCHAR(10) NOT NULL,
    md5sum VARCHAR(35),
    description VARCHAR(255),
    comments VARCHAR(255),
    tag VARCHAR(255),
    liquibase VARCHAR(20),
    contexts VARCHAR(255),
    labels VARCHAR(255),
    deployment_id VARCHAR(10)
);

-- Changeset changelog.yaml::1::ann
-- first table

CREATE TABLE team (
    id INTEGER NOT NULL,
    PRIMARY KEY (id)
);

INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype, md5sum, description, comments, tag, liquibase, contexts, labels, deployment_id) VALUES ('1', 'ann', 'changelog.yaml', CURRENT_TIMESTAMP, 1, 'EXECUTED', '<MD5SUM>', 'createTable tableName=team', 'first table', NULL, 'yamlbase 0.1.0', NULL, NULL, '<DEPLOYMENT_ID>');

-- Changeset changelog.yaml::v1::ann

INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype, md5sum, description, comments, tag, liquibase, contexts, labels, deployment_id) VALUES ('v1', 'ann', 'changelog.yaml', CURRENT_TIMESTAMP, 2, 'EXECUTED', '<MD5SUM>', 'tagDatabase', '', 'v1', 'yamlbase 0.1.0', NULL, NULL, '<DEPLOYMENT_ID>');

-- Release Database Lock

UPDATE databasechangeloglock SET locked=false, lockgranted=NULL, lockedby=NULL WHERE databasechangeloglock.id = 1;"""


def masked(script: str) -> str:
    """update-sql output with the values that vary per run or per host replaced by placeholders."""
    script = re.sub(r"'\d+:[0-9a-f]{32}'", "'<MD5SUM>'", script)
    script = re.sub(r"'\d{10}'\);", "'<DEPLOYMENT_ID>');", script)
    script = re.sub(r"lockedby='[^']*'", "lockedby='<LOCKEDBY>'", script, flags=re.IGNORECASE)
    return normal(script)


def test_update_sql_postgresql_script_with_bookkeeping(tmp_path: Path) -> None:
    (tmp_path / "changelog.yaml").write_text(UPDATE_CHANGELOG, encoding="utf-8")
    script = commands.update_sql(None, tmp_path / "changelog.yaml", dialect="postgresql")
    assert masked(script) == UPDATE_SQL_POSTGRESQL
    # one deployment id and one checksum format for the whole run
    assert len(set(re.findall(r"'(\d{10})'\);", script))) == 1
    assert len(re.findall(r"'9:[0-9a-f]{32}'", script)) == 2


def test_update_sql_renders_the_changes_like_the_sink(tmp_path: Path) -> None:
    (tmp_path / "changelog.yaml").write_text(UPDATE_CHANGELOG, encoding="utf-8")
    for dialect in DIALECTS:
        script = normal(commands.update_sql(None, tmp_path / "changelog.yaml", dialect=dialect))
        change = render(
            dialect,
            "- createTable: {tableName: team, columns: [{column: {name: id, type: int, autoIncrement: false, constraints: {primaryKey: true}}}]}",
        )
        assert f"-- first table\n\n{change}\n\nINSERT INTO " in script, dialect
        assert script.startswith(f"-- Update Database Script\n-- Change Log: changelog.yaml\n-- Dialect: {dialect}\n\n")


# --- split_sql ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "options", "expected"),
    [
        pytest.param(
            "insert into t values (1); insert into t values (2)",
            {},
            ["insert into t values (1)", "insert into t values (2)"],
            id="semicolons",
        ),
        pytest.param("select 'a;b'; select \"c;d\" from t", {}, ["select 'a;b'", 'select "c;d" from t'], id="quotes"),
        pytest.param("select 'it''s;'; select 2", {}, ["select 'it''s;'", "select 2"], id="doubled-quote"),
        pytest.param("select 1 -- no; split\n; select 2", {}, ["select 1 -- no; split", "select 2"], id="line-comment"),
        pytest.param("select 1 /* ; */; select 2", {}, ["select 1 /* ; */", "select 2"], id="block-comment"),
        # on purpose unlike Liquibase, which sends "-- the end\n/* really */" (MySQL: "Query was empty")
        pytest.param("select 1; -- the end\n/* really */", {}, ["select 1"], id="comment-only-pieces-dropped"),
        pytest.param("a;;b;", {}, ["a", "b"], id="empty-statements-dropped"),
        pytest.param("", {}, [], id="empty"),
        pytest.param("  \n\t", {}, [], id="blank"),
        pytest.param("select 1\nGO\nselect 2\ngo  \nselect 3", {}, ["select 1", "select 2", "select 3"], id="go-lines"),
        pytest.param("select 1\r\nGO\r\nselect 2", {}, ["select 1", "select 2"], id="go-crlf"),
        pytest.param("select 1\ngopher\n", {}, ["select 1\ngopher"], id="go-prefix-is-not-go"),
        pytest.param("select 1 GO select 2", {}, ["select 1 GO select 2"], id="go-inside-a-line"),
        pytest.param("select 1\nGO\n", {}, ["select 1"], id="go-last"),
        pytest.param(
            "/* header; */\nupdate t set x = 'it''s;'; -- done\ndelete from t",
            {"strip_comments": True},
            ["update t set x = 'it''s;'", "delete from t"],
            id="strip-comments",
        ),
        pytest.param(
            "select 1 -- c;\nfrom t", {"strip_comments": True}, ["select 1 \nfrom t"], id="strip-line-comment"
        ),
        pytest.param(
            "create procedure p as begin select 1; select 2; end",
            {"split": False},
            ["create procedure p as begin select 1; select 2; end"],
            id="no-split",
        ),
        pytest.param("  select 1\n", {"split": False}, ["select 1"], id="no-split-trimmed"),
        pytest.param("a\nGO\nb\ngo\nc", {"delimiter": "go"}, ["a", "b", "c"], id="word-delimiter-alone-on-its-line"),
        pytest.param(
            "select 1 go\nselect 2", {"delimiter": "go"}, ["select 1", "select 2"], id="word-delimiter-anywhere"
        ),
        pytest.param(
            "select 1; select 2$$\nselect 3$$",
            {"delimiter": "$$"},
            ["select 1; select 2", "select 3"],
            id="symbol-delimiter",
        ),
        pytest.param("select 1//select 2//", {"delimiter": "//"}, ["select 1", "select 2"], id="double-slash"),
    ],
)
def test_split_sql(sql: str, options: dict[str, Any], expected: list[str]) -> None:
    assert split_sql(sql, **options) == expected


@pytest.mark.parametrize(
    ("sql", "options", "expected"),
    [
        pytest.param(
            "DECLARE\n  x NUMBER;\nBEGIN\n  x := 10 / 2;\nEND;\n/\nBEGIN\n  NULL; /* done */\nEND;\n/\n",
            {"delimiter": "/"},
            ["DECLARE\n  x NUMBER;\nBEGIN\n  x := 10 / 2;\nEND;", "BEGIN\n  NULL; /* done */\nEND;"],
            id="slash-delimiter-only-at-line-start",
        ),
        pytest.param(
            "insert into t values ('http://x')//\ninsert into t values (2)//",
            {"delimiter": "//"},
            ["insert into t values ('http://x')", "insert into t values (2)"],
            id="custom-delimiter-inside-quotes",
        ),
        pytest.param(
            "select '--not a comment'; select 2",
            {"strip_comments": True},
            ["select '--not a comment'", "select 2"],
            id="strip-comments-respects-quotes",
        ),
        pytest.param(
            "select 1 from dual\n/\nselect 2 from dual\n/\n",
            {},
            ["select 1 from dual", "select 2 from dual"],
            id="slash-line-is-a-default-delimiter",
        ),
        pytest.param(
            "GO\nselect 1",
            {},
            ["select 1"],
            id="go-on-the-first-line",
        ),
        pytest.param(
            "create trigger tr before insert on t for each row begin set new.x = 1; set new.y = 2; end; select 1",
            {},
            ["create trigger tr before insert on t for each row begin set new.x = 1; set new.y = 2; end", "select 1"],
            id="begin-end-block-kept-whole",
        ),
        # the cases below were also checked against Liquibase 4.28's StringUtil.processMultiLineSQL
        pytest.param(
            "select 1\nGO\nselect 2\n  /\nselect 3\n  go\nselect 4",
            {},
            ["select 1", "select 2\n  /\nselect 3\n  go\nselect 4"],
            id="indented-go-or-slash-is-no-delimiter",
        ),
        pytest.param("  /\nselect 1", {}, ["select 1"], id="text-trimmed-before-splitting"),
        pytest.param(
            "x := 10 /\n2;\nEND;\n  /\n/",
            {"delimiter": "/"},
            ["x := 10 /\n2;\nEND;\n  /"],
            id="slash-delimiter-not-indented",
        ),
        pytest.param(
            "BEGIN TRANSACTION;\ninsert into t values (1);\nCOMMIT;",
            {},
            ["BEGIN TRANSACTION", "insert into t values (1)", "COMMIT"],
            id="begin-transaction-is-no-block",
        ),
        pytest.param(
            "create procedure p begin if x then set y = 1; end if; set z = 2; end; select 1",
            {},
            ["create procedure p begin if x then set y = 1; end if", "set z = 2", "end", "select 1"],
            id="any-end-closes-the-block",
        ),
        pytest.param(
            "select [a;b], `c;d` from t; select N'e;f', E'g\\'h;'; select 2",
            {},
            ["select [a;b], `c;d` from t", "select N'e;f', E'g\\'h;'", "select 2"],
            id="quoted-names-prefixed-strings-backslash-escapes",
        ),
        pytest.param(
            "select 'abc; select 2; /* open; select 3",
            {},
            ["select 'abc", "select 2", "/* open", "select 3"],
            id="unterminated-quote-or-comment-is-plain-text",
        ),
        pytest.param(
            "BEGIN NULL; END;", {"split": False}, ["BEGIN NULL; END;"], id="no-split-keeps-the-last-semicolon"
        ),
        pytest.param("select 1;", {"split": False, "delimiter": ";"}, ["select 1"], id="no-split-drops-end-delimiter"),
        pytest.param("select 1 // 2//", {"delimiter": "//"}, ["select 1", "2"], id="symbol-delimiter-anywhere"),
        pytest.param(
            "select 3$$ select a$$ x$$",
            {"delimiter": "$$"},
            ["select 3", "select a$$ x$$"],
            id="delimiter-inside-a-name",
        ),
        pytest.param(
            "select 1\ngo\nselect 2 go", {"delimiter": "\\ngo"}, ["select 1", "select 2 go"], id="regex-delimiter"
        ),
    ],
)
def test_split_sql_like_liquibase(sql: str, options: dict[str, Any], expected: list[str]) -> None:
    assert split_sql(sql, **options) == expected


def test_sql_change_statements_use_its_options() -> None:
    change = Sql(sql="select 1; -- c\nselect 2", stripComments=True)
    assert change.statements() == ["select 1", "select 2"]
    assert Sql(sql="select 1; select 2", splitStatements=False).statements() == ["select 1; select 2"]
    assert Sql(sql="a GO\nb\nGO\nc", endDelimiter="GO").statements() == ["a", "b", "c"]


# Which databases run a change with this dbms, as Liquibase 4.28's update-sql showed on each (offline:<name>, SQLite)
ALL_BUT = set(DIALECTS).difference


@pytest.mark.parametrize(
    ("spec", "admitted"),
    [
        (None, set(DIALECTS)),
        ("", set(DIALECTS)),
        (" , ", set(DIALECTS)),  # Java's split drops the trailing empty names: no names, no restriction
        ("mysql", {"mysql"}),  # not MariaDB, whose short name is mariadb
        ("MySQL", set()),  # names are compared case-sensitively
        ("mariadb", {"mariadb"}),
        ("sqlite", {"sqlite"}),
        ("mysql, oracle", {"mysql", "oracle"}),
        ("mysql ,", {"mysql"}),
        ("!mysql", ALL_BUT({"mysql"})),
        ("!mariadb", ALL_BUT({"mariadb"})),
        ("!mysql,!oracle", ALL_BUT({"mysql", "oracle"})),
        ("all", set(DIALECTS)),
        ("all,!mariadb", set(DIALECTS)),  # all wins
        ("none", set()),
        ("mysql,none", set()),  # none wins over names
        ("!mariadb,mariadb", set()),  # an exclusion wins over the name
    ],
)
def test_dbms_matches_like_liquibase(spec: str | None, admitted: set[str]) -> None:
    assert {d for d in DIALECTS if dbms_matches(spec, d)} == admitted


def test_sql_change_runs_only_where_its_dbms_admits() -> None:
    from yamlbase.changes.base import RawSQL

    change = Sql(sql="select 1; select 2", dbms="postgresql, sqlite")
    assert change.operations(PlanContext("sqlite")) == [RawSQL("select 1"), RawSQL("select 2")]
    assert change.operations(PlanContext("oracle")) == []
    assert Sql(sql="select 1", dbms="!oracle").operations(PlanContext("oracle")) == []
    assert Sql(sql="select 1").operations(PlanContext("oracle")) == [RawSQL("select 1")]


# --- inverses -------------------------------------------------------------------------------------------------

CTX = PlanContext("postgresql")


def test_create_table_inverse_drops_it() -> None:
    change = CreateTable(
        schemaName="app",
        tableName="t",
        columns=[ColumnItem(column=ColumnConfig(name="id", type="int"))],
    )
    assert change.inverse(CTX) == [DropTable(schemaName="app", tableName="t")]


def test_rename_table_inverse_renames_back() -> None:
    change = RenameTable(schemaName="app", oldTableName="a", newTableName="b")
    assert change.inverse(CTX) == [RenameTable(schemaName="app", oldTableName="b", newTableName="a")]


def test_add_column_inverse_drops_every_added_column() -> None:
    change = AddColumn(
        schemaName="app",
        tableName="t",
        columns=[
            ColumnItem(column=ColumnConfig(name="a", type="int")),
            ColumnItem(column=ColumnConfig(name="b", type="int", constraints={"unique": True})),
        ],
    )
    (inverse,) = change.inverse(CTX)
    assert inverse == DropColumn(
        schemaName="app",
        tableName="t",
        columns=[ColumnNameItem(column=ColumnName(name="a")), ColumnNameItem(column=ColumnName(name="b"))],
    )
    assert inverse.column_names() == ["a", "b"]


def test_rename_column_inverse_renames_back_with_its_type() -> None:
    (change,) = changes_from(
        "- renameColumn: {tableName: t, oldColumnName: a, newColumnName: b, columnDataType: int, remarks: r}"
    )
    assert change.inverse(CTX) == changes_from(
        "- renameColumn: {tableName: t, oldColumnName: b, newColumnName: a, columnDataType: int, remarks: r}"
    )


def test_create_index_inverse_drops_it_with_its_table() -> None:
    (change,) = changes_from(
        "- createIndex: {schemaName: app, tableName: t, indexName: ix, unique: true, columns: [{column: {name: a}}]}"
    )
    assert change.inverse(CTX) == [DropIndex(schemaName="app", tableName="t", indexName="ix")]


def test_tag_database_inverse_is_nothing() -> None:
    assert TagDatabase(tag="v1").inverse(CTX) == []


# Destructive changes are undone from what was captured before they ran (tests/backends/test_capture.py);
# with no capture (no database here), they say so.
NOT_CAPTURED = (
    "cannot be rolled back automatically: its structure was not captured when it ran (it ran under Liquibase or "
    "an older yamlbase, was marked as run, or is not applied yet); add a rollback block"
)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("- dropTable: {tableName: t}", f"dropTable on t {NOT_CAPTURED}"),
        ("- dropIndex: {indexName: ix}", f"dropIndex on index ix {NOT_CAPTURED}"),
        ("- sql: select 1", "sql cannot be rolled back automatically; add a rollback block"),
        ("- dropColumn: {tableName: t, columnName: c}", f"dropColumn on t {NOT_CAPTURED}"),
    ],
)
def test_changes_without_an_inverse_say_why(change: str, reason: str) -> None:
    (model,) = changes_from(change)
    with pytest.raises(NoInverse) as info:
        model.inverse(CTX)
    assert str(info.value) == reason


def test_inverse_sql_renders_on_every_dialect() -> None:
    # the inverse of a change is itself a change the sinks can render
    (change,) = changes_from("- renameTable: {oldTableName: person, newTableName: People}")
    for dialect in DIALECTS:
        out = io.StringIO()
        with text_sink(dialect, out) as sink:
            for inverse in change.inverse(PlanContext(dialect)):
                sink.apply(inverse)
        expected = {
            "mysql": "ALTER TABLE `People` RENAME TO person",
            "mariadb": "ALTER TABLE `People` RENAME TO person",
            "mssql": "EXEC sp_rename '[People]', person",
        }.get(dialect, 'ALTER TABLE "People" RENAME TO person')
        assert normal(out.getvalue()) == laid_out(dialect, expected), dialect


# --- plan: pure functions over the changelog and history rows --------------------------------------------------


def changeset(
    id_: str,
    changes: str = "- tagDatabase: {tag: x}",
    *,
    rollback: str | None = None,
    path: str = "db.yaml",
    line: int = 1,
) -> ChangeSet:
    cs = ChangeSet(
        id=id_,
        author="ann",
        path=path,
        location=Location(path, line, 7),
        changes=changes_from(changes),
        raw_changes=[],
        rollback=changes_from(rollback) if rollback is not None else None,
    )
    return cs


def row(
    id_: str, order: int, *, tag: str | None = None, md5sum: str | None = None, path: str = "db.yaml"
) -> HistoryRow:
    return HistoryRow(
        id=id_,
        author="ann",
        filename=path,
        date_executed=dt.datetime(2024, 1, 1, 12, 0, order),
        order_executed=order,
        exec_type="EXECUTED",
        md5sum=md5sum,
        description=None,
        comments=None,
        tag=tag,
        liquibase="4.28.0",
        contexts=None,
        labels=None,
        deployment_id="1234567890",
    )


def test_pending_keeps_changelog_order_and_matches_on_path_id_author() -> None:
    a, b, c = changeset("a"), changeset("b"), changeset("c")
    other_file_b = changeset("b", path="other.yaml")
    changelog = ChangeLog("db.yaml", [a, b, other_file_b, c])
    applied = {r.key: r for r in (row("b", 1), row("zzz", 2))}
    assert plan.pending(changelog, applied) == [a, other_file_b, c]
    assert plan.pending(changelog, {}) == [a, b, other_file_b, c]


def test_up_to_tag_includes_the_tagging_changeset() -> None:
    a, tagged, c = changeset("a"), changeset("t", "- tagDatabase: {tag: v2}"), changeset("c")
    assert plan.up_to_tag([a, tagged, c], "v2") == [a, tagged]
    with pytest.raises(YamlbaseError) as info:
        plan.up_to_tag([a, c], "v9")
    assert str(info.value) == 'no pending changeSet carries tag "v9" (a tagDatabase change)'


def test_rows_after_tag_newest_first_and_the_tag_row_stays() -> None:
    rows = [row("1", 1), row("2", 2, tag="v1"), row("3", 3), row("4", 4, tag="v1"), row("5", 5), row("6", 6)]
    assert [r.id for r in plan.rows_after_tag(rows, "v1")] == ["6", "5"]
    assert [r.id for r in plan.rows_after_tag(rows[:4], "v1")] == []
    with pytest.raises(YamlbaseError) as info:
        plan.rows_after_tag(rows, "v2")
    assert str(info.value) == 'tag "v2" is not in DATABASECHANGELOG'


@pytest.mark.parametrize(("count", "expected"), [(0, []), (1, ["3"]), (2, ["3", "2"]), (5, ["3", "2", "1"]), (-1, [])])
def test_last_rows(count: int, expected: list[str]) -> None:
    rows = [row("1", 1), row("2", 2), row("3", 3)]
    assert [r.id for r in plan.last_rows(rows, count)] == expected


def test_inverse_of_a_changeset_reverses_its_changes() -> None:
    cs = changeset(
        "x",
        """
        - createTable: {tableName: a, columns: [{column: {name: id, type: int}}]}
        - renameTable: {oldTableName: a, newTableName: b}
        - tagDatabase: {tag: v1}
        """,
    )
    assert plan.inverse_of(cs, CTX) == [
        RenameTable(oldTableName="b", newTableName="a"),
        DropTable(tableName="a"),
    ]


def test_explicit_rollback_wins_even_when_empty() -> None:
    assert plan.inverse_of(changeset("x", "- dropTable: {tableName: t}", rollback="[]"), CTX) == []
    explicit = changeset(
        "y", "- createTable: {tableName: t, columns: [{column: {name: id, type: int}}]}", rollback="- sql: select 1"
    )
    assert plan.inverse_of(explicit, CTX) == [Sql(sql="select 1")]


def test_rollback_plan_pairs_rows_with_their_undo() -> None:
    create = changeset("c", "- createTable: {tableName: t, columns: [{column: {name: id, type: int}}]}")
    drop = changeset("d", "- dropTable: {tableName: t}", rollback="- sql: create table t (id int)")
    changelog = ChangeLog("db.yaml", [create, drop])
    rows = [row("d", 2), row("c", 1)]
    assert plan.rollback_plan(changelog, rows, CTX) == [
        (rows[0], drop, [Sql(sql="create table t (id int)")]),
        (rows[1], create, [DropTable(tableName="t")]),
    ]


def test_rollback_plan_refuses_listing_every_reason() -> None:
    fine = changeset("fine", "- renameTable: {oldTableName: a, newTableName: b}", line=2)
    dropper = changeset("drop", "- dropTable: {tableName: t}\n- sql: select 1", line=8)
    column = changeset("col", "- dropColumn: {tableName: t, columnName: c}", line=14)
    changelog = ChangeLog("db.yaml", [fine, dropper, column])
    rows = [row("col", 4), row("gone", 3, path="old.yaml"), row("drop", 2), row("fine", 1)]
    with pytest.raises(RollbackImpossibleError) as info:
        plan.rollback_plan(changelog, rows, CTX)
    assert str(info.value) == (
        "cannot roll back; nothing was changed:\n"
        f"  db.yaml::col::ann (db.yaml:14:7): dropColumn on t {NOT_CAPTURED}\n"
        "  old.yaml::gone::ann: not in the changelog, so its rollback is unknown\n"
        "  db.yaml::drop::ann (db.yaml:8:7): sql cannot be rolled back automatically; add a rollback block; "
        f"dropTable on t {NOT_CAPTURED}"
    )


def with_checksum(cs: ChangeSet, checksum: str, older: dict[int, str] | None = None) -> ChangeSet:
    """Give ``cs`` a known checksum (and older-version checksums) without computing any."""
    cs.__dict__["checksum"] = checksum
    versions = older or {}
    cs.__dict__["checksum_version"] = lambda version, dbms=None: versions.get(version, f"{version}:not-this-one")
    return cs


def test_check_checksums_verdicts() -> None:
    same_ = with_checksum(changeset("same"), "9:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    cleared = with_checksum(changeset("cleared"), "9:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
    old_ok = with_checksum(
        changeset("old-ok"), "9:cccccccccccccccccccccccccccccccc", {8: "8:cccccccccccccccccccccccccccccccc"}
    )
    old_edited = with_checksum(changeset("old-edited"), "9:dddddddddddddddddddddddddddddddd")
    edited = with_checksum(changeset("edited"), "9:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")
    pending_ = with_checksum(changeset("pending"), "9:ffffffffffffffffffffffffffffffff")
    changelog = ChangeLog("db.yaml", [same_, cleared, old_ok, old_edited, edited, pending_])
    rows = [
        row("same", 1, md5sum="9:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        row("cleared", 2, md5sum=None),
        row("old-ok", 3, md5sum="8:cccccccccccccccccccccccccccccccc"),
        row("old-edited", 4, md5sum="8:0123456789abcdef0123456789abcdef"),
        row("edited", 5, md5sum="9:0123456789abcdef0123456789abcdef"),
        row("not-in-changelog", 6, md5sum="9:0000"),
    ]
    verdict = plan.check_checksums(changelog, {r.key: r for r in rows})
    assert [(cs.id, r.id) for cs, r in verdict.refresh] == [("cleared", "cleared"), ("old-ok", "old-ok")]
    assert [(cs.id, r.id) for cs, r in verdict.changed] == [("old-edited", "old-edited"), ("edited", "edited")]


def test_a_newer_stored_checksum_version_is_a_change_not_a_refresh() -> None:
    cs = with_checksum(changeset("x"), "9:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", {10: "10:aaaa"})
    verdict = plan.check_checksums(ChangeLog("db.yaml", [cs]), {cs.key: row("x", 1, md5sum="10:aaaa")})
    assert (verdict.refresh, [c.id for c, _ in verdict.changed]) == ([], ["x"])


def test_raise_for_changed_names_each_changeset() -> None:
    edited = with_checksum(changeset("edited", line=12), "9:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")
    verdict = plan.check_checksums(
        ChangeLog("db.yaml", [edited]), {edited.key: row("edited", 1, md5sum="9:0123456789abcdef0123456789abcdef")}
    )
    with pytest.raises(ChecksumMismatchError) as info:
        plan.raise_for_changed(verdict)
    assert str(info.value) == (
        "changeSets changed after they were applied; nothing was run:\n"
        "  db.yaml::edited::ann (db.yaml:12:7): was 9:0123456789abcdef0123456789abcdef, "
        "is now 9:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n"
        "Revert the edits, or add a new changeSet for the new change."
    )
    plan.raise_for_changed(plan.ChecksumVerdict([], []))  # nothing changed: no error


def test_history_row_identity() -> None:
    r = row("x", 1, path="db/a.yaml")
    assert (r.key, r.identifier) == (("db/a.yaml", "x", "ann"), "db/a.yaml::x::ann")


def test_shadow_connection_type() -> None:
    # the helper gives SQLite a real shadow connection, the others none
    out = io.StringIO()
    with text_sink("sqlite", out) as sink:
        assert sink.shadow is not None
        assert isinstance(sink.shadow.connection, Connection)
    with text_sink("postgresql", out) as sink:
        assert sink.shadow is None
