"""Exact SQL of SQLite's table recreation when other schema objects depend on the table (update-sql, no database).

SQLite's procedure (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"):
the dependent triggers and views are dropped before the copy — the final RENAME refuses to run while a view or
trigger names the dropped table — and re-created from their own statements after it, with the table's indexes.
"""

from __future__ import annotations

import io
import sqlite3
import textwrap

import pytest
import sqlalchemy as sa

from tests.unit.test_sql_golden import changes_from, laid_out, normal, text_sink
from yamlbase import commands
from yamlbase.dialects.sqlite import (
    Dependents,
    SchemaObject,
    _column_definitions,
    dependents,
    identifiers,
    plan_recreation,
)

# Beside test_sql_golden's SETUP (team, person with ix_person_name and fk_person_team).
DEPENDENTS = [
    "CREATE VIEW person_names AS SELECT id, name FROM person",
    "CREATE VIEW team_sizes AS SELECT t.id, count(p.id) AS size FROM team t LEFT JOIN person p ON p.team_id = t.id "
    "GROUP BY t.id",
    'CREATE VIEW "Loud Names" AS SELECT upper(name) AS loud FROM person_names',
    "CREATE TRIGGER person_anon AFTER INSERT ON person WHEN new.name = ''\n"
    "BEGIN UPDATE person SET name = 'anon' WHERE id = new.id; END",
    "CREATE TRIGGER team_founder AFTER INSERT ON team\nBEGIN INSERT INTO person (id, name, team_id) "
    "VALUES (new.id * 100, 'founder', new.id); END",
    "CREATE TRIGGER names_insert INSTEAD OF INSERT ON person_names\n"
    "BEGIN INSERT INTO person (id, name) VALUES (new.id, new.name); END",
    "CREATE VIEW teams AS SELECT id FROM team",  # not on person: left alone
    "CREATE TRIGGER team_only AFTER DELETE ON team BEGIN SELECT 1; END",
]


def render_with_dependents(changes: str) -> str:
    out = io.StringIO()
    with text_sink("sqlite", out) as sink:
        assert sink.shadow is not None
        for statement in DEPENDENTS:
            sink.shadow.connection.exec_driver_sql(statement)
        for change in changes_from(textwrap.dedent(changes)):
            sink.apply(change)
    return normal(out.getvalue())


DROPS = (
    "DROP TRIGGER person_anon",
    "DROP TRIGGER team_founder",
    "DROP TRIGGER names_insert",
    'DROP VIEW "Loud Names"',
    "DROP VIEW team_sizes",
    "DROP VIEW person_names",
)
CREATES = (
    "CREATE INDEX ix_person_name ON person (name)",
    *DEPENDENTS[:6],
)


def test_drop_column_keeps_views_and_triggers() -> None:
    expected = laid_out(
        "sqlite",
        *DROPS,
        "CREATE TABLE _alembic_tmp_person (\n    id INTEGER NOT NULL,\n    name VARCHAR(50) NOT NULL,\n"
        "    team_id INTEGER,\n    PRIMARY KEY (id),\n"
        "    CONSTRAINT fk_person_team FOREIGN KEY(team_id) REFERENCES team (id)\n)",
        "INSERT INTO _alembic_tmp_person (id, name, team_id) SELECT person.id, person.name, person.team_id\nFROM person",
        "DROP TABLE person",
        "ALTER TABLE _alembic_tmp_person RENAME TO person",
        *CREATES,
    )
    assert render_with_dependents("- dropColumn: {tableName: person, columnName: Nick Name}") == expected


def test_a_change_that_alters_in_place_touches_nothing_else() -> None:
    """Alembic adds a plain column with ALTER TABLE: no recreation, so the views and triggers stay as they are."""
    assert render_with_dependents(
        "- addColumn: {tableName: person, columns: [{column: {name: age, type: int}}]}"
    ) == laid_out("sqlite", "ALTER TABLE person ADD COLUMN age INTEGER")


def test_the_script_runs_on_a_database_holding_them() -> None:
    """The rendered statements are valid SQLite, in an order SQLite accepts, and leave the same objects behind."""
    script = render_with_dependents("- dropColumn: {tableName: person, columnName: Nick Name}")
    db = sqlite3.connect(":memory:")
    with text_sink("sqlite", io.StringIO()) as sink:
        assert sink.shadow is not None
        setup = sink.shadow.connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL").all()
    for statement in [row[0] for row in setup] + DEPENDENTS:
        db.execute(statement)
    objects = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type != 'table' ORDER BY name"
    before = db.execute(objects).fetchall()
    db.executescript(script)
    assert db.execute(objects).fetchall() == before
    assert [row[1] for row in db.execute("PRAGMA table_info(person)")] == ["id", "name", "team_id"]


def test_a_view_the_change_breaks_is_refused_in_the_preview_too() -> None:
    """update-sql stops where update would: team_sizes joins on the dropped person.team_id."""
    with pytest.raises(ValueError, match=r"view team_sizes no longer works .*no such column: p\.team_id"):
        render_with_dependents("- dropColumn: {tableName: person, columnName: team_id}")


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        (
            "SELECT a.\"B c\", [d], `e` FROM t -- f\nWHERE x = 'g h' /* i */",
            {"select", "a", "b c", "d", "e", "from", "t", "where", "x"},
        ),
        ('SELECT "say ""hi""" FROM main.T', {"select", 'say "hi"', "from", "main", "t"}),
    ],
)
def test_identifiers(sql: str, names: set[str]) -> None:
    assert identifiers(sql) == names


def test_dependence_is_transitive_and_on_whole_names() -> None:
    rows = [
        ("table", "item", "item", "CREATE TABLE item (id INT)"),
        ("view", "v3", "v3", "CREATE VIEW v3 AS SELECT * FROM v2"),  # created before v2 existed under that name
        ("view", "v2", "v2", "CREATE VIEW v2 AS SELECT * FROM v1"),
        ("view", "v1", "v1", 'CREATE VIEW v1 AS SELECT * FROM "ITEM"'),
        ("view", "items", "items", "CREATE VIEW items AS SELECT 'item' AS item_name FROM other"),
        ("trigger", "on_v3", "v3", "CREATE TRIGGER on_v3 INSTEAD OF DELETE ON v3 BEGIN SELECT 1; END"),
        ("index", "ix", "item", "CREATE INDEX ix ON item (id)"),
        ("index", "ix_gone", "item", "CREATE INDEX ix_gone ON item (lower(gone))"),
    ]
    found = dependents(rows, "item", None, dropped=["gone"])
    assert [(o.type, o.name) for o in found.objects] == [
        ("view", "v3"),
        ("view", "v2"),
        ("view", "v1"),
        ("trigger", "on_v3"),
        ("index", "ix"),
    ]
    assert found.drops(lambda n: n) == ["DROP TRIGGER on_v3", "DROP VIEW v1", "DROP VIEW v2", "DROP VIEW v3"]


def test_attached_schema_objects_are_re_created_there() -> None:
    found = Dependents([SchemaObject("view", "v", "CREATE VIEW v AS SELECT 1 FROM t")], schema="aux")
    assert found.creates(lambda n: n) == ["CREATE VIEW aux.v AS SELECT 1 FROM t"]
    assert found.drops(lambda n: n) == ["DROP VIEW aux.v"]


def test_column_definitions() -> None:
    create = (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, \"Code\" TEXT COLLATE NOCASE DEFAULT 'a, COLLATE x', "
        "owner INT CONSTRAINT fk_owner REFERENCES o (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, "
        "n NUMERIC(10, 2) REFERENCES o (id) NOT DEFERRABLE, "
        "g TEXT GENERATED ALWAYS AS (lower('a,b' || (n + 1))) STORED, h AS (n*2), "
        "CONSTRAINT ck CHECK (n > 0), FOREIGN KEY (n) REFERENCES o (id))"
    )
    assert _column_definitions(create) == {
        "id": {},
        "code": {"collate": "NOCASE"},
        "owner": {"constraint": "fk_owner", "deferrable": "DEFERRABLE", "initially": "DEFERRED"},
        "n": {},
        "g": {"generated": "lower('a,b' || (n + 1))"},
        "h": {"generated": "n*2"},
    }


def test_a_shaped_table_and_extra_checks() -> None:
    """A change may hand over the table to copy (shaped) and CHECKs to add; one already there is not repeated."""
    engine = commands.create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT COLLATE NOCASE, n INT CHECK (n > 0), "
                "p INT REFERENCES t (id) ON DELETE CASCADE)"
            )
            shaped = sa.Table("t", sa.MetaData(), autoload_with=connection)
            for fk in list(shaped.foreign_key_constraints):
                shaped.constraints.discard(fk)
            plan = plan_recreation(
                connection,
                "t",
                None,
                str,
                shaped=shaped,
                checks=[sa.CheckConstraint("N >  0"), sa.CheckConstraint("code <> ''")],
            )
    finally:
        engine.dispose()
    assert plan.copy_from is shaped
    assert shaped.c.code.type.collation == "NOCASE"  # repaired like a reflected table
    assert [str(c.sqltext) for c in plan.table_args] == ["code <> ''"]
