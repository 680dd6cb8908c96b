"""The backend fixtures themselves: each test gets a fresh, empty, working database on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa


def _use_fresh_database(url: str) -> None:
    """Connect, check that nothing is there yet, then leave a table behind (the next test must not see it)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            assert sa.inspect(connection).get_table_names() == [], "the database is not empty at the start of a test"
            probe = sa.Table("probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
            probe.create(connection)  # no IF NOT EXISTS: fails if an earlier test's table were still there
            connection.execute(probe.insert(), [{"id": 1}, {"id": 2}])
        with engine.connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(probe)).scalar_one() == 2
            assert sa.inspect(connection).get_table_names() == ["probe"]
    finally:
        engine.dispose()


def test_database_is_empty_and_usable(db_url: str) -> None:
    _use_fresh_database(db_url)


def test_database_is_empty_again_in_the_next_test(db_url: str) -> None:
    _use_fresh_database(db_url)


def test_sqlite_url_is_a_new_file(sqlite_url: str) -> None:
    url = sa.make_url(sqlite_url)
    assert url.get_backend_name() == "sqlite"
    assert url.database and not Path(url.database).exists()
    _use_fresh_database(sqlite_url)


@pytest.mark.backend
def test_postgresql_url_is_a_new_database(postgresql_url: str) -> None:
    url = sa.make_url(postgresql_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.database and url.database.startswith("yb_")
    engine = sa.create_engine(postgresql_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT current_database()").scalar_one() == url.database
    finally:
        engine.dispose()
    _use_fresh_database(postgresql_url)
