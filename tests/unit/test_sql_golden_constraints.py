"""Exact SQL of the constraint change types for all six dialects, their refusals, and their inverses.

Cases run on the tables of SETUP in tests/unit/test_sql_golden.py: team(id) and person(id, name NOT NULL,
"Nick Name", team_id → team as fk_person_team) with index ix_person_name. SQLite recreates the table where its
ALTER cannot do the change.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.unit.test_sql_golden import (
    ALL_COLUMNS,
    ALL_SELECTED,
    DIALECTS,
    Case,
    changes_from,
    each,
    laid_out,
    normal,
    render,
    text_sink,
)
from yamlbase.changes import REGISTRY, NoInverse, PlanContext
from yamlbase.changes.constraint import (
    AddCheckConstraint,
    AddDefaultValue,
    AddNotNullConstraint,
    DropCheckConstraint,
    DropDefaultValue,
    DropForeignKeyConstraint,
    DropNotNullConstraint,
    DropPrimaryKey,
    DropUniqueConstraint,
)
from yamlbase.cli import main

ID = "id INTEGER NOT NULL"
NAME = "name VARCHAR(50) NOT NULL"
NICK = '"Nick Name" VARCHAR(20)'
TEAM_ID = "team_id INTEGER"
PK = "PRIMARY KEY (id)"
FK = "CONSTRAINT fk_person_team FOREIGN KEY(team_id) REFERENCES team (id)"


def person_recreated(*lines: str, selected: str = ALL_SELECTED) -> str:
    """SQLite's recreation of SETUP's person table with these column and constraint lines."""
    body = ",\n".join(f"    {line}" for line in lines)
    return laid_out(
        "sqlite",
        f"CREATE TABLE _alembic_tmp_person (\n{body}\n)",
        f"INSERT INTO _alembic_tmp_person ({ALL_COLUMNS}) SELECT {selected}\nFROM person",
        "DROP TABLE person",
        "ALTER TABLE _alembic_tmp_person RENAME TO person",
        "CREATE INDEX ix_person_name ON person (name)",
    )


def then(*parts: str) -> str:
    """Rendered parts one after the other, as TextSink writes them."""
    return "\n\n".join(parts)


# --- modifyDataType ---------------------------------------------------------------------------------------------

MODIFY_DATA_TYPE = Case(
    "- modifyDataType: {tableName: person, columnName: name, newDataType: varchar(100)}",
    {
        "sqlite": person_recreated(ID, "name VARCHAR(100) NOT NULL", NICK, TEAM_ID, PK, FK),
        **each(
            # as Liquibase: the values are converted explicitly
            postgresql="ALTER TABLE person ALTER COLUMN name TYPE VARCHAR(100) USING name::VARCHAR(100)",
            # MODIFY restates the column: only the type, as Liquibase (NOT NULL is not kept)
            mysql="ALTER TABLE person MODIFY name VARCHAR(100) NULL",
            mariadb="ALTER TABLE person MODIFY name VARCHAR(100) NULL",
            mssql="ALTER TABLE person ALTER COLUMN name VARCHAR(100) NULL",
            oracle="ALTER TABLE person MODIFY name VARCHAR2(100 CHAR)",
        ),
    },
)

MODIFY_DATA_TYPE_QUOTED = Case(
    "- modifyDataType: {tableName: person, columnName: Nick Name, newDataType: int}",
    {
        # the values are converted as they are copied
        "sqlite": person_recreated(
            ID,
            NAME,
            '"Nick Name" INTEGER',
            TEAM_ID,
            PK,
            FK,
            selected='person.id, person.name, CAST(person."Nick Name" AS INTEGER) AS "Nick Name", person.team_id',
        ),
        **each(
            postgresql='ALTER TABLE person ALTER COLUMN "Nick Name" TYPE INTEGER USING "Nick Name"::INTEGER',
            mysql="ALTER TABLE person MODIFY `Nick Name` INTEGER NULL",
            mariadb="ALTER TABLE person MODIFY `Nick Name` INTEGER NULL",
            mssql="ALTER TABLE person ALTER COLUMN [Nick Name] INTEGER NULL",
            oracle='ALTER TABLE person MODIFY "Nick Name" INTEGER',
        ),
    },
)

# --- NOT NULL ---------------------------------------------------------------------------------------------------

BACK_FILL = {
    "sqlite": """UPDATE person SET "Nick Name"='it''s' WHERE person."Nick Name" IS NULL""",
    "postgresql": """UPDATE person SET "Nick Name"='it''s' WHERE person."Nick Name" IS NULL""",
    "mysql": "UPDATE person SET `Nick Name`='it''s' WHERE person.`Nick Name` IS NULL",
    "mariadb": "UPDATE person SET `Nick Name`='it''s' WHERE person.`Nick Name` IS NULL",
    "mssql": "UPDATE person SET [Nick Name]='it''s' WHERE person.[Nick Name] IS NULL",
    "oracle": """UPDATE person SET "Nick Name"='it''s' WHERE person."Nick Name" IS NULL""",
}

ADD_NOT_NULL = Case(
    """
    - addNotNullConstraint:
        tableName: person
        columnName: Nick Name
        columnDataType: varchar(20)
        defaultNullValue: "it's"
    """,
    {
        # the NULLs are replaced first (a bound value; update-sql shows it as a literal), then the constraint
        "sqlite": then(
            laid_out("sqlite", BACK_FILL["sqlite"]),
            person_recreated(ID, NAME, '"Nick Name" VARCHAR(20) NOT NULL', TEAM_ID, PK, FK),
        ),
        **each(
            postgresql=(BACK_FILL["postgresql"], 'ALTER TABLE person ALTER COLUMN "Nick Name" SET NOT NULL'),
            mysql=(BACK_FILL["mysql"], "ALTER TABLE person MODIFY `Nick Name` VARCHAR(20) NOT NULL"),
            mariadb=(BACK_FILL["mariadb"], "ALTER TABLE person MODIFY `Nick Name` VARCHAR(20) NOT NULL"),
            mssql=(BACK_FILL["mssql"], "ALTER TABLE person ALTER COLUMN [Nick Name] VARCHAR(20) NOT NULL"),
            oracle=(BACK_FILL["oracle"], 'ALTER TABLE person MODIFY "Nick Name" NOT NULL'),
        ),
    },
)

ADD_NOT_NULL_TYPED_VALUE = Case(
    "- addNotNullConstraint: {tableName: person, columnName: team_id, columnDataType: int, defaultNullValue: 7}",
    {
        "sqlite": then(
            laid_out("sqlite", "UPDATE person SET team_id=7 WHERE person.team_id IS NULL"),
            person_recreated(ID, NAME, NICK, "team_id INTEGER NOT NULL", PK, FK),
        ),
        **each(
            postgresql=(
                "UPDATE person SET team_id=7 WHERE person.team_id IS NULL",
                "ALTER TABLE person ALTER COLUMN team_id SET NOT NULL",
            ),
            mysql=(
                "UPDATE person SET team_id=7 WHERE person.team_id IS NULL",
                "ALTER TABLE person MODIFY team_id INTEGER NOT NULL",
            ),
            mariadb=(
                "UPDATE person SET team_id=7 WHERE person.team_id IS NULL",
                "ALTER TABLE person MODIFY team_id INTEGER NOT NULL",
            ),
            mssql=(
                "UPDATE person SET team_id=7 WHERE person.team_id IS NULL",
                "ALTER TABLE person ALTER COLUMN team_id INTEGER NOT NULL",
            ),
            oracle=(
                "UPDATE person SET team_id=7 WHERE person.team_id IS NULL",
                "ALTER TABLE person MODIFY team_id NOT NULL",
            ),
        ),
    },
)

ADD_NOT_NULL_NAMED = Case(
    "- addNotNullConstraint: {tableName: person, columnName: team_id, constraintName: nn_team, validate: false}",
    {
        "sqlite": person_recreated(ID, NAME, NICK, "team_id INTEGER NOT NULL", PK, FK),
        **each(
            # only Oracle names NOT NULL constraints and can leave existing rows unchecked
            postgresql="ALTER TABLE person ALTER COLUMN team_id SET NOT NULL",
            oracle="ALTER TABLE person MODIFY team_id CONSTRAINT nn_team NOT NULL ENABLE NOVALIDATE",
        ),
    },
)

DROP_NOT_NULL = Case(
    "- dropNotNullConstraint: {tableName: person, columnName: name, columnDataType: varchar(50)}",
    {
        "sqlite": person_recreated(ID, "name VARCHAR(50)", NICK, TEAM_ID, PK, FK),
        **each(
            postgresql="ALTER TABLE person ALTER COLUMN name DROP NOT NULL",
            mysql="ALTER TABLE person MODIFY name VARCHAR(50) NULL",
            mariadb="ALTER TABLE person MODIFY name VARCHAR(50) NULL",
            mssql="ALTER TABLE person ALTER COLUMN name VARCHAR(50) NULL",
            oracle="ALTER TABLE person MODIFY name NULL",
        ),
    },
)

DROP_NOT_NULL_NAMED = Case(
    "- dropNotNullConstraint: {tableName: person, columnName: name, constraintName: nn_name}",
    each(
        postgresql="ALTER TABLE person ALTER COLUMN name DROP NOT NULL",
        oracle="ALTER TABLE person DROP CONSTRAINT nn_name",
    ),
)

# --- defaults ---------------------------------------------------------------------------------------------------

ADD_DEFAULT_VALUE = Case(
    "- addDefaultValue: {tableName: person, columnName: Nick Name, columnDataType: varchar(20), defaultValue: it's}",
    {
        "sqlite": person_recreated(ID, NAME, "\"Nick Name\" VARCHAR(20) DEFAULT 'it''s'", TEAM_ID, PK, FK),
        **each(
            postgresql="""ALTER TABLE person ALTER COLUMN "Nick Name" SET DEFAULT 'it''s'""",
            mysql="ALTER TABLE person ALTER COLUMN `Nick Name` SET DEFAULT 'it''s'",
            mariadb="ALTER TABLE person ALTER COLUMN `Nick Name` SET DEFAULT 'it''s'",
            mssql="ALTER TABLE person ADD DEFAULT 'it''s' FOR [Nick Name]",
            oracle="""ALTER TABLE person MODIFY "Nick Name" DEFAULT 'it''s'""",
        ),
    },
)

ADD_DEFAULT_COMPUTED = Case(
    "- addDefaultValue: {tableName: person, columnName: team_id, columnDataType: int, defaultValueComputed: 1+1}",
    {
        "sqlite": person_recreated(ID, NAME, NICK, "team_id INTEGER DEFAULT (1+1)", PK, FK),
        **each(
            postgresql="ALTER TABLE person ALTER COLUMN team_id SET DEFAULT 1+1",
            # MySQL's SET DEFAULT takes a literal or an expression in parentheses (as Liquibase writes it)
            mysql="ALTER TABLE person ALTER COLUMN team_id SET DEFAULT (1+1)",
            mariadb="ALTER TABLE person ALTER COLUMN team_id SET DEFAULT (1+1)",
            mssql="ALTER TABLE person ADD DEFAULT 1+1 FOR team_id",
            oracle="ALTER TABLE person MODIFY team_id DEFAULT 1+1",
        ),
    },
)

ADD_DEFAULT_NUMERIC_BOOLEAN_DATE = Case(
    """
    - addDefaultValue: {tableName: person, columnName: team_id, defaultValueNumeric: 7}
    - addDefaultValue: {tableName: team, columnName: id, defaultValueBoolean: true}
    - addDefaultValue: {tableName: person, columnName: Nick Name, defaultValueDate: '2024-01-02'}
    """,
    {
        "sqlite": then(
            person_recreated(ID, NAME, NICK, "team_id INTEGER DEFAULT 7", PK, FK),
            laid_out(
                "sqlite",
                "CREATE TABLE _alembic_tmp_team (\n    id INTEGER DEFAULT 1 NOT NULL,\n    PRIMARY KEY (id)\n)",
                "INSERT INTO _alembic_tmp_team (id) SELECT team.id\nFROM team",
                "DROP TABLE team",
                "ALTER TABLE _alembic_tmp_team RENAME TO team",
            ),
            person_recreated(
                ID, NAME, "\"Nick Name\" VARCHAR(20) DEFAULT '2024-01-02'", "team_id INTEGER DEFAULT 7", PK, FK
            ),
        ),
        **each(
            postgresql=(
                "ALTER TABLE person ALTER COLUMN team_id SET DEFAULT 7",
                "ALTER TABLE team ALTER COLUMN id SET DEFAULT true",
                """ALTER TABLE person ALTER COLUMN "Nick Name" SET DEFAULT '2024-01-02'""",
            ),
            mysql=(
                "ALTER TABLE person ALTER COLUMN team_id SET DEFAULT 7",
                "ALTER TABLE team ALTER COLUMN id SET DEFAULT true",
                "ALTER TABLE person ALTER COLUMN `Nick Name` SET DEFAULT '2024-01-02'",
            ),
            mariadb=(
                "ALTER TABLE person ALTER COLUMN team_id SET DEFAULT 7",
                "ALTER TABLE team ALTER COLUMN id SET DEFAULT true",
                "ALTER TABLE person ALTER COLUMN `Nick Name` SET DEFAULT '2024-01-02'",
            ),
            mssql=(
                "ALTER TABLE person ADD DEFAULT 7 FOR team_id",
                "ALTER TABLE team ADD DEFAULT 1 FOR id",
                "ALTER TABLE person ADD DEFAULT '2024-01-02' FOR [Nick Name]",
            ),
            oracle=(
                "ALTER TABLE person MODIFY team_id DEFAULT 7",
                "ALTER TABLE team MODIFY id DEFAULT 1",
                """ALTER TABLE person MODIFY "Nick Name" DEFAULT '2024-01-02'""",
            ),
        ),
    },
)

ADD_DEFAULT_SEQUENCE = Case(
    "- addDefaultValue: {tableName: person, columnName: team_id, defaultValueSequenceNext: seq_team}",
    each(
        postgresql="ALTER TABLE person ALTER COLUMN team_id SET DEFAULT nextval('seq_team')",
        mariadb="ALTER TABLE person ALTER COLUMN team_id SET DEFAULT (NEXT VALUE FOR seq_team)",
        mssql="ALTER TABLE person ADD DEFAULT NEXT VALUE FOR seq_team FOR team_id",
        oracle="ALTER TABLE person MODIFY team_id DEFAULT seq_team.NEXTVAL",
    ),
)

ADD_DEFAULT_NAMED = Case(
    "- addDefaultValue: {tableName: person, columnName: Nick Name, defaultValue: x, defaultValueConstraintName: df_nick}",
    each(
        # only SQL Server's defaults are named constraints
        postgresql="""ALTER TABLE person ALTER COLUMN "Nick Name" SET DEFAULT 'x'""",
        mysql="ALTER TABLE person ALTER COLUMN `Nick Name` SET DEFAULT 'x'",
        mssql="ALTER TABLE person ADD CONSTRAINT df_nick DEFAULT 'x' FOR [Nick Name]",
        oracle="""ALTER TABLE person MODIFY "Nick Name" DEFAULT 'x'""",
    ),
)

DROP_DEFAULT_VALUE = Case(
    "- dropDefaultValue: {tableName: person, columnName: Nick Name, columnDataType: varchar(20)}",
    {
        "sqlite": person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK),
        **each(
            postgresql='ALTER TABLE person ALTER COLUMN "Nick Name" DROP DEFAULT',
            mysql="ALTER TABLE person ALTER COLUMN `Nick Name` DROP DEFAULT",
            mariadb="ALTER TABLE person ALTER COLUMN `Nick Name` DROP DEFAULT",
            # SQL Server's default is a constraint with a generated name: it is looked up, then dropped
            mssql="declare @const_name varchar(256)\n"
            "select @const_name = QUOTENAME([name]) from sys.default_constraints\n"
            "where parent_object_id = object_id('person')\n"
            "and col_name(parent_object_id, parent_column_id) = 'Nick Name'\n"
            "exec('alter table person drop constraint ' + @const_name)",
            oracle='ALTER TABLE person MODIFY "Nick Name" DEFAULT NULL',
        ),
    },
)

# --- addAutoIncrement -------------------------------------------------------------------------------------------

ADD_AUTO_INCREMENT = Case(
    "- addAutoIncrement: {tableName: person, columnName: id, columnDataType: int, startWith: 100}",
    each(
        # as Liquibase: a sequence named <table>_<column>_seq becomes the default
        postgresql=(
            "CREATE SEQUENCE person_id_seq START WITH 100",
            "ALTER TABLE person ALTER COLUMN id SET NOT NULL",
            "ALTER TABLE person ALTER COLUMN id SET DEFAULT nextval('person_id_seq')",
        ),
        mysql=(
            "ALTER TABLE person MODIFY id INTEGER NOT NULL AUTO_INCREMENT",
            "ALTER TABLE person AUTO_INCREMENT = 100",
        ),
        mariadb=(
            "ALTER TABLE person MODIFY id INTEGER NOT NULL AUTO_INCREMENT",
            "ALTER TABLE person AUTO_INCREMENT = 100",
        ),
    ),
)

ADD_AUTO_INCREMENT_QUOTED = Case(
    "- addAutoIncrement: {schemaName: app, tableName: Person, columnName: id, incrementBy: 5}",
    each(
        postgresql=(
            'CREATE SEQUENCE app."Person_id_seq" INCREMENT BY 5',
            'ALTER TABLE app."Person" ALTER COLUMN id SET NOT NULL',
            """ALTER TABLE app."Person" ALTER COLUMN id SET DEFAULT nextval('app."Person_id_seq"')""",
        ),
    ),
)

ADD_AUTO_INCREMENT_SQLITE = Case(
    """
    - createTable: {tableName: tally, columns: [{column: {name: id, type: bigint}}, {column: {name: n, type: int}}]}
    - addAutoIncrement: {tableName: tally, columnName: id, columnDataType: bigint}
    """,
    {
        # SQLite generates values for the INTEGER PRIMARY KEY only (the rowid): the column becomes exactly that
        "sqlite": laid_out(
            "sqlite",
            "CREATE TABLE tally (\n    id BIGINT,\n    n INTEGER\n)",
            "CREATE TABLE _alembic_tmp_tally (\n    id INTEGER,\n    n INTEGER,\n"
            "    CONSTRAINT pk_tally PRIMARY KEY (id)\n)",
            "INSERT INTO _alembic_tmp_tally (id, n) SELECT tally.id, tally.n\nFROM tally",
            "DROP TABLE tally",
            "ALTER TABLE _alembic_tmp_tally RENAME TO tally",
        )
    },
)

# --- primary keys -----------------------------------------------------------------------------------------------

TAG_TABLE = {
    d: f"CREATE TABLE tag (\n    code {'VARCHAR2(10 CHAR)' if d == 'oracle' else 'VARCHAR(10)'} NOT NULL,\n"
    f"    lang CHAR(2) NOT NULL\n)"
    for d in DIALECTS
}

ADD_PRIMARY_KEY = Case(
    """
    - createTable:
        tableName: tag
        columns:
          - column: {name: code, type: varchar(10), constraints: {nullable: false}}
          - column: {name: lang, type: char(2), constraints: {nullable: false}}
    - addPrimaryKey: {tableName: tag, columnNames: 'code, lang', constraintName: pk_tag}
    """,
    {
        "sqlite": laid_out(
            "sqlite",
            TAG_TABLE["sqlite"],
            "CREATE TABLE _alembic_tmp_tag (\n    code VARCHAR(10) NOT NULL,\n    lang CHAR(2) NOT NULL,\n"
            "    CONSTRAINT pk_tag PRIMARY KEY (code, lang)\n)",
            "INSERT INTO _alembic_tmp_tag (code, lang) SELECT tag.code, tag.lang\nFROM tag",
            "DROP TABLE tag",
            "ALTER TABLE _alembic_tmp_tag RENAME TO tag",
        ),
        **{
            d: laid_out(d, TAG_TABLE[d], "ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code, lang)")
            for d in DIALECTS
            if d != "sqlite"
        },
    },
)

ADD_PRIMARY_KEY_OPTIONS = Case(
    "- addPrimaryKey: {tableName: tag, columnNames: code, constraintName: pk_tag, clustered: false, validate: false}",
    each(
        postgresql="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code)",
        mssql="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY NONCLUSTERED (code)",
        oracle="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code) ENABLE NOVALIDATE",
    ),
)

TEAM_WITHOUT_KEY = laid_out(
    "sqlite",
    "CREATE TABLE _alembic_tmp_team (\n    id INTEGER NOT NULL\n)",
    "INSERT INTO _alembic_tmp_team (id) SELECT team.id\nFROM team",
    "DROP TABLE team",
    "ALTER TABLE _alembic_tmp_team RENAME TO team",
)

DROP_PRIMARY_KEY = Case(
    "- dropPrimaryKey: {tableName: team, constraintName: pk_team}",
    each(
        postgresql="ALTER TABLE team DROP CONSTRAINT pk_team",
        mysql="ALTER TABLE team DROP PRIMARY KEY",
        mariadb="ALTER TABLE team DROP PRIMARY KEY",
        mssql="ALTER TABLE team DROP CONSTRAINT pk_team",
        oracle="ALTER TABLE team DROP PRIMARY KEY DROP INDEX",
    )
    | {"sqlite": TEAM_WITHOUT_KEY},
)

DROP_PRIMARY_KEY_UNNAMED = Case(
    "- dropPrimaryKey: {tableName: team, dropIndex: false}",
    each(
        # the database looks the key's name up as the statement runs (as Liquibase does)
        postgresql="DO $yamlbase$\nDECLARE key_name name;\nBEGIN\n"
        "  SELECT conname INTO STRICT key_name FROM pg_constraint WHERE conrelid = 'team'::regclass AND contype = 'p';\n"
        "  EXECUTE 'ALTER TABLE ' || 'team'::regclass::text || ' DROP CONSTRAINT ' || quote_ident(key_name);\n"
        "END\n$yamlbase$",
        mssql="DECLARE @sql nvarchar(max)\n"
        "SELECT @sql = N'ALTER TABLE team DROP CONSTRAINT ' + QUOTENAME(name) FROM sys.key_constraints\n"
        "WHERE parent_object_id = OBJECT_ID(N'team') AND type = 'PK'\n"
        "EXEC sp_executesql @sql",
        mysql="ALTER TABLE team DROP PRIMARY KEY",
        mariadb="ALTER TABLE team DROP PRIMARY KEY",
        oracle="ALTER TABLE team DROP PRIMARY KEY KEEP INDEX",
    )
    | {"sqlite": TEAM_WITHOUT_KEY},  # the shadow shows SQLite's unnamed key
)

# --- foreign keys -----------------------------------------------------------------------------------------------

ADD_FOREIGN_KEY = Case(
    """
    - addForeignKeyConstraint:
        baseTableName: person
        baseColumnNames: team_id
        referencedTableName: team
        referencedColumnNames: id
        constraintName: fk_person_team2
        onDelete: cascade
        onUpdate: no action
    """,
    {
        "sqlite": person_recreated(
            ID,
            NAME,
            NICK,
            TEAM_ID,
            PK,
            FK,
            "CONSTRAINT fk_person_team2 FOREIGN KEY(team_id) REFERENCES team (id) ON DELETE CASCADE ON UPDATE NO ACTION",
        ),
        **{
            d: laid_out(
                d,
                "ALTER TABLE person ADD CONSTRAINT fk_person_team2 FOREIGN KEY(team_id) REFERENCES team (id) "
                "ON DELETE CASCADE ON UPDATE NO ACTION",
            )
            for d in ("postgresql", "mysql", "mariadb", "mssql")
        },
        # Oracle has no ON UPDATE clause; NO ACTION is what it does anyway
        "oracle": laid_out(
            "oracle",
            "ALTER TABLE person ADD CONSTRAINT fk_person_team2 FOREIGN KEY(team_id) REFERENCES team (id) ON DELETE CASCADE",
        ),
    },
)

ADD_FOREIGN_KEY_MULTI_COLUMN = Case(
    """
    - addForeignKeyConstraint:
        baseTableSchemaName: app
        baseTableName: Member
        baseColumnNames: 'team_id, Season'
        referencedTableSchemaName: league
        referencedTableName: roster
        referencedColumnNames: 'team_id,season'
        constraintName: FK_Member_Roster
        onDelete: SET NULL
        onUpdate: RESTRICT
    """,
    each(
        postgresql='ALTER TABLE app."Member" ADD CONSTRAINT "FK_Member_Roster" FOREIGN KEY(team_id, "Season") '
        "REFERENCES league.roster (team_id, season) ON DELETE SET NULL ON UPDATE RESTRICT",
        mysql="ALTER TABLE app.`Member` ADD CONSTRAINT `FK_Member_Roster` FOREIGN KEY(team_id, `Season`) "
        "REFERENCES league.roster (team_id, season) ON DELETE SET NULL ON UPDATE RESTRICT",
        # T-SQL has no RESTRICT: NO ACTION, its default, is what RESTRICT asks for
        mssql="ALTER TABLE app.[Member] ADD CONSTRAINT [FK_Member_Roster] FOREIGN KEY(team_id, [Season]) "
        "REFERENCES league.roster (team_id, season) ON DELETE SET NULL",
        oracle='ALTER TABLE app."Member" ADD CONSTRAINT "FK_Member_Roster" FOREIGN KEY(team_id, "Season") '
        "REFERENCES league.roster (team_id, season) ON DELETE SET NULL",
    ),
)

ADD_FOREIGN_KEY_DEFERRED = Case(
    """
    - addForeignKeyConstraint:
        baseTableName: person
        baseColumnNames: team_id
        referencedTableName: team
        referencedColumnNames: id
        constraintName: fk_person_team2
        deferrable: true
        initiallyDeferred: true
        validate: false
    """,
    {
        "sqlite": person_recreated(
            ID,
            NAME,
            NICK,
            TEAM_ID,
            PK,
            FK,
            "CONSTRAINT fk_person_team2 FOREIGN KEY(team_id) REFERENCES team (id) DEFERRABLE INITIALLY DEFERRED",
        ),
        **each(
            postgresql="ALTER TABLE person ADD CONSTRAINT fk_person_team2 FOREIGN KEY(team_id) REFERENCES team (id) "
            "DEFERRABLE INITIALLY DEFERRED NOT VALID",
            oracle="ALTER TABLE person ADD CONSTRAINT fk_person_team2 FOREIGN KEY(team_id) REFERENCES team (id) "
            "DEFERRABLE INITIALLY DEFERRED ENABLE NOVALIDATE",
        ),
    },
)

DROP_FOREIGN_KEY = Case(
    "- dropForeignKeyConstraint: {baseTableName: person, constraintName: fk_person_team}",
    {
        "sqlite": person_recreated(ID, NAME, NICK, TEAM_ID, PK),
        **each(
            postgresql="ALTER TABLE person DROP CONSTRAINT fk_person_team",
            mysql="ALTER TABLE person DROP FOREIGN KEY fk_person_team",
            mariadb="ALTER TABLE person DROP FOREIGN KEY fk_person_team",
            mssql="ALTER TABLE person DROP CONSTRAINT fk_person_team",
            oracle="ALTER TABLE person DROP CONSTRAINT fk_person_team",
        ),
    },
)

# The other dialects read the keys from the database (refused blind: see below); SQLite's preview reads its shadow.
DROP_ALL_FOREIGN_KEYS = Case(
    "- dropAllForeignKeyConstraints: {baseTableName: person}",
    {"sqlite": person_recreated(ID, NAME, NICK, TEAM_ID, PK)},
)

# --- unique constraints -----------------------------------------------------------------------------------------

ADD_UNIQUE = Case(
    "- addUniqueConstraint: {tableName: person, columnNames: 'name, Nick Name', constraintName: uq_person_names}",
    {
        "sqlite": person_recreated(
            ID, NAME, NICK, TEAM_ID, PK, FK, 'CONSTRAINT uq_person_names UNIQUE (name, "Nick Name")'
        ),
        **each(
            postgresql='ALTER TABLE person ADD CONSTRAINT uq_person_names UNIQUE (name, "Nick Name")',
            mysql="ALTER TABLE person ADD CONSTRAINT uq_person_names UNIQUE (name, `Nick Name`)",
            mariadb="ALTER TABLE person ADD CONSTRAINT uq_person_names UNIQUE (name, `Nick Name`)",
            mssql="ALTER TABLE person ADD CONSTRAINT uq_person_names UNIQUE (name, [Nick Name])",
            oracle='ALTER TABLE person ADD CONSTRAINT uq_person_names UNIQUE (name, "Nick Name")',
        ),
    },
)

ADD_UNIQUE_UNNAMED = Case(
    "- addUniqueConstraint: {tableName: person, columnNames: team_id, validate: false}",
    {
        # SQLite's recreation must name what it adds
        "sqlite": person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK, "CONSTRAINT uq_person_team_id UNIQUE (team_id)"),
        **each(
            postgresql="ALTER TABLE person ADD UNIQUE (team_id)",
            mysql="ALTER TABLE person ADD UNIQUE (team_id)",
            mariadb="ALTER TABLE person ADD UNIQUE (team_id)",
            mssql="ALTER TABLE person ADD UNIQUE (team_id)",
            oracle="ALTER TABLE person ADD UNIQUE (team_id) ENABLE NOVALIDATE",
        ),
    },
)

ADD_UNIQUE_OPTIONS = Case(
    """
    - addUniqueConstraint: {tableName: person, columnNames: name, constraintName: uq_a, deferrable: true, initiallyDeferred: true}
    """,
    each(
        postgresql="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) DEFERRABLE INITIALLY DEFERRED",
        oracle="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) DEFERRABLE INITIALLY DEFERRED",
    ),
)

ADD_UNIQUE_CLUSTERED = Case(
    "- addUniqueConstraint: {tableName: person, columnNames: name, constraintName: uq_a, clustered: true}",
    each(mssql="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE CLUSTERED (name)"),
)

ADD_UNIQUE_DISABLED = Case(
    "- addUniqueConstraint: {tableName: person, columnNames: name, constraintName: uq_a, disabled: true}",
    each(oracle="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) DISABLE"),
)

DROP_UNIQUE = Case(
    """
    - addUniqueConstraint: {tableName: person, columnNames: name, constraintName: uq_name}
    - dropUniqueConstraint: {tableName: person, constraintName: uq_name}
    """,
    {
        "sqlite": then(
            person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK, "CONSTRAINT uq_name UNIQUE (name)"),
            person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK),
        ),
        **each(
            postgresql=(
                "ALTER TABLE person ADD CONSTRAINT uq_name UNIQUE (name)",
                "ALTER TABLE person DROP CONSTRAINT uq_name",
            ),
            # MySQL's unique constraint is its unique index
            mysql=("ALTER TABLE person ADD CONSTRAINT uq_name UNIQUE (name)", "ALTER TABLE person DROP INDEX uq_name"),
            mariadb=(
                "ALTER TABLE person ADD CONSTRAINT uq_name UNIQUE (name)",
                "ALTER TABLE person DROP INDEX uq_name",
            ),
            mssql=(
                "ALTER TABLE person ADD CONSTRAINT uq_name UNIQUE (name)",
                "ALTER TABLE person DROP CONSTRAINT uq_name",
            ),
            oracle=(
                "ALTER TABLE person ADD CONSTRAINT uq_name UNIQUE (name)",
                "ALTER TABLE person DROP CONSTRAINT uq_name",
            ),
        ),
    },
)

# --- check constraints ------------------------------------------------------------------------------------------

ADD_CHECK = Case(
    "- addCheckConstraint: {tableName: person, constraintName: ck_person_id, constraintBody: id > 0}",
    {
        "sqlite": person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK, "CONSTRAINT ck_person_id CHECK (id > 0)"),
        **{d: laid_out(d, "ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0)") for d in DIALECTS[1:]},
    },
)

ADD_CHECK_UNVALIDATED = Case(
    "- addCheckConstraint: {tableName: person, constraintName: ck_person_id, constraintBody: id > 0, validate: false}",
    each(
        postgresql="ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0) NOT VALID",
        oracle="ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0) ENABLE NOVALIDATE",
    ),
)

ADD_CHECK_DISABLED = Case(
    "- addCheckConstraint: {tableName: person, constraintName: ck_person_id, constraintBody: id > 0, disabled: true}",
    each(
        mysql="ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0) NOT ENFORCED",
        oracle="ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0) DISABLE",
    ),
)

DROP_CHECK = Case(
    """
    - addCheckConstraint: {tableName: person, constraintName: ck_person_id, constraintBody: id > 0}
    - dropCheckConstraint: {tableName: person, constraintName: ck_person_id}
    """,
    {
        "sqlite": then(
            person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK, "CONSTRAINT ck_person_id CHECK (id > 0)"),
            person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK),
        ),
        **each(
            postgresql=(
                "ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0)",
                "ALTER TABLE person DROP CONSTRAINT ck_person_id",
            ),
            mysql=(
                "ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0)",
                "ALTER TABLE person DROP CHECK ck_person_id",
            ),
            # MariaDB has no DROP CHECK: a check is dropped as a constraint
            mariadb=(
                "ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0)",
                "ALTER TABLE person DROP CONSTRAINT ck_person_id",
            ),
            mssql=(
                "ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0)",
                "ALTER TABLE person DROP CONSTRAINT ck_person_id",
            ),
            oracle=(
                "ALTER TABLE person ADD CONSTRAINT ck_person_id CHECK (id > 0)",
                "ALTER TABLE person DROP CONSTRAINT ck_person_id",
            ),
        ),
    },
)

ADD_PRIMARY_KEY_STORAGE = Case(
    """
    - addPrimaryKey: {tableName: tag, columnNames: code, constraintName: pk_tag, tablespace: fast_ts, clustered: true}
    """,
    each(
        # as Liquibase: PostgreSQL orders the rows by a clustered key once
        postgresql=(
            "ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code) USING INDEX TABLESPACE fast_ts",
            "CLUSTER tag USING pk_tag",
        ),
        mssql="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY CLUSTERED (code) ON fast_ts",
    ),
)

ADD_PRIMARY_KEY_FOR_INDEX = Case(
    """
    - addPrimaryKey:
        tableName: tag
        columnNames: code
        constraintName: pk_tag
        forIndexSchemaName: app
        forIndexName: IX_Tag
        tablespace: fast_ts
    """,
    # Oracle: the key uses an existing index (a tablespace would be that index's business)
    each(oracle='ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code) USING INDEX app."IX_Tag"'),
)

ADD_PRIMARY_KEY_TABLESPACE_IGNORED = Case(
    # MySQL and SQLite have no tablespace for an index: as in Liquibase, the attribute has no effect there
    "- addPrimaryKey: {tableName: tag, columnNames: code, constraintName: pk_tag, tablespace: fast_ts}",
    each(
        mysql="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code)",
        mariadb="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code)",
        oracle="ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (code) USING INDEX TABLESPACE fast_ts",
    ),
)

ADD_UNIQUE_STORAGE = Case(
    "- addUniqueConstraint: {tableName: person, columnNames: name, constraintName: uq_a, tablespace: fast_ts}",
    {
        "sqlite": person_recreated(ID, NAME, NICK, TEAM_ID, PK, FK, "CONSTRAINT uq_a UNIQUE (name)"),
        **each(
            postgresql="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) USING INDEX TABLESPACE fast_ts",
            mysql="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name)",
            mariadb="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name)",
            mssql="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) ON fast_ts",
            oracle="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) USING INDEX TABLESPACE fast_ts",
        ),
    },
)

ADD_UNIQUE_FOR_INDEX = Case(
    """
    - addUniqueConstraint:
        {tableName: person, columnNames: name, constraintName: uq_a, forIndexName: ix_person_name, validate: false}
    """,
    each(oracle="ALTER TABLE person ADD CONSTRAINT uq_a UNIQUE (name) USING INDEX ix_person_name ENABLE NOVALIDATE"),
)

DROP_PRIMARY_KEY_QUOTED = Case(
    "- dropPrimaryKey: {schemaName: app, tableName: O'Dd Team}",
    each(
        postgresql="DO $yamlbase$\nDECLARE key_name name;\nBEGIN\n"
        "  SELECT conname INTO STRICT key_name FROM pg_constraint WHERE conrelid = 'app.\"O''Dd Team\"'::regclass "
        "AND contype = 'p';\n"
        "  EXECUTE 'ALTER TABLE ' || 'app.\"O''Dd Team\"'::regclass::text || ' DROP CONSTRAINT ' || "
        "quote_ident(key_name);\n"
        "END\n$yamlbase$",
        mssql="DECLARE @sql nvarchar(max)\n"
        "SELECT @sql = N'ALTER TABLE app.[O''Dd Team] DROP CONSTRAINT ' + QUOTENAME(name) FROM sys.key_constraints\n"
        "WHERE parent_object_id = OBJECT_ID(N'app.[O''Dd Team]') AND type = 'PK'\n"
        "EXEC sp_executesql @sql",
    ),
)

CASES: dict[str, Case] = {
    "modifyDataType": MODIFY_DATA_TYPE,
    "modifyDataType-quoted": MODIFY_DATA_TYPE_QUOTED,
    "addNotNullConstraint": ADD_NOT_NULL,
    "addNotNullConstraint-typed-value": ADD_NOT_NULL_TYPED_VALUE,
    "addNotNullConstraint-named": ADD_NOT_NULL_NAMED,
    "dropNotNullConstraint": DROP_NOT_NULL,
    "dropNotNullConstraint-named": DROP_NOT_NULL_NAMED,
    "addDefaultValue": ADD_DEFAULT_VALUE,
    "addDefaultValue-computed": ADD_DEFAULT_COMPUTED,
    "addDefaultValue-numeric-boolean-date": ADD_DEFAULT_NUMERIC_BOOLEAN_DATE,
    "addDefaultValue-sequence": ADD_DEFAULT_SEQUENCE,
    "addDefaultValue-named": ADD_DEFAULT_NAMED,
    "dropDefaultValue": DROP_DEFAULT_VALUE,
    "addAutoIncrement": ADD_AUTO_INCREMENT,
    "addAutoIncrement-quoted": ADD_AUTO_INCREMENT_QUOTED,
    "addAutoIncrement-sqlite": ADD_AUTO_INCREMENT_SQLITE,
    "addPrimaryKey": ADD_PRIMARY_KEY,
    "addPrimaryKey-options": ADD_PRIMARY_KEY_OPTIONS,
    "addPrimaryKey-storage": ADD_PRIMARY_KEY_STORAGE,
    "addPrimaryKey-for-index": ADD_PRIMARY_KEY_FOR_INDEX,
    "addPrimaryKey-tablespace": ADD_PRIMARY_KEY_TABLESPACE_IGNORED,
    "dropPrimaryKey": DROP_PRIMARY_KEY,
    "dropPrimaryKey-unnamed": DROP_PRIMARY_KEY_UNNAMED,
    "dropPrimaryKey-quoted": DROP_PRIMARY_KEY_QUOTED,
    "addForeignKeyConstraint": ADD_FOREIGN_KEY,
    "addForeignKeyConstraint-multi-column": ADD_FOREIGN_KEY_MULTI_COLUMN,
    "addForeignKeyConstraint-deferred": ADD_FOREIGN_KEY_DEFERRED,
    "dropForeignKeyConstraint": DROP_FOREIGN_KEY,
    "dropAllForeignKeyConstraints": DROP_ALL_FOREIGN_KEYS,
    "addUniqueConstraint": ADD_UNIQUE,
    "addUniqueConstraint-unnamed": ADD_UNIQUE_UNNAMED,
    "addUniqueConstraint-deferred": ADD_UNIQUE_OPTIONS,
    "addUniqueConstraint-clustered": ADD_UNIQUE_CLUSTERED,
    "addUniqueConstraint-disabled": ADD_UNIQUE_DISABLED,
    "addUniqueConstraint-storage": ADD_UNIQUE_STORAGE,
    "addUniqueConstraint-for-index": ADD_UNIQUE_FOR_INDEX,
    "dropUniqueConstraint": DROP_UNIQUE,
    "addCheckConstraint": ADD_CHECK,
    "addCheckConstraint-unvalidated": ADD_CHECK_UNVALIDATED,
    "addCheckConstraint-disabled": ADD_CHECK_DISABLED,
    "dropCheckConstraint": DROP_CHECK,
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


def covered_types() -> set[str]:
    """The change types this module gives exact SQL for."""
    return {next(iter(item)) for case in CASES.values() for item in yaml.safe_load(textwrap.dedent(case.changes))}


def test_every_constraint_type_has_a_golden_case() -> None:
    ours = {cls.name for cls in REGISTRY.values() if cls.__module__ == "yamlbase.changes.constraint"}
    covered = {next(iter(item)) for case in CASES.values() for item in yaml.safe_load(textwrap.dedent(case.changes))}
    assert len(ours) == 15 and ours <= covered


# --- what a dialect cannot express is refused, with the reason ---------------------------------------------------


@pytest.mark.parametrize(
    ("dialects", "change", "reason"),
    [
        (
            ("mysql", "mariadb", "mssql"),
            "- addNotNullConstraint: {tableName: person, columnName: team_id}",
            "needs columnDataType on {d}: its ALTER restates the column's type",
        ),
        (
            ("mysql", "mariadb", "mssql"),
            "- dropNotNullConstraint: {tableName: person, columnName: name}",
            "needs columnDataType on {d}: its ALTER restates the column's type",
        ),
        (
            ("mysql", "mariadb"),
            "- addAutoIncrement: {tableName: person, columnName: id}",
            "needs columnDataType on {d}: MODIFY restates the column's type",
        ),
        (
            ("mysql", "mariadb"),
            "- addAutoIncrement: {tableName: person, columnName: id, columnDataType: int, incrementBy: 2}",
            "{d} cannot increment a column by 2",
        ),
        (
            ("mssql", "oracle"),
            "- addAutoIncrement: {tableName: person, columnName: id, columnDataType: int}",
            "not supported on {d}: an existing column cannot be made an identity column there (as in Liquibase)",
        ),
        (
            ("sqlite",),
            "- addAutoIncrement: {tableName: person, columnName: id, startWith: 10}",
            "SQLite's rowid cannot start elsewhere or step by other than 1",
        ),
        (
            ("sqlite",),
            "- addAutoIncrement: {tableName: person, columnName: team_id}",
            "SQLite auto-increments only a table's single INTEGER PRIMARY KEY, and the primary key of person is (id)",
        ),
        (
            ("postgresql", "mysql", "mariadb", "mssql", "oracle"),
            "- dropAllForeignKeyConstraints: {baseTableName: person}",
            "needs a database to read the table's foreign keys from; it cannot be rendered for {d} without one",
        ),
        (
            ("mysql", "mariadb", "mssql"),
            "- addForeignKeyConstraint: {baseTableName: person, baseColumnNames: team_id, referencedTableName: team, "
            "referencedColumnNames: id, constraintName: fk, deferrable: true}",
            "deferrable is not supported on {d}",
        ),
        (
            ("mysql", "mariadb"),
            "- addForeignKeyConstraint: {baseTableName: person, baseColumnNames: team_id, referencedTableName: team, "
            "referencedColumnNames: id, constraintName: fk, onDelete: set default}",
            "{d} (InnoDB) refuses SET DEFAULT actions",
        ),
        (
            ("oracle",),
            "- addForeignKeyConstraint: {baseTableName: person, baseColumnNames: team_id, referencedTableName: team, "
            "referencedColumnNames: id, constraintName: fk, onUpdate: CASCADE}",
            "Oracle has no ON UPDATE CASCADE",
        ),
        (
            DIALECTS,
            "- addForeignKeyConstraint: {baseTableName: person, baseColumnNames: 'team_id, id', referencedTableName: "
            "team, referencedColumnNames: id, constraintName: fk}",
            "2 baseColumnNames but 1 referencedColumnNames",
        ),
        (
            ("sqlite", "postgresql", "mysql", "mariadb", "mssql"),
            "- addUniqueConstraint: {tableName: person, columnNames: name, constraintName: uq, disabled: true}",
            "disabled is not supported on {d}",
        ),
        (
            ("sqlite", "postgresql", "mysql", "mariadb", "mssql"),
            "- addUniqueConstraint: {tableName: person, columnNames: name, forIndexName: ix_person_name}",
            "forIndexName is not supported on {d}",
        ),
        (
            ("sqlite", "postgresql", "mysql", "mariadb", "mssql"),
            "- addPrimaryKey: {tableName: tag, columnNames: code, forIndexName: ix_tag}",
            "forIndexName is not supported on {d}",
        ),
        (
            ("sqlite", "mysql", "mariadb", "oracle"),
            "- addPrimaryKey: {tableName: tag, columnNames: code, constraintName: pk_tag, clustered: true}",
            "clustered is not supported on {d}",
        ),
        (
            ("postgresql",),
            "- addPrimaryKey: {tableName: tag, columnNames: code, clustered: true}",
            "clustered needs constraintName on postgresql (CLUSTER … USING names the key)",
        ),
        (
            ("sqlite", "postgresql", "mysql", "mariadb", "oracle"),
            "- addUniqueConstraint: {tableName: person, columnNames: name, clustered: true}",
            "clustered is not supported on {d}",
        ),
        (
            ("sqlite", "postgresql", "mariadb", "mssql"),
            "- addCheckConstraint: {tableName: person, constraintName: ck, constraintBody: id > 0, disabled: true}",
            "{d} cannot create a disabled check constraint",
        ),
        (
            ("sqlite", "mysql"),
            "- addDefaultValue: {tableName: person, columnName: team_id, defaultValueSequenceNext: seq}",
            "defaultValueSequenceNext: {d} has no sequences",
        ),
    ],
)
def test_refusals_say_why(dialects: tuple[str, ...], change: str, reason: str) -> None:
    for dialect in dialects:
        with pytest.raises(ValueError) as info:
            render(dialect, change)
        assert str(info.value) == reason.format(d=dialect), dialect


@pytest.mark.parametrize(
    "change",
    [
        "- addDefaultValue: {tableName: t, columnName: c}",
        "- addDefaultValue: {tableName: t, columnName: c, defaultValue: a, defaultValueNumeric: 1}",
        "- addForeignKeyConstraint: {baseTableName: a, baseColumnNames: x, referencedTableName: b, "
        "referencedColumnNames: y, constraintName: fk, onDelete: EXPLODE}",
        "- addCheckConstraint: {tableName: t, constraintName: ck}",
        "- addForeignKeyConstraint: {baseTableName: a, baseColumnNames: x, referencedTableName: b, "
        "referencedColumnNames: y}",
    ],
)
def test_invalid_attributes_are_refused_when_read(change: str) -> None:
    with pytest.raises(ValueError):
        changes_from(change)


def test_referential_actions_are_read_case_and_space_insensitively() -> None:
    (change,) = changes_from(
        "- addForeignKeyConstraint: {baseTableName: a, baseColumnNames: x, referencedTableName: b, "
        "referencedColumnNames: y, constraintName: fk, onDelete: ' set   null', onUpdate: no action}"
    )
    assert (change.on_delete, change.on_update) == ("SET NULL", "NO ACTION")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("attributes", "clause"),
    [
        ("deleteCascade: true", " ON DELETE CASCADE"),
        ("deleteCascade: false", ""),
        # as Liquibase's setters run: deleteCascade after onDelete, clearing it
        ("deleteCascade: true, onDelete: SET NULL", ""),
        ("deleteCascade: false, onDelete: SET NULL", ""),
        ("onDelete: SET NULL", " ON DELETE SET NULL"),
    ],
)
def test_delete_cascade_like_liquibase(attributes: str, clause: str) -> None:
    text = (
        "- addForeignKeyConstraint: {baseTableName: person, baseColumnNames: team_id, referencedTableName: team, "
        f"referencedColumnNames: id, constraintName: fk, {attributes}}}"
    )
    assert render("postgresql", text) == laid_out(
        "postgresql", f"ALTER TABLE person ADD CONSTRAINT fk FOREIGN KEY(team_id) REFERENCES team (id){clause}"
    )


# --- DATABASECHANGELOG.DESCRIPTION, as Liquibase writes it -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "description"),
    [
        (
            "- modifyDataType: {schemaName: s, tableName: t, columnName: c, newDataType: int}",
            "modifyDataType columnName=c, tableName=t",
        ),
        (
            "- addNotNullConstraint: {tableName: t, columnName: c, constraintName: nn, columnDataType: int}",
            "addNotNullConstraint columnName=c, constraintName=nn, tableName=t",
        ),
        ("- dropNotNullConstraint: {tableName: t, columnName: c}", "dropNotNullConstraint columnName=c, tableName=t"),
        (
            "- addDefaultValue: {tableName: t, columnName: c, defaultValue: x, defaultValueConstraintName: df}",
            "addDefaultValue columnName=c, defaultValueConstraintName=df, tableName=t",
        ),
        ("- dropDefaultValue: {tableName: t, columnName: c}", "dropDefaultValue columnName=c, tableName=t"),
        ("- addAutoIncrement: {tableName: t, columnName: c}", "addAutoIncrement columnName=c, tableName=t"),
        (
            "- addPrimaryKey: {tableName: t, columnNames: 'a, b', constraintName: pk}",
            "addPrimaryKey constraintName=pk, tableName=t",
        ),
        ("- dropPrimaryKey: {tableName: t}", "dropPrimaryKey tableName=t"),
        (
            "- addForeignKeyConstraint: {baseTableSchemaName: s, baseTableName: a, baseColumnNames: x, "
            "referencedTableName: b, referencedColumnNames: y, constraintName: fk}",
            "addForeignKeyConstraint baseTableName=a, constraintName=fk, referencedTableName=b",
        ),
        (
            "- dropForeignKeyConstraint: {baseTableName: a, constraintName: fk}",
            "dropForeignKeyConstraint baseTableName=a, constraintName=fk",
        ),
        ("- dropAllForeignKeyConstraints: {baseTableName: a}", "dropAllForeignKeyConstraints baseTableName=a"),
        (
            "- addUniqueConstraint: {tableName: t, columnNames: a, constraintName: uq}",
            "addUniqueConstraint constraintName=uq, tableName=t",
        ),
        (
            "- dropUniqueConstraint: {tableName: t, constraintName: uq}",
            "dropUniqueConstraint constraintName=uq, tableName=t",
        ),
        (
            "- addCheckConstraint: {tableName: t, constraintName: ck, constraintBody: a > 0}",
            "addCheckConstraint constraintName=ck, tableName=t",
        ),
        (
            "- dropCheckConstraint: {tableName: t, constraintName: ck}",
            "dropCheckConstraint constraintName=ck, tableName=t",
        ),
    ],
)
def test_description_like_liquibase(change: str, description: str) -> None:
    (model,) = changes_from(change)
    assert model.description() == description


# --- inverses: exactly where Liquibase has them ------------------------------------------------------------------

CTX = PlanContext("postgresql")


@pytest.mark.parametrize(
    ("change", "inverse"),
    [
        (
            "- addNotNullConstraint: {schemaName: s, tableName: t, columnName: c, columnDataType: int, "
            "defaultNullValue: 0, constraintName: nn}",
            DropNotNullConstraint(schemaName="s", tableName="t", columnName="c", columnDataType="int"),
        ),
        (
            "- dropNotNullConstraint: {schemaName: s, tableName: t, columnName: c, columnDataType: int, "
            "constraintName: nn}",
            AddNotNullConstraint(
                schemaName="s", tableName="t", columnName="c", columnDataType="int", constraintName="nn"
            ),
        ),
        (
            "- addDefaultValue: {schemaName: s, tableName: t, columnName: c, columnDataType: int, "
            "defaultValueNumeric: 3}",
            DropDefaultValue(schemaName="s", tableName="t", columnName="c", columnDataType="int"),
        ),
        (
            "- addPrimaryKey: {schemaName: s, tableName: t, columnNames: 'a, b', constraintName: pk}",
            DropPrimaryKey(schemaName="s", tableName="t", constraintName="pk"),
        ),
        (
            "- addPrimaryKey: {tableName: t, columnNames: a, constraintName: pk, forIndexName: ix}",
            DropPrimaryKey(tableName="t", constraintName="pk", dropIndex=False),
        ),
        (
            "- addForeignKeyConstraint: {baseTableSchemaName: s, baseTableName: a, baseColumnNames: x, "
            "referencedTableName: b, referencedColumnNames: y, constraintName: fk, onDelete: CASCADE}",
            DropForeignKeyConstraint(baseTableSchemaName="s", baseTableName="a", constraintName="fk"),
        ),
        (
            "- addUniqueConstraint: {schemaName: s, tableName: t, columnNames: 'a, b', constraintName: uq}",
            DropUniqueConstraint(schemaName="s", tableName="t", constraintName="uq", uniqueColumns="a, b"),
        ),
        (
            "- addCheckConstraint: {schemaName: s, tableName: t, constraintName: ck, constraintBody: a > 0}",
            DropCheckConstraint(schemaName="s", tableName="t", constraintName="ck"),
        ),
    ],
)
def test_inverse_like_liquibase(change: str, inverse: Any) -> None:
    (model,) = changes_from(change)
    assert model.inverse(CTX) == [inverse]


NOT_CAPTURED = (
    "cannot be rolled back automatically: its structure was not captured when it ran (it ran under Liquibase or an "
    "older yamlbase, was marked as run, or is not applied yet); add a rollback block"
)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            "- addAutoIncrement: {tableName: t, columnName: c}",
            "addAutoIncrement cannot be rolled back automatically; add a rollback block",
        ),
        ("- modifyDataType: {tableName: t, columnName: c, newDataType: int}", f"modifyDataType on t {NOT_CAPTURED}"),
        ("- dropDefaultValue: {tableName: t, columnName: c}", f"dropDefaultValue on t {NOT_CAPTURED}"),
        ("- dropPrimaryKey: {schemaName: s, tableName: t}", f"dropPrimaryKey on s.t {NOT_CAPTURED}"),
        (
            "- dropForeignKeyConstraint: {baseTableName: t, constraintName: fk}",
            f"dropForeignKeyConstraint on t {NOT_CAPTURED}",
        ),
        ("- dropAllForeignKeyConstraints: {baseTableName: t}", f"dropAllForeignKeyConstraints on t {NOT_CAPTURED}"),
        ("- dropUniqueConstraint: {tableName: t, constraintName: uq}", f"dropUniqueConstraint on t {NOT_CAPTURED}"),
        ("- dropCheckConstraint: {tableName: t, constraintName: ck}", f"dropCheckConstraint on t {NOT_CAPTURED}"),
    ],
)
def test_no_inverse_says_why(change: str, reason: str) -> None:
    (model,) = changes_from(change)
    with pytest.raises(NoInverse) as info:
        model.inverse(CTX)
    assert str(info.value) == reason


# What capture (yamlbase.runtime.capture) stored for table app.t before a destructive change ran.
CAPTURED_T = {
    "format": 1,
    "dialect": "postgresql",
    "tables": {
        "app.t": {
            "schema": "app",
            "name": "t",
            "comment": None,
            "columns": [
                {"name": "id", "type": "INTEGER", "nullable": False, "default": None},
                {"name": "code", "type": "VARCHAR(10)", "nullable": True, "default": "'x'::character varying"},
                {"name": "team_id", "type": "INTEGER", "nullable": True, "default": None},
            ],
            "primary_key": {"name": "t_pkey", "columns": ["id"]},
            "foreign_keys": [
                {
                    "name": "fk_t_team",
                    "columns": ["team_id"],
                    "referred_schema": "league",
                    "referred_table": "team",
                    "referred_columns": ["id"],
                    "ondelete": "SET NULL",
                    "onupdate": None,
                    "deferrable": True,
                    "initially": "DEFERRED",
                }
            ],
            "unique": [{"name": "uq_t", "columns": ["code", "team_id"]}],
            "checks": [{"name": "ck_t", "sqltext": "id > 0"}],
            "indexes": [],
        }
    },
    "views": {},
    "referencing": {},
}


@pytest.mark.parametrize(
    ("change", "inverse"),
    [
        (
            "- modifyDataType: {schemaName: app, tableName: t, columnName: code, newDataType: text}",
            "- modifyDataType: {schemaName: app, tableName: t, columnName: code, newDataType: VARCHAR(10)}",
        ),
        (
            "- dropDefaultValue: {schemaName: app, tableName: t, columnName: code}",
            "- addDefaultValue: {schemaName: app, tableName: t, columnName: code, "
            "defaultValueComputed: \"'x'::character varying\"}",
        ),
        ("- dropDefaultValue: {schemaName: app, tableName: t, columnName: id}", None),
        (
            "- dropPrimaryKey: {schemaName: app, tableName: t}",
            "- addPrimaryKey: {schemaName: app, tableName: t, columnNames: id, constraintName: t_pkey}",
        ),
        (
            "- dropForeignKeyConstraint: {baseTableSchemaName: app, baseTableName: t, constraintName: fk_t_team}",
            "- addForeignKeyConstraint: {baseTableSchemaName: app, baseTableName: t, baseColumnNames: team_id, "
            "referencedTableSchemaName: league, referencedTableName: team, referencedColumnNames: id, "
            "constraintName: fk_t_team, onDelete: SET NULL, deferrable: true, initiallyDeferred: true}",
        ),
        ("- dropForeignKeyConstraint: {baseTableSchemaName: app, baseTableName: t, constraintName: gone}", None),
        (
            "- dropUniqueConstraint: {schemaName: app, tableName: t, constraintName: uq_t}",
            "- addUniqueConstraint: {schemaName: app, tableName: t, columnNames: 'code, team_id', constraintName: uq_t}",
        ),
        (
            "- dropCheckConstraint: {schemaName: app, tableName: t, constraintName: ck_t}",
            "- addCheckConstraint: {schemaName: app, tableName: t, constraintName: ck_t, constraintBody: id > 0}",
        ),
    ],
)
def test_inverse_from_what_was_captured(change: str, inverse: str | None) -> None:
    (model,) = changes_from(change)
    assert model.inverse(PlanContext("postgresql", captured=CAPTURED_T)) == (changes_from(inverse) if inverse else [])


def test_drop_all_foreign_keys_inverse_adds_each_back() -> None:
    (model,) = changes_from("- dropAllForeignKeyConstraints: {baseTableSchemaName: app, baseTableName: t}")
    (restored,) = model.inverse(PlanContext("postgresql", captured=CAPTURED_T))
    assert (
        restored.description()
        == "addForeignKeyConstraint baseTableName=t, constraintName=fk_t_team, referencedTableName=team"
    )


def test_mysql_primary_key_comes_back_without_a_name() -> None:
    (model,) = changes_from("- dropPrimaryKey: {schemaName: app, tableName: t}")
    assert model.inverse(PlanContext("mariadb", captured=CAPTURED_T)) == changes_from(
        "- addPrimaryKey: {schemaName: app, tableName: t, columnNames: id}"
    )


def test_inverses_render_on_every_dialect() -> None:
    (change,) = changes_from(
        "- addUniqueConstraint: {tableName: person, columnNames: 'name, team_id', constraintName: uq_person}"
    )
    expected = {
        "postgresql": "ALTER TABLE person DROP CONSTRAINT uq_person",
        "mysql": "ALTER TABLE person DROP INDEX uq_person",
        "mariadb": "ALTER TABLE person DROP INDEX uq_person",
        "mssql": "ALTER TABLE person DROP CONSTRAINT uq_person",
        "oracle": "ALTER TABLE person DROP CONSTRAINT uq_person",
    }
    for dialect, sql in expected.items():
        out = io.StringIO()
        with text_sink(dialect, out) as sink:
            for inverse in change.inverse(PlanContext(dialect)):
                sink.apply(inverse)
        assert normal(out.getvalue()) == laid_out(dialect, sql), dialect


def test_add_default_value_model_keeps_every_variant() -> None:
    for attribute, value in [
        ("defaultValue", "x"),
        ("defaultValueNumeric", "1.5"),
        ("defaultValueBoolean", True),
        ("defaultValueDate", "2024-01-02"),
        ("defaultValueComputed", "now()"),
        ("defaultValueSequenceNext", "seq"),
    ]:
        model = AddDefaultValue.model_validate({"tableName": "t", "columnName": "c", attribute: value})
        assert model.model_dump(by_alias=True, exclude_none=True)[attribute] == value


def test_check_constraint_model_requires_a_body() -> None:
    with pytest.raises(ValueError):
        AddCheckConstraint.model_validate({"tableName": "t", "constraintName": "ck", "constraintBody": ""})


def test_a_refusal_is_found_before_anything_runs_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "changelog.yaml").write_text(
        textwrap.dedent(
            """\
            databaseChangeLog:
              - changeSet:
                  id: nn
                  author: ann
                  changes:
                    - addNotNullConstraint: {tableName: person, columnName: team_id}
                    - dropAllForeignKeyConstraints: {baseTableName: person}
            """
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--changelog-file", "changelog.yaml", "validate", "--dialect", "mariadb"])
    # dropAllForeignKeyConstraints needs the database: it is decided when it runs, not refused here
    assert (result.exit_code, result.output.splitlines()[0]) == (
        2,
        "changelog.yaml:6:11: addNotNullConstraint cannot run on mariadb: needs columnDataType on mariadb: its ALTER "
        "restates the column's type",
    )
    assert "dropAllForeignKeyConstraints" not in result.output


@pytest.mark.parametrize(
    ("fill", "data_type", "literal"),
    [
        ("true", "boolean", "true"),
        ("yes", "boolean", "true"),
        ("false", "boolean", "false"),
        ("2.50", "decimal(5,2)", "2.5"),
    ],
)
def test_default_null_value_takes_the_columns_type(fill: str, data_type: str, literal: str) -> None:
    text = f"- addNotNullConstraint: {{tableName: person, columnName: team_id, columnDataType: '{data_type}', defaultNullValue: {fill}}}"
    assert (
        render("postgresql", text).splitlines()[0]
        == f"UPDATE person SET team_id={literal} WHERE person.team_id IS NULL;"
    )


def test_default_null_value_null_fills_nothing() -> None:
    text = "- addNotNullConstraint: {tableName: person, columnName: team_id, defaultNullValue: NULL}"
    assert render("postgresql", text) == laid_out("postgresql", "ALTER TABLE person ALTER COLUMN team_id SET NOT NULL")


def test_default_null_value_of_another_type_is_refused() -> None:
    with pytest.raises(ValueError, match="defaultNullValue 'x' is not a value of type INTEGER"):
        render(
            "postgresql",
            "- addNotNullConstraint: {tableName: person, columnName: team_id, columnDataType: int, defaultNullValue: x}",
        )
