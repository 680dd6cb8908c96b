"""Adopting a database built without yamlbase: ``create_all`` (and Alembic's table) with rows →
generate-changelog → applied to an empty database, the same schema → changelog-sync on the original → nothing
pending, the data untouched; with --data, the rows come along as CSV and loadData."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.backends.test_diff_changelog import models, schema_of
from yamlbase import commands
from yamlbase.errors import UsageError
from yamlbase.structure.compare import compare
from yamlbase.structure.reflect import BOOKKEEPING

NOW = dt.datetime(2024, 4, 1, 12, 0, 0)


def built_by_create_all(url: str) -> sa.MetaData:
    """The models' tables, Alembic's ``alembic_version``, and some rows, as an application left them."""
    dialect = commands.database_url(url).get_backend_name()
    metadata = models(1, dialect)
    engine = commands.create_engine(url)
    with engine.begin() as connection:
        metadata.create_all(connection)
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
        users = metadata.tables["users"]
        created = dt.datetime(2024, 1, 2, 3, 4, 5)
        connection.execute(users.insert().values(id=1, email="ann@example.org", name="Ann", created=created))
        connection.execute(users.insert().values(id=2, email="bob@example.org", name=None, active=False, score=1.5))
        connection.execute(metadata.tables["posts"].insert(), [{"id": 10, "user_id": 1, "title": 'It\'s, "quoted"'}])
        connection.execute(metadata.tables["tags"].insert(), [{"post_id": 10, "name": "news", "weight": 0.25}])
    engine.dispose()
    return metadata


def rows(url: str, tables: tuple[str, ...] = ("users", "posts", "tags", "alembic_version")) -> dict[str, object]:
    """Every row of ``tables``, read through their reflected types (SQLite's date-times as values, not text)."""
    with commands.connect(url) as connection:
        metadata = sa.MetaData()
        with warnings.catch_warnings():  # SQLite's expression index, which SQLAlchemy skips
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            metadata.reflect(connection, only=tables)
        return {t: sorted(tuple(r) for r in connection.execute(sa.select(metadata.tables[t]))) for t in tables}


def test_adopt_a_database_built_by_create_all(db_url: str, second_db_url: str, tmp_path: Path) -> None:
    built_by_create_all(db_url)
    before = rows(db_url)
    changelog = tmp_path / "changelog" / "changelog.yaml"

    result = commands.generate_changelog(db_url, output_file=changelog, author="adopter", now=NOW)

    assert result.path == changelog and sorted(result.tables) == ["posts", "tags", "users"]  # no alembic_version
    assert "alembic_version" not in changelog.read_text(encoding="utf-8")
    assert commands.validate(changelog).changesets[0].id == "20240401120000-1"
    assert len(commands.update(second_db_url, changelog)) == len(result.changesets)
    assert [d.describe() for d in compare(schema_of(second_db_url), schema_of(db_url))] == []

    recorded = commands.changelog_sync(db_url, changelog)
    assert [cs.id for cs in recorded] == result.changesets
    assert commands.status(db_url, changelog) == []
    assert rows(db_url) == before
    with pytest.raises(UsageError, match="exists"):
        commands.generate_changelog(db_url, output_file=changelog)  # never overwrites


def test_generate_with_data_and_filters(db_url: str, second_db_url: str, tmp_path: Path) -> None:
    built_by_create_all(db_url)
    changelog = tmp_path / "adopted.yaml"

    result = commands.generate_changelog(db_url, output_file=changelog, data=True, now=NOW)

    assert sorted(p.name for p in result.data_files) == ["posts.csv", "tags.csv", "users.csv"]
    assert (tmp_path / "data" / "posts.csv").read_text(encoding="utf-8").splitlines()[1].startswith("10,1,\"It's")
    commands.update(second_db_url, changelog)
    data = ("users", "posts", "tags")
    assert rows(second_db_url, data) == rows(db_url, data)
    commands.rollback(second_db_url, changelog, count=len(result.changesets))
    with commands.connect(second_db_url) as connection:
        left = sa.inspect(connection).get_table_names()
    assert [t for t in left if not BOOKKEEPING.fullmatch(t)] == []  # only yamlbase's and Liquibase's own tables

    only = commands.generate_changelog(db_url, output_file=tmp_path / "only.yaml", include="users|tags", exclude="tags")
    assert only.tables == ["users"]
