"""Generated changeSets run, in the order generated, on each backend, and roll back to the schema before them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.generation_cases import V1, V1_TO_V2, V2, from_nothing
from yamlbase import commands
from yamlbase.structure.generate import changesets, to_yaml
from yamlbase.structure.model import Schema


def shape(url: str) -> dict[str, Any]:
    """Tables with their columns, keys, checks and indexes, and the views: as SQLAlchemy's inspector sees them."""
    with commands.connect(url) as connection:
        inspector = sa.inspect(connection)
        tables = sorted(t for t in inspector.get_table_names() if not t.lower().startswith(("database", "yamlbase")))
        found: dict[str, Any] = {"views": sorted(inspector.get_view_names())}
        for t in tables:
            found[t] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(t)],
                "pk": inspector.get_pk_constraint(t)["constrained_columns"],
                "fks": sorted(
                    (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in inspector.get_foreign_keys(t)
                ),
                "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(t)),
                "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(t)),
            }
        return found


def write(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(to_yaml(entries), encoding="utf-8")
    return path


def test_generated_versions_apply_and_roll_back(db_url: str, tmp_path: Path) -> None:
    first = changesets(from_nothing(V1), old=Schema("sqlite"), new=V1, author="t", message=None,
                       now=dt.datetime(2024, 1, 1))  # fmt: skip
    second = changesets(V1_TO_V2, old=V1, new=V2, author="t", message="v2", now=dt.datetime(2024, 1, 2))
    changelog = write(tmp_path / "changelog.yaml", first)

    assert len(commands.update(db_url, changelog)) == len(first)
    v1 = shape(db_url)
    assert [k for k in v1 if k != "views"] == ["authors", "books", "places", "shelves"]
    assert v1["views"] == ["cheap_books"]
    assert v1["books"]["fks"] == [("fk_books_author", ("author_id",), "authors")]
    with commands.connect(db_url) as connection:
        connection.exec_driver_sql("INSERT INTO authors (id, name) VALUES (1, 'Ann')")
        connection.exec_driver_sql("INSERT INTO books (id, author_id, title, legacy) VALUES (1, 1, 'Tales', 'x')")
        connection.commit()

    write(changelog, first + second)
    assert len(commands.update(db_url, changelog)) == len(second)
    v2 = shape(db_url)
    assert [k for k in v2 if k != "views"] == ["books", "eggs", "hens", "places", "reviews", "writers"]
    assert [c[0] for c in v2["books"]["columns"]] == ["id", "author_id", "title", "price", "in_print", "isbn"]
    assert v2["places"]["fks"] == []
    assert v2["eggs"]["fks"] == [("fk_eggs_hen", ("hen_id",), "hens")]
    assert v2["hens"]["fks"] == [("fk_hens_first_egg", ("first_egg_id",), "eggs")]
    assert ("ix_books_isbn", ("isbn",)) in v2["books"]["indexes"]
    with commands.connect(db_url) as connection:  # the renamed table kept its rows
        assert connection.exec_driver_sql("SELECT name FROM writers").scalars().all() == ["Ann"]
        assert connection.exec_driver_sql("SELECT in_print, price FROM books").one() in ((1, 0), (True, 0))

    commands.rollback(db_url, changelog, count=len(second))
    assert shape(db_url) == v1
    commands.rollback(db_url, changelog, count=len(first))
    assert shape(db_url) == {"views": []}
