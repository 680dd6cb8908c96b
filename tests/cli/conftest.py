"""Fixtures for the end-to-end CLI tests: an empty working folder per test, the CLI run in-process, and
plain SQLAlchemy helpers that read a database's state without going through yamlbase."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from yamlbase.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "changelog"

# The example changelog's changeSets, in execution order (path::id::author), run from the working folder that
# holds changelog/ (Liquibase's default search path: FILENAME is relative to it).
EXAMPLE_IDS = [
    "changelog/schema/001-accounts.yaml::create-accounts::alice",
    "changelog/schema/001-accounts.yaml::create-sessions::alice",
    "changelog/schema/002-projects.yaml::create-project::bob",
    "changelog/schema/002-projects.yaml::create-issue::bob",
    "changelog/changelog.yaml::release-1.0::yamlbase",
    "changelog/releases/1.1-display-names.yaml::account-display-name::carol",
    "changelog/releases/1.1-display-names.yaml::plural-table-names::carol",
    "changelog/releases/1.2-drop-legacy-sessions.yaml::drop-legacy-sessions::dave",
    "changelog/releases/1.2-drop-legacy-sessions.yaml::seed-demo-project::dave",
    "changelog/releases/1.2-drop-legacy-sessions.yaml::issue-status::dave",
]

SETTINGS_VARIABLES = ("YAMLBASE_URL", "DATABASE_URL", "YAMLBASE_CHANGELOG_FILE", "YAMLBASE_LOCK_TIMEOUT")

GRANTED = dt.datetime(2024, 1, 2, 3, 4, 5)

Run = Callable[..., Result]
Write = Callable[[str, str], Path]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own empty folder, with no yamlbase settings inherited from the environment."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run() -> Run:
    """``run("update", "--url", url)``: the CLI in-process; stdout and stderr kept apart."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    return invoke


@pytest.fixture
def example(workdir: Path) -> Path:
    """A copy of the example changelog at ``changelog/`` in the working folder (the default path)."""
    shutil.copytree(EXAMPLE, workdir / "changelog")
    return workdir / "changelog" / "changelog.yaml"


@pytest.fixture
def example_ids() -> list[str]:
    return list(EXAMPLE_IDS)


@pytest.fixture
def write(workdir: Path) -> Write:
    """``write("changelog/changelog.yaml", yaml_text)``: a file in the working folder, dedented."""

    def write_file(relative: str, text: str) -> Path:
        path = workdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write_file


# --- reading a database directly ---------------------------------------------------------------------


def engine_for(url: str) -> sa.Engine:
    """An engine for ``url``; plain ``postgresql://`` goes through psycopg 3 (the driver installed)."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed, poolclass=sa.pool.NullPool)


@pytest.fixture
def db() -> Iterator[Callable[[str], DatabaseView]]:
    views: list[DatabaseView] = []

    def open_view(url: str) -> DatabaseView:
        view = DatabaseView(url)
        views.append(view)
        return view

    yield open_view
    for view in views:
        view.engine.dispose()


class DatabaseView:
    """What is in a database, read with SQLAlchemy alone (history and lock tables found whatever their case)."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)

    def _table(self, name: str) -> str | None:
        names = sa.inspect(self.engine).get_table_names()
        return next((n for n in names if n.lower() == name.lower()), None)

    def tables(self) -> list[str]:
        inspector = sa.inspect(self.engine)
        own = ("databasechangelog", "yamlbase_")  # the history, the lock and what drops captured
        return sorted(n for n in inspector.get_table_names() if not n.lower().startswith(own))

    def columns(self, table: str) -> list[str]:
        return [c["name"] for c in sa.inspect(self.engine).get_columns(table)]

    def scalars(self, sql: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.exec_driver_sql(sql).scalars())

    def history(self) -> list[tuple[Any, ...]]:
        """(FILENAME::ID::AUTHOR, ORDEREXECUTED, TAG, MD5SUM) of every DATABASECHANGELOG row, in order."""
        name = self._table("databasechangelog")
        if name is None:
            return []
        table = sa.Table(name, sa.MetaData(), autoload_with=self.engine)
        c = {col.name.lower(): col for col in table.columns}
        query = sa.select(c["filename"], c["id"], c["author"], c["orderexecuted"], c["tag"], c["md5sum"]).order_by(
            c["orderexecuted"]
        )
        with self.engine.connect() as connection:
            return [(f"{f}::{i}::{a}", order, tag, md5) for f, i, a, order, tag, md5 in connection.execute(query)]

    def history_ids(self) -> list[str]:
        return [row[0] for row in self.history()]

    def lock(self) -> tuple[bool, str | None] | None:
        """(LOCKED, LOCKEDBY) of the lock row, or None when there is no lock table."""
        name = self._table("databasechangeloglock")
        if name is None:
            return None
        table = sa.Table(name, sa.MetaData(), autoload_with=self.engine)
        c = {col.name.lower(): col for col in table.columns}
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(c["locked"], c["lockedby"]).where(c["id"] == 1)).one()
        return bool(row[0]), row[1]

    def hold_lock(self, holder: str, granted: dt.datetime = GRANTED) -> None:
        """Take DATABASECHANGELOGLOCK by hand, as another process would have left it."""
        name = self._table("databasechangeloglock")
        assert name is not None, "the lock table must exist first"
        table = sa.Table(name, sa.MetaData(), autoload_with=self.engine)
        c = {col.name.lower(): col for col in table.columns}
        with self.engine.begin() as connection:
            connection.execute(
                table.update()
                .where(c["id"] == 1)
                .values({c["locked"]: True, c["lockedby"]: holder, c["lockgranted"]: granted})
            )

    def snapshot(self) -> dict[str, Any]:
        """Tables (columns, indexes, foreign keys, row counts), history and lock rows: to show nothing changed."""
        inspector = sa.inspect(self.engine)
        shape: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            shape[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                "indexes": sorted((i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(table)),
                "foreign_keys": sorted(
                    (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in inspector.get_foreign_keys(table)
                ),
            }
        with self.engine.connect() as connection:
            rows = {
                table: connection.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
                for table in shape
                if not table.lower().startswith("databasechangelog")
            }
        return {"schema": shape, "rows": rows, "history": self.history(), "lock": self.lock()}


DbView = Callable[[str], DatabaseView]
