"""Hostile values (and a hostile column name) on every backend: text that tries to end a string, end a statement or look like SQL or like a
placeholder goes through insert, update, delete, whereParams, loadData and loadUpdateData and lands verbatim as
data, injecting nothing (the sentinel table and its row survive). The same changelog rendered by ``update-sql`` and
run as a plain script does exactly the same, so the literals it renders are quoted right for each database.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.backends.test_hostile import assert_sentinel_intact, backend_of, engine, run_script
from yamlbase import commands

__all__ = ["engine"]  # the fixture, shared with test_hostile

VALUES = [
    "O'Brien",
    "'); DROP TABLE sentinel; --",
    '"); DROP TABLE sentinel; --',
    "`; DROP TABLE sentinel; --",
    "x'; DELETE FROM sentinel WHERE 'a'='a",
    "semi;colon",
    "SELECT * FROM sentinel",
    "drop table",
    "back\\slash \\' still text \\",
    "100% :name :value ? %(x)s %s {0}",
    "tab\there",
    "line\nbreak",
    "ünï 表",
    "  padded",
    "$$ dollar $$ quoted $$",
    "/* comment */ -- too",
]
# The second value column's name is hostile too: CSV headers, SET and COPY column lists are identifiers, quoted.
VAL2 = 'v2"); DROP TABLE sentinel; -- `x`'


def changelog(folder: Path) -> Path:
    def changeset(ident: str, *changes: dict[str, Any]) -> dict[str, Any]:
        return {"changeSet": {"id": ident, "author": "hostile", "changes": list(changes)}}

    column = {"constraints": {"nullable": True}}
    create = {
        "createTable": {
            "tableName": "victim",
            "columns": [
                {"column": {"name": "id", "type": "int", "constraints": {"primaryKey": True}}},
                {"column": {"name": "val", "type": "varchar(200)", **column}},
                {"column": {"name": VAL2, "type": "varchar(200)", **column}},
            ],
        }
    }
    inserts = [
        {
            "insert": {
                "tableName": "victim",
                "columns": [{"column": {"name": "id", "valueNumeric": i}}, {"column": {"name": "val", "value": v}}],
            }
        }
        for i, v in enumerate(VALUES)
    ]
    updates = [
        {
            "update": {
                "tableName": "victim",
                "columns": [{"column": {"name": VAL2, "value": v}}],
                "where": ":name = :value AND id = ?",
                "whereParams": [
                    {"param": {"name": "val", "value": v}},
                    {"param": {"valueNumeric": i}},
                ],
            }
        }
        for i, v in enumerate(VALUES)
    ]
    deletes = [
        {
            "delete": {
                "tableName": "victim",
                "where": ":name = :value",
                "whereParams": [{"param": {"name": "val", "value": VALUES[1]}}],
            }
        }
    ]
    write_csv(folder / "load.csv", ["id", "val"], [(100 + i, v) for i, v in enumerate(VALUES)])
    write_csv(
        folder / "upsert.csv",
        ["id", VAL2],
        [(100 + i, v) for i, v in enumerate(reversed(VALUES))] + [(300, VALUES[1])],
    )
    data = {
        "databaseChangeLog": [
            changeset("create", create),
            changeset("insert", *inserts),
            changeset("update", *updates),
            changeset("delete", *deletes),
            changeset("load", {"loadData": {"tableName": "victim", "file": "load.csv"}}),
            changeset("upsert", {"loadUpdateData": {"tableName": "victim", "file": "upsert.csv", "primaryKey": "id"}}),
        ]
    }
    path = folder / "hostile-data.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_csv(path: Path, header: list[str], rows: list[tuple[Any, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def expected_rows() -> list[tuple[Any, ...]]:
    kept = [(i, v, v) for i, v in enumerate(VALUES) if i != 1]
    loaded = [(100 + i, v, w) for (i, v), w in zip(enumerate(VALUES), reversed(VALUES), strict=True)]
    return [*kept, *loaded, (300, None, VALUES[1])]


def victim_rows(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        victim = sa.table("victim", sa.column("id"), sa.column("val"), sa.column(VAL2))
        return [tuple(r) for r in connection.execute(sa.select(victim).order_by(victim.c.id))]


def test_hostile_values_land_verbatim_and_inject_nothing(db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    path = changelog(tmp_path)
    applied = commands.update(db_url, path)
    assert [cs.id for cs in applied] == ["create", "insert", "update", "delete", "load", "upsert"]
    assert victim_rows(engine) == expected_rows()
    assert_sentinel_intact(engine)


@pytest.mark.parametrize("against", ["empty", "live"])
def test_an_update_sql_script_lands_the_same_values(
    db_url: str, engine: sa.Engine, tmp_path: Path, against: str
) -> None:
    """update-sql's literals, run as a plain script, write exactly what update binds."""
    path = changelog(tmp_path)
    backend = backend_of(db_url)
    if against == "empty":
        run_script(db_url, commands.update_sql(None, path, dialect=backend))
    else:  # rendered against the database itself (the table exists: loadData reads its column types)
        commands.update(db_url, path, count=1)
        run_script(db_url, commands.update_sql(db_url, path))
    assert victim_rows(engine) == expected_rows()
    assert_sentinel_intact(engine)
