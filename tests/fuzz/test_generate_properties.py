"""Properties of generation over generated ``MetaData`` (the structure properties' models), on each backend: the
changeSets diff-changelog writes from nothing build exactly what ``create_all`` builds; after a table or column
is taken away, the next diff's changeSets build exactly the smaller models, and rolling that batch back gives
the first schema again."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy.engine import Connection

from tests.fuzz.test_structure_properties import SERVER, SQLITE, TableSpec, _victim, _without, build, specs
from yamlbase import commands
from yamlbase.structure.compare import compare
from yamlbase.structure.model import Schema
from yamlbase.structure.reference import models_schema, scratch
from yamlbase.structure.reflect import reflect

T1, T2 = dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)


def _round_trip(tables: list[TableSpec], data: st.DataObject, target: str, dialect: str, dev: str | None) -> None:
    table, column = _victim(data.draw, tables)
    assume(column is not None or len(tables) > 1)  # models with no tables are refused, rightly
    v1, v2 = build(tables), build(_without(tables, table, column))
    with tempfile.TemporaryDirectory() as folder, scratch(target) as connection:
        changelog = Path(folder) / "changelog.yaml"
        first = commands.diff_changelog(changelog, models=v1, author="p", dev_url=dev, now=T1)
        commands.update(connection, changelog)
        assert compare(_reflected(connection), models_schema(v1, dialect=dialect, dev_url=dev)) == []
        assert commands.diff_changelog(changelog, models=v1, dev_url=dev, now=T2).path is None

        second = commands.diff_changelog(changelog, models=v2, author="p", dev_url=dev, now=T2)
        assert second.destructive  # a table or a column is gone
        commands.update(connection, changelog)
        assert compare(_reflected(connection), models_schema(v2, dialect=dialect, dev_url=dev)) == []
        commands.rollback(connection, changelog, count=len(second.changesets))
        assert compare(_reflected(connection), models_schema(v1, dialect=dialect, dev_url=dev)) == []
        assert len(first.changesets) == len(tables)


def _reflected(connection: Connection) -> Schema:
    """The schema on ``connection``, the reading transaction ended (yamlbase then runs its own)."""
    try:
        return reflect(connection)
    finally:
        connection.rollback()


@SQLITE
@given(tables=specs(), data=st.data())
def test_sqlite_generated_changesets_build_the_models(tables: list[TableSpec], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _round_trip(tables, data, f"sqlite:///{folder}/fuzz.db", "sqlite", None)


@pytest.mark.backend
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
@SERVER
@given(tables=specs(), data=st.data())
def test_server_generated_changesets_build_the_models(
    backend: str, request: pytest.FixtureRequest, tables: list[TableSpec], data: st.DataObject
) -> None:
    _round_trip(tables, data, request.getfixturevalue(f"{backend}_url"), backend, _dev(request, backend))


def _dev(request: pytest.FixtureRequest, backend: str) -> str:
    """Another empty database of the backend for the scratch builds, made once per test (not per example)."""
    from tests.conftest import _fresh_mariadb_database, _fresh_postgresql_database

    cache = request.node.__dict__.setdefault("_yamlbase_dev_urls", {})
    if backend not in cache:
        fresh = _fresh_postgresql_database if backend == "postgresql" else _fresh_mariadb_database
        databases = fresh(request.getfixturevalue(f"{backend}_server"))
        cache[backend] = next(databases)
        request.addfinalizer(lambda: next(databases, None))
    return str(cache[backend])
