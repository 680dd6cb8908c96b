"""SQLite's table recreation (Alembic batch mode) keeps everything that depends on the table.

Views and triggers, foreign-key enforcement during the copy, databases with hundreds of tables, and the table's
own rows, indexes and constraints. Each test runs ``update`` on a real SQLite file; where a preview matters, the
``update-sql`` script is run on a copy of the database and must leave it exactly as ``update`` did.
"""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from yamlbase import commands

SETUP = """
- changeSet:
    id: setup
    author: test
    changes:
      - sql:
          endDelimiter: //
          sql: |
            CREATE TABLE owner (id INTEGER PRIMARY KEY, name VARCHAR(50))
            //
            CREATE TABLE item (
              id INTEGER PRIMARY KEY,
              owner_id INTEGER CONSTRAINT fk_item_owner REFERENCES owner (id) ON DELETE CASCADE,
              label VARCHAR(20),
              qty INTEGER,
              note VARCHAR(20)
            )
            //
            CREATE INDEX ix_item_label ON item (label)
            //
            CREATE TABLE audit (what VARCHAR(40))
            //
            CREATE VIEW item_labels AS SELECT id, label FROM item
            //
            CREATE VIEW owner_items AS SELECT o.name, i.label FROM owner o JOIN "item" i ON i.owner_id = o.id
            //
            CREATE VIEW labels_upper AS SELECT upper(label) AS shout FROM item_labels
            //
            CREATE TRIGGER item_qty AFTER INSERT ON item WHEN new.qty IS NULL
            BEGIN UPDATE item SET qty = 0 WHERE id = new.id; END
            //
            CREATE TRIGGER owner_first_item AFTER INSERT ON owner
            BEGIN INSERT INTO item (owner_id, label) VALUES (new.id, 'first'); END
            //
            CREATE TRIGGER item_labels_insert INSTEAD OF INSERT ON item_labels
            BEGIN INSERT INTO item (id, label) VALUES (new.id, new.label); END
            //
            CREATE TRIGGER owner_audit AFTER DELETE ON owner
            BEGIN INSERT INTO audit (what) VALUES ('owner ' || old.id); END
            //
            INSERT INTO owner (id, name) VALUES (1, 'ann'), (2, 'bo')
            //
            INSERT INTO item (id, owner_id, label, qty) VALUES (10, 1, 'x', 5), (11, 2, 'y', 7)
            //
"""


def write_changelog(folder: Path, under_test: str, setup: str = SETUP) -> Path:
    body = textwrap.indent(textwrap.dedent(under_test).strip(), "      ")
    text = "databaseChangeLog:\n" + textwrap.indent(textwrap.dedent(setup).strip(), "  ")
    text += "\n  - changeSet:\n      id: before\n      author: test\n      changes: [{tagDatabase: {tag: before}}]"
    text += f"\n  - changeSet:\n      id: under-test\n      author: test\n{body}\n"
    path = folder / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def schema_objects(path: Path, kind: str) -> list[tuple[str, str]]:
    """(name, sql) of every view or trigger, as SQLite stores them."""
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE type = ?", (kind,)).fetchall())


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def file_of(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


DROP_QTY = """
changes:
  - dropColumn: {tableName: item, columnName: note}
rollback:
  - addColumn: {tableName: item, columns: [{column: {name: note, type: varchar(20)}}]}
"""


def test_views_and_triggers_survive_recreation(sqlite_url: str, tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, DROP_QTY)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    views, triggers = schema_objects(db, "view"), schema_objects(db, "trigger")
    assert len(views) == 3 and len(triggers) == 4

    seen = {v: query(db, f"SELECT * FROM {v} ORDER BY 1, 2") for v in ("item_labels", "owner_items")}
    assert seen["owner_items"] == [("ann", "first"), ("ann", "x"), ("bo", "first"), ("bo", "y")]

    commands.update(sqlite_url, changelog)
    assert [row[1] for row in query(db, "PRAGMA table_info(item)")] == ["id", "owner_id", "label", "qty"]
    assert schema_objects(db, "view") == views
    assert schema_objects(db, "trigger") == triggers
    # and they work: the views read the new table, the triggers fire on it and into it
    assert {v: query(db, f"SELECT * FROM {v} ORDER BY 1, 2") for v in seen} == seen
    assert query(db, "SELECT * FROM labels_upper ORDER BY shout") == [("FIRST",), ("FIRST",), ("X",), ("Y",)]
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO owner (id, name) VALUES (3, 'cy')")
        conn.execute("INSERT INTO item_labels (id, label) VALUES (20, 'z')")
    assert query(db, "SELECT id, owner_id, label, qty FROM item WHERE id > 11 ORDER BY label") == [
        (12, 3, "first", 0),
        (20, None, "z", 0),
    ]

    commands.rollback(sqlite_url, changelog, tag="before")
    assert schema_objects(db, "view") == views
    assert schema_objects(db, "trigger") == triggers


def test_update_sql_script_does_what_update_does(sqlite_url: str, tmp_path: Path) -> None:
    """The preview drops and re-creates the same views and triggers: run on a copy, it gives the same database."""
    changelog = write_changelog(tmp_path, DROP_QTY)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    script = commands.update_sql(sqlite_url, changelog)
    assert "DROP VIEW labels_upper;" in script and "CREATE TRIGGER item_qty" in script

    commands.update(sqlite_url, changelog)
    with sqlite3.connect(copy) as conn:
        conn.executescript(script)
    # the same objects; Alembic lays out CREATE TABLE with tabs online and spaces in a script
    objects = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'DATABASECHANGELOG%' ORDER BY 2"
    assert [(*row[:3], " ".join((row[3] or "").split())) for row in query(copy, objects)] == [
        (*row[:3], " ".join((row[3] or "").split())) for row in query(db, objects)
    ]
    assert query(copy, "SELECT * FROM item ORDER BY id") == query(db, "SELECT * FROM item ORDER BY id")


def test_view_broken_by_the_change_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    """PostgreSQL refuses to drop a column a view uses; SQLite would leave the view failing on every use."""
    changelog = write_changelog(tmp_path, "changes: [{dropColumn: {tableName: item, columnName: label}}]")
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    before = query(db, "SELECT type, name, sql FROM sqlite_master ORDER BY 2")
    with pytest.raises(commands.MigrationError) as failure:
        commands.update(sqlite_url, changelog)
    assert "view item_labels no longer works" in str(failure.value)
    assert "no such column: label" in str(failure.value)
    assert query(db, "SELECT type, name, sql FROM sqlite_master ORDER BY 2") == before


def test_schema_object_named_like_a_column_is_kept(sqlite_url: str, tmp_path: Path) -> None:
    """Dependence is judged on identifiers: comments, strings and other tables' names do not count, quoted ones do."""
    setup = """
    - changeSet:
        id: setup
        author: test
        changes:
          - sql:
              endDelimiter: //
              sql: |
                CREATE TABLE "odd name" (id INTEGER PRIMARY KEY, gone INTEGER)
                //
                CREATE TABLE other (id INTEGER PRIMARY KEY)
                //
                CREATE VIEW quoted AS SELECT id FROM "Odd Name"
                //
                CREATE VIEW bracketed AS SELECT id FROM [odd name]
                //
                CREATE VIEW unrelated AS SELECT 'odd name' AS x, id FROM other -- odd name
                //
    """
    changelog = write_changelog(
        tmp_path, "changes: [{dropColumn: {tableName: odd name, columnName: gone}}]", textwrap.dedent(setup)
    )
    commands.update(sqlite_url, changelog, to_tag="before")
    script = commands.update_sql(sqlite_url, changelog)
    assert "DROP VIEW bracketed;\n\nDROP VIEW quoted;" in script
    assert "unrelated" not in script
    commands.update(sqlite_url, changelog)
    assert [name for name, _ in schema_objects(file_of(sqlite_url), "view")] == ["bracketed", "quoted", "unrelated"]


# --- foreign-key enforcement ----------------------------------------------------------------------------------


@pytest.fixture
def foreign_keys_on() -> Iterator[None]:
    """Every SQLite connection enforces foreign keys: SQLAlchemy's documented recipe, as applications register it."""

    def enable(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    sa.event.listen(sa.engine.Engine, "connect", enable)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "connect", enable)


FK_SETUP = """
- changeSet:
    id: setup
    author: test
    changes:
      - sql:
          endDelimiter: //
          sql: |
            CREATE TABLE owner (
              id INTEGER PRIMARY KEY, name VARCHAR(50), gone INTEGER,
              boss_id INTEGER REFERENCES owner (id) ON DELETE CASCADE
            )
            //
            CREATE TABLE item (
              id INTEGER PRIMARY KEY,
              owner_id INTEGER NOT NULL REFERENCES owner (id) ON DELETE CASCADE,
              keeper_id INTEGER REFERENCES owner (id) ON DELETE SET NULL,
              label VARCHAR(20)
            )
            //
            CREATE TABLE strict_item (id INTEGER PRIMARY KEY, owner_id INTEGER REFERENCES owner (id))
            //
            INSERT INTO owner (id, name, boss_id) VALUES (1, 'ann', NULL), (2, 'bo', 1)
            //
            INSERT INTO item (id, owner_id, keeper_id, label) VALUES (10, 1, 2, 'x'), (11, 2, 1, 'y')
            //
            INSERT INTO strict_item (id, owner_id) VALUES (20, 1)
            //
"""


@pytest.mark.parametrize("in_transaction", [True, False], ids=["transaction", "runInTransaction-false"])
def test_recreating_a_referenced_table_keeps_referencing_rows(
    in_transaction: bool, foreign_keys_on: None, sqlite_url: str, tmp_path: Path
) -> None:
    """With enforcement on, DROP TABLE of a parent would cascade-delete (or null, or refuse) the rows pointing at it."""
    under_test = "changes: [{dropColumn: {tableName: owner, columnName: gone}}]"
    if not in_transaction:
        under_test = f"runInTransaction: false\n{under_test}"
    changelog = write_changelog(tmp_path, under_test, FK_SETUP)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    rows = {t: query(db, f"SELECT * FROM {t} ORDER BY id") for t in ("item", "strict_item")}
    owners = query(db, "SELECT id, name, boss_id FROM owner ORDER BY id")

    commands.update(sqlite_url, changelog)
    assert query(db, "SELECT * FROM owner ORDER BY id") == owners  # self-reference: the copy keeps bo
    assert {t: query(db, f"SELECT * FROM {t} ORDER BY id") for t in ("item", "strict_item")} == rows
    with commands.connect(sqlite_url) as connection:  # enforcement is what the application set, afterwards too
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_enforcement_is_restored_on_the_connection(foreign_keys_on: None, sqlite_url: str) -> None:
    from yamlbase.runtime.sink import ConnectionSink

    with commands.connect(sqlite_url) as connection:
        sink = ConnectionSink(connection)
        with sink.transaction():
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(RuntimeError), sink.transaction():
            raise RuntimeError("a failing changeSet")
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_changeset_leaving_broken_references_is_refused(foreign_keys_on: None, sqlite_url: str, tmp_path: Path) -> None:
    """Enforcement is off during the changeSet, so it is checked before the commit, as SQLite's procedure says."""
    under_test = """
    changes:
      - sql: INSERT INTO item (id, owner_id, label) VALUES (12, 99, 'orphan')
      - dropColumn: {tableName: owner, columnName: gone}
    """
    changelog = write_changelog(tmp_path, under_test, FK_SETUP)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    before = query(db, "SELECT sql FROM sqlite_master ORDER BY name"), query(db, "SELECT * FROM item")
    with pytest.raises(commands.MigrationError) as failure:
        commands.update(sqlite_url, changelog)
    assert failure.value.changeset == "changelog.yaml::under-test::test"
    assert "1 row(s) of item reference missing owner rows" in str(failure.value)
    assert (query(db, "SELECT sql FROM sqlite_master ORDER BY name"), query(db, "SELECT * FROM item")) == before


def test_older_broken_references_do_not_block(foreign_keys_on: None, sqlite_url: str, tmp_path: Path) -> None:
    """Only violations the changeSet adds count: rows that broke a reference before are not its doing."""
    changelog = write_changelog(tmp_path, "changes: [{dropColumn: {tableName: owner, columnName: gone}}]", FK_SETUP)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    with sqlite3.connect(db) as conn:  # enforcement is off on this connection (SQLite's default)
        conn.execute("INSERT INTO strict_item (id, owner_id) VALUES (21, 42)")
    commands.update(sqlite_url, changelog)
    assert query(db, "SELECT * FROM strict_item ORDER BY id") == [(20, 1), (21, 42)]


def test_without_enforcement_nothing_changes(sqlite_url: str, tmp_path: Path) -> None:
    """SQLite's default (and Liquibase's): no enforcement, so an orphan row is the changelog's business."""
    under_test = "changes: [{sql: \"INSERT INTO item (id, owner_id, label) VALUES (12, 99, 'orphan')\"}]"
    changelog = write_changelog(tmp_path, under_test, FK_SETUP)
    commands.update(sqlite_url, changelog)
    assert query(file_of(sqlite_url), "SELECT id FROM item WHERE owner_id = 99") == [(12,)]


# --- the table itself -----------------------------------------------------------------------------------------

KITCHEN_SINK = """
- changeSet:
    id: setup
    author: test
    changes:
      - sql:
          endDelimiter: //
          sql: |
            CREATE TABLE parent (a INTEGER NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (a, b))
            //
            CREATE TABLE thing (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              code VARCHAR(10) COLLATE NOCASE NOT NULL DEFAULT 'x',
              qty INTEGER DEFAULT 0 CONSTRAINT ck_qty CHECK (qty >= 0),
              pa INTEGER,
              pb VARCHAR(10),
              keeper INTEGER CONSTRAINT fk_thing_keeper REFERENCES parent (a) ON DELETE SET NULL ON UPDATE CASCADE
                DEFERRABLE INITIALLY DEFERRED,
              created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
              ratio REAL DEFAULT (1.5 * 2),
              gone INTEGER CHECK (gone IS NULL OR gone > 0),
              CONSTRAINT uq_thing_code UNIQUE (code, pa),
              CONSTRAINT fk_thing_parent FOREIGN KEY (pa, pb) REFERENCES parent (a, b)
                ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
              CHECK (length(code) > 0)
            )
            //
            CREATE INDEX ix_thing_lower ON thing (lower(code))
            //
            CREATE INDEX ix_thing_big ON thing (qty) WHERE qty > 10
            //
            CREATE UNIQUE INDEX ux_thing_desc ON thing (pa DESC, code COLLATE BINARY)
            //
            CREATE INDEX ix_thing_gone ON thing (gone)
            //
            INSERT INTO parent VALUES (1, 'a'), (2, 'b')
            //
            INSERT INTO thing (code, qty, pa, pb, keeper, gone) VALUES ('A', 1, 1, 'a', 1, 5), ('b', 20, 2, 'b', 2, NULL),
              ('c', 3, 1, 'a', NULL, 7)
            //
            DELETE FROM thing WHERE code = 'c'
"""


def table_facts(path: Path) -> dict[str, Any]:
    """What SQLite itself says about thing: columns, indexes (with order and collation), foreign keys, checks."""
    indexes = {
        name: (unique, partial, query(path, f"PRAGMA index_xinfo({name})"), sql)
        for _, name, unique, _, partial in query(path, "PRAGMA index_list(thing)")
        for (sql,) in query(path, "SELECT sql FROM sqlite_master WHERE name = ?", name)
    }
    return {
        "columns": query(path, "PRAGMA table_info(thing)"),
        "indexes": indexes,
        # without the id, which follows the order the constraints are written in
        "foreign_keys": sorted(row[1:] for row in query(path, "PRAGMA foreign_key_list(thing)")),
        "rows": query(path, "SELECT id, code, qty, pa, pb, keeper, ratio FROM thing ORDER BY id"),
        "sequence": query(path, "SELECT seq FROM sqlite_sequence WHERE name = 'thing'"),
    }


def check_behaviour(path: Path) -> None:
    """The constraints still bite, and the collation and AUTOINCREMENT still hold."""
    db = sqlite3.connect(path)
    try:
        for bad in (
            "INSERT INTO thing (code, qty) VALUES ('z', -1)",  # ck_qty
            "INSERT INTO thing (code) VALUES ('')",  # the unnamed CHECK
            "INSERT INTO thing (code, pa) VALUES ('B', 2)",  # uq_thing_code, case-insensitive (NOCASE)
        ):
            with pytest.raises(sqlite3.IntegrityError):
                db.execute(bad)
        assert db.execute("SELECT id FROM thing WHERE code = 'a'").fetchall() == [(1,)]  # NOCASE
        db.execute("INSERT INTO thing (code) VALUES ('new')")
        assert db.execute("SELECT max(id) FROM thing").fetchone() == (4,)  # 3 was used once: never again
    finally:
        db.rollback()
        db.close()


def test_recreation_keeps_everything_about_the_table(sqlite_url: str, tmp_path: Path) -> None:
    changelog = write_changelog(
        tmp_path,
        """
        changes:
          - dropColumn: {tableName: thing, columnName: gone}
        rollback:
          - addColumn: {tableName: thing, columns: [{column: {name: gone, type: int}}]}
        """,
        KITCHEN_SINK,
    )
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    before = table_facts(db)
    assert before["sequence"] == [(3,)] and "ix_thing_gone" in before["indexes"]
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    script = commands.update_sql(sqlite_url, changelog)
    with sqlite3.connect(copy) as conn:
        conn.executescript(script)

    commands.update(sqlite_url, changelog)
    for path in (db, copy):  # update, and update-sql's script
        after = table_facts(path)
        assert after["columns"] == [c for c in before["columns"] if c[1] != "gone"]
        assert after["indexes"] == {k: v for k, v in before["indexes"].items() if k != "ix_thing_gone"}
        assert after["foreign_keys"] == before["foreign_keys"]
        assert after["rows"] == before["rows"]
        assert after["sequence"] == before["sequence"]
        check_behaviour(path)
    with commands.connect(sqlite_url) as connection:
        inspector = sa.inspect(connection)
        # reflection reads the column-level foreign key's name and clauses now that they are table-level
        assert {fk["name"]: fk["options"] for fk in inspector.get_foreign_keys("thing")} == {
            "fk_thing_parent": {"ondelete": "CASCADE", "deferrable": True, "initially": "DEFERRED"},
            "fk_thing_keeper": {
                "ondelete": "SET NULL",
                "onupdate": "CASCADE",
                "deferrable": True,
                "initially": "DEFERRED",
            },
        }
        # the CHECK on the dropped column went with it, as on PostgreSQL; the others stay
        assert sorted(str(c["sqltext"]) for c in inspector.get_check_constraints("thing")) == [
            "length(code) > 0",
            "qty >= 0",
        ]


def test_adding_a_constraint_keeps_everything_about_the_table(sqlite_url: str, tmp_path: Path) -> None:
    """addColumn with a unique constraint and a foreign key recreates the table too (SQLite cannot ADD CONSTRAINT)."""
    changelog = write_changelog(
        tmp_path,
        """
        changes:
          - addColumn:
              tableName: thing
              columns:
                - column:
                    name: serial
                    type: varchar(20)
                    constraints: {unique: true, uniqueConstraintName: uq_thing_serial}
        """,
        KITCHEN_SINK,
    )
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    before = table_facts(db)
    commands.update(sqlite_url, changelog)
    after = table_facts(db)
    assert after["columns"][:-1] == before["columns"] and after["columns"][-1][1] == "serial"
    assert {k: v for k, v in after["indexes"].items() if not k.startswith("sqlite_autoindex")} == {
        k: v for k, v in before["indexes"].items() if not k.startswith("sqlite_autoindex")
    }
    assert after["foreign_keys"] == before["foreign_keys"]
    assert after["rows"] == before["rows"] and after["sequence"] == before["sequence"]
    check_behaviour(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE thing SET serial = 's1' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE thing SET serial = 's1' WHERE id = 2")


# --- hundreds of tables ---------------------------------------------------------------------------------------

TABLES = 300


def many_tables_changelog(folder: Path) -> Path:
    """A hub table referenced by 300 tables, each with rows; Liquibase 4.28's rebuild fails past about 95."""
    create = [
        "CREATE TABLE hub (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, gone INTEGER)",
        "INSERT INTO hub (id, name, gone) VALUES (1, 'one', 1), (2, 'two', 2)",
    ]
    for n in range(TABLES):
        create.append(
            f"CREATE TABLE t{n:03} (id INTEGER PRIMARY KEY, "
            f"hub_id INTEGER NOT NULL REFERENCES hub (id) ON DELETE CASCADE, val VARCHAR(10))"
        )
        create.append(f"CREATE INDEX ix_t{n:03}_hub ON t{n:03} (hub_id)")
        create.append(f"INSERT INTO t{n:03} (id, hub_id, val) VALUES (1, 1, 'a{n}'), (2, 2, 'b{n}')")
    create.append("CREATE VIEW hub_names AS SELECT name FROM hub")
    statements = "\n//\n".join(create)
    setup = (
        "- changeSet:\n    id: setup\n    author: test\n    changes:\n      - sql:\n          endDelimiter: //\n"
        "          sql: |\n" + textwrap.indent(statements, "            ")
    )
    under_test = """
    changes:
      - dropColumn: {tableName: hub, columnName: gone}
      - addColumn:
          tableName: t150
          columns:
            - column: {name: code, type: varchar(10), constraints: {unique: true, uniqueConstraintName: uq_t150_code}}
            - column: {name: other_hub_id, type: int, constraints: {references: hub(id), foreignKeyName: fk_t150_hub}}
      - dropColumn: {tableName: t299, columnName: val}
    """
    return write_changelog(folder, under_test, setup)


@pytest.mark.parametrize("enforced", [False, True], ids=["foreign-keys-off", "foreign-keys-on"])
def test_hundreds_of_tables(enforced: bool, sqlite_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if enforced:
        request.getfixturevalue("foreign_keys_on")
    changelog = many_tables_changelog(tmp_path)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    rows = {n: query(db, f"SELECT id, hub_id FROM t{n:03} ORDER BY id") for n in range(TABLES)}
    assert len(query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't%'")) == TABLES

    commands.update(sqlite_url, changelog)
    assert query(db, "SELECT * FROM hub ORDER BY id") == [(1, "one"), (2, "two")]
    assert {n: query(db, f"SELECT id, hub_id FROM t{n:03} ORDER BY id") for n in range(TABLES)} == rows
    assert query(db, "SELECT val FROM t000 ORDER BY id") == [("a0",), ("b0",)]
    assert [row[1] for row in query(db, "PRAGMA table_info(t299)")] == ["id", "hub_id"]
    assert query(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 't299'") == [("ix_t299_hub",)]
    assert query(db, "SELECT * FROM hub_names ORDER BY name") == [("one",), ("two",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("UPDATE t150 SET code = 'k', other_hub_id = 2 WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE t150 SET code = 'k' WHERE id = 2")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE t150 SET other_hub_id = 3 WHERE id = 2")
        conn.execute("DELETE FROM hub WHERE id = 1")  # the cascades survived the recreation of hub
        assert conn.execute("SELECT count(*) FROM t042").fetchone() == (1,)


def test_rename_column_rewrites_what_names_it(sqlite_url: str, tmp_path: Path) -> None:
    """renameColumn is SQLite's RENAME COLUMN (3.25), which rewrites indexes, views and triggers; and back."""
    # labels_upper and item_labels_insert use item_labels.label, a column the rename takes away from that view:
    # SQLite refuses the rename while they exist (a clear error, not a broken view), so the changeSet drops them.
    under_test = """
    changes:
      - sql: DROP VIEW labels_upper
      - sql: DROP TRIGGER item_labels_insert
      - renameColumn: {tableName: item, oldColumnName: label, newColumnName: title, columnDataType: varchar(20)}
      - sql: CREATE INDEX ix_item_lower_title ON item (lower(title))
    rollback:
      - sql: DROP INDEX ix_item_lower_title
      - renameColumn: {tableName: item, oldColumnName: title, newColumnName: label, columnDataType: varchar(20)}
      - sql: CREATE VIEW labels_upper AS SELECT upper(label) AS shout FROM item_labels
      - sql:
          endDelimiter: //
          sql: |
            CREATE TRIGGER item_labels_insert INSTEAD OF INSERT ON item_labels
            BEGIN INSERT INTO item (id, label) VALUES (new.id, new.label); END
    """
    changelog = write_changelog(tmp_path, under_test)
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    objects = "SELECT type, name, sql FROM sqlite_master WHERE type != 'table' ORDER BY name"
    before = query(db, objects)
    seen = query(db, "SELECT * FROM owner_items ORDER BY 1, 2")

    commands.update(sqlite_url, changelog)
    after = dict((name, sql) for _, name, sql in query(db, objects))
    assert after["item_labels"] == "CREATE VIEW item_labels AS SELECT id, title FROM item"
    assert after["ix_item_label"] == "CREATE INDEX ix_item_label ON item (title)"
    assert "INSERT INTO item (owner_id, title)" in after["owner_first_item"]
    assert query(db, "SELECT * FROM owner_items ORDER BY 1, 2") == seen

    commands.rollback(sqlite_url, changelog, tag="before")
    assert query(db, objects) == before


def test_generated_columns_and_table_options_survive(sqlite_url: str, tmp_path: Path) -> None:
    """SQLite refuses to INSERT into a generated column: the copy leaves them to SQLite, each in its place."""
    setup = """
    - changeSet:
        id: setup
        author: test
        changes:
          - sql:
              endDelimiter: //
              sql: |
                CREATE TABLE g (
                  twice INT GENERATED ALWAYS AS (a * 2) VIRTUAL,
                  id INTEGER PRIMARY KEY,
                  a INT,
                  tag TEXT AS (lower('X' || a)) STORED,
                  gone INT,
                  next INT AS (a+1)
                )
                //
                CREATE INDEX ix_g_tag ON g (tag)
                //
                CREATE TABLE w (k TEXT PRIMARY KEY, v INT, gone INT) WITHOUT ROWID
                //
                CREATE TABLE s (id INTEGER PRIMARY KEY, v INT, gone INT) STRICT
                //
                INSERT INTO g (id, a, gone) VALUES (1, 5, 0), (2, 7, 0)
                //
                INSERT INTO w VALUES ('k', 1, 0)
                //
                INSERT INTO s VALUES (1, 1, 0)
    """
    under_test = """
    changes:
      - dropColumn: {tableName: g, columnName: gone}
      - dropColumn: {tableName: w, columnName: gone}
      - dropColumn: {tableName: s, columnName: gone}
    """
    changelog = write_changelog(tmp_path, under_test, textwrap.dedent(setup))
    db = file_of(sqlite_url)
    commands.update(sqlite_url, changelog, to_tag="before")
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    script = commands.update_sql(sqlite_url, changelog)
    with sqlite3.connect(copy) as conn:
        conn.executescript(script)

    commands.update(sqlite_url, changelog)
    for path in (db, copy):
        assert query(path, "SELECT * FROM g ORDER BY id") == [(10, 1, 5, "x5", 6), (14, 2, 7, "x7", 8)]
        # hidden: 2 = virtual generated, 3 = stored generated
        assert [(r[1], r[6]) for r in query(path, "PRAGMA table_xinfo(g)")] == [
            ("twice", 2), ("id", 0), ("a", 0), ("tag", 3), ("next", 2),
        ]  # fmt: skip
        assert query(path, "SELECT name FROM sqlite_master WHERE tbl_name = 'g' AND type = 'index'") == [("ix_g_tag",)]
        tables = dict(query(path, "SELECT name, sql FROM sqlite_master WHERE name IN ('w', 's')"))
        assert tables["w"].rstrip().endswith("WITHOUT ROWID") and tables["s"].rstrip().endswith("STRICT")
        assert query(path, "SELECT * FROM w") == [("k", 1)] and query(path, "SELECT * FROM s") == [(1, 1)]
    with sqlite3.connect(db) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO s (id, v) VALUES (2, 'not a number')")  # STRICT still holds
