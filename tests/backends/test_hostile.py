"""Hostile input on every backend: identifiers that look like SQL, values that try to end a string, passwords.

Names with quotes, backticks, semicolons, spaces, SQL keywords, ``%``, ``:``, ``?`` and mixed case go through
createTable, createIndex, addColumn, renameColumn, renameTable, dropIndex, dropColumn and dropTable (and the
rollbacks of the first five): each must work *as a name* (reflected back exactly) and inject nothing (a
sentinel table and its row survive). ``addColumn`` values land as the exact text. The same changelog rendered
by ``update-sql`` and executed as a plain script must do the same. A backend that cannot hold a name is an
explicit expectation of a clear error below (``CANNOT_HOLD``), never a skip.

Passwords in URLs must not reach output, history tables or exception text, whatever the command or failure.
"""

from __future__ import annotations

import sqlite3
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner, Result

from yamlbase import commands
from yamlbase.cli import main
from yamlbase.errors import MigrationError, YamlbaseError

NAMES = [
    'dq"uote',
    "back`tick",
    "it's",
    "semi;colon",
    "with space",
    "select",
    "drop",
    "table",
    "order",
    "MixedCase",
    'x"; DROP TABLE sentinel; --',
    "x`; DROP TABLE sentinel; --",
    "'); DROP TABLE sentinel; --",
    "per%cent",
    "%(name)s %s",
    "col:on :name",
    "what?",
    "back\\slash",
    "dot.ted",
    "ünï_表",
    "trailing ",
]
# Values written by addColumn into existing rows: bound (or, in a script, escaped) — never SQL.
VALUE = "'); DROP TABLE sentinel; --"
BACKSLASH_VALUE = "\\'); DROP TABLE sentinel; -- \\"
SENTINEL_ROWS = [(1, "intact")]

# Names a backend cannot hold, and the error that must say so (documented limits, not yamlbase's choice).
CANNOT_HOLD = {
    # MySQL/MariaDB: "Database, table, and column names cannot end with space characters" (error 1103/1166).
    ("mariadb", "trailing "): r"Incorrect (table|column) name",
}


def related_names(name: str) -> dict[str, str]:
    return {
        "table": name,
        "column": name,
        "index": f"ix {name}",
        "added": f"{name} added",
        "quoted": f"{name} bs",
        "renamed_column": f"{name} renamed",
        "renamed_table": f"{name} renamed",
    }


def changelog_for(name: str, insert_sql: str | None = None) -> dict[str, Any]:
    """Eight changeSets, one change each, all on names made from ``name``."""
    n = related_names(name)
    create: list[Any] = [
        {
            "createTable": {
                "tableName": n["table"],
                "columns": [
                    {"column": {"name": n["column"], "type": "int"}},
                    {"column": {"name": "id", "type": "int"}},
                ],
            }
        }
    ]
    if insert_sql is not None:
        create.append({"sql": {"sql": insert_sql}})
    steps: list[tuple[str, list[Any]]] = [
        ("create", create),
        (
            "index",
            [
                {
                    "createIndex": {
                        "tableName": n["table"],
                        "indexName": n["index"],
                        "columns": [{"column": {"name": n["column"]}}],
                    }
                }
            ],
        ),
        (
            "add",
            [
                {
                    "addColumn": {
                        "tableName": n["table"],
                        "columns": [
                            {"column": {"name": n["added"], "type": "varchar(100)", "value": VALUE}},
                            {"column": {"name": n["quoted"], "type": "varchar(100)", "value": BACKSLASH_VALUE}},
                        ],
                    }
                }
            ],
        ),
        (
            "rename-column",
            [
                {
                    "renameColumn": {
                        "tableName": n["table"],
                        "oldColumnName": n["column"],
                        "newColumnName": n["renamed_column"],
                        "columnDataType": "int",
                    }
                }
            ],
        ),
        ("rename-table", [{"renameTable": {"oldTableName": n["table"], "newTableName": n["renamed_table"]}}]),
        ("drop-index", [{"dropIndex": {"tableName": n["renamed_table"], "indexName": n["index"]}}]),
        ("drop-column", [{"dropColumn": {"tableName": n["renamed_table"], "columnName": n["added"]}}]),
        ("drop-table", [{"dropTable": {"tableName": n["renamed_table"]}}]),
    ]
    return {"databaseChangeLog": [{"changeSet": {"id": i, "author": "hostile", "changes": c}} for i, c in steps]}


def write_changelog(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def backend_of(url: str) -> str:
    return sa.make_url(url).get_backend_name()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """Plain SQLAlchemy on the test database, with the sentinel table and its row in place."""
    url = sa.make_url(db_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url)  # pooled: the test reflects after every step (disposed before the drop)
    sentinel = sa.Table("sentinel", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("note", sa.String(20)))
    with engine.begin() as connection:
        sentinel.create(connection)
        connection.execute(sentinel.insert(), [{"id": i, "note": note} for i, note in SENTINEL_ROWS])
    yield engine
    engine.dispose()


def assert_sentinel_intact(engine: sa.Engine) -> None:
    assert "sentinel" in sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, note FROM sentinel ORDER BY id")).all()
    assert [tuple(r) for r in rows] == SENTINEL_ROWS


def user_tables(engine: sa.Engine) -> list[str]:
    return sorted(
        t
        for t in sa.inspect(engine).get_table_names()
        # yamlbase's own bookkeeping (YAMLBASE_ROLLBACK holds what the drops captured) is no user table.
        if not t.lower().startswith(("databasechangelog", "yamlbase_")) and t != "sentinel"
    )


# SQLAlchemy's MySQL/MariaDB reflection parses SHOW CREATE TABLE and leaves a doubled backtick in column and
# index names (it returns 'back``tick'); information_schema has the names as they are.
_MYSQL_COLUMNS = sa.text(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = :t "
    "ORDER BY ordinal_position"
)
_MYSQL_INDEXES = sa.text(
    "SELECT index_name, column_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
    "AND table_name = :t ORDER BY index_name, seq_in_index"
)


def columns_of(engine: sa.Engine, table: str) -> list[str]:
    if engine.dialect.name in ("mysql", "mariadb"):
        with engine.connect() as connection:
            return list(connection.execute(_MYSQL_COLUMNS, {"t": table}).scalars())
    return [c["name"] for c in sa.inspect(engine).get_columns(table)]


def indexes_of(engine: sa.Engine, table: str) -> list[tuple[str, list[str]]]:
    if engine.dialect.name in ("mysql", "mariadb"):
        found: dict[str, list[str]] = {}
        with engine.connect() as connection:
            for index, column in connection.execute(_MYSQL_INDEXES, {"t": table}):
                found.setdefault(index, []).append(column)
        return sorted(found.items())
    return sorted((ix["name"] or "", list(ix["column_names"])) for ix in sa.inspect(engine).get_indexes(table))


def values_of(engine: sa.Engine, table: str, *columns: str) -> list[tuple[Any, ...]]:
    t = sa.table(table, *(sa.column(c) for c in columns))
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(*(t.c[c] for c in columns)))]


def history_ids(engine: sa.Engine) -> list[str]:
    name = next(t for t in sa.inspect(engine).get_table_names() if t.lower() == "databasechangelog")
    table = sa.Table(name, sa.MetaData(), autoload_with=engine)
    c = {col.name.lower(): col for col in table.columns}
    with engine.connect() as connection:
        return list(connection.execute(sa.select(c["id"]).order_by(c["orderexecuted"])).scalars())


def expect_state(engine: sa.Engine, name: str, after: str) -> None:
    """The schema after changeSet ``after`` (by id), reflected, compared exactly."""
    n = related_names(name)
    if after == "drop-table":
        assert user_tables(engine) == []
        return
    table = n["renamed_table"] if after in ("rename-table", "drop-index", "drop-column") else n["table"]
    column = (
        n["renamed_column"] if after in ("rename-column", "rename-table", "drop-index", "drop-column") else n["column"]
    )
    assert user_tables(engine) == [table]
    added = [] if after in ("create", "index") else [n["added"], n["quoted"]]
    if after == "drop-column":
        added = [n["quoted"]]
    assert columns_of(engine, table) == [column, "id", *added]
    indexed = after not in ("create", "drop-index", "drop-column")
    assert indexes_of(engine, table) == ([(n["index"], [column])] if indexed else [])
    assert values_of(engine, table, column, "id") == [(1, 1)]
    if added:
        expected = (VALUE, BACKSLASH_VALUE) if len(added) == 2 else (BACKSLASH_VALUE,)
        assert values_of(engine, table, *added) == [expected]
    assert_sentinel_intact(engine)


STEPS = ["create", "index", "add", "rename-column", "rename-table", "drop-index", "drop-column", "drop-table"]


@pytest.mark.parametrize("name", NAMES)
def test_hostile_names_work_as_names_and_inject_nothing(
    db_url: str, engine: sa.Engine, name: str, tmp_path: Path
) -> None:
    backend = backend_of(db_url)
    changelog = write_changelog(tmp_path, changelog_for(name))
    limit = CANNOT_HOLD.get((backend, name))
    if limit is not None:
        with pytest.raises(MigrationError, match=limit) as info:
            commands.update(db_url, changelog, count=1)
        assert "::create::hostile" in info.value.changeset
        assert user_tables(engine) == [] and history_ids(engine) == []
        assert_sentinel_intact(engine)
        return
    n = related_names(name)
    # Forward one changeSet at a time up to renameTable, with a row in the table before addColumn fills it.
    for step in STEPS[:5]:
        assert [cs.id for cs in commands.update(db_url, changelog, count=1)] == [step]
        if step == "create":
            row = sa.table(n["table"], sa.column(n["column"]), sa.column("id"))
            with engine.begin() as connection:
                connection.execute(row.insert().values({n["column"]: 1, "id": 1}))
        expect_state(engine, name, step)
    # Back to just after createTable: each rollback is the inverse change, on the same names.
    undone = commands.rollback(db_url, changelog, count=4)
    assert [row.id for row in undone] == ["rename-table", "rename-column", "add", "index"]
    expect_state(engine, name, "create")
    # Forward again, then the drops.
    assert [cs.id for cs in commands.update(db_url, changelog, count=4)] == STEPS[1:5]
    expect_state(engine, name, "rename-table")
    for step in STEPS[5:]:
        assert [cs.id for cs in commands.update(db_url, changelog, count=1)] == [step]
        expect_state(engine, name, step)
    assert history_ids(engine) == STEPS


def quote(backend: str, name: str) -> str:
    """An identifier as a person writes it in a script for ``backend`` (no driver escaping)."""
    if backend in ("mysql", "mariadb"):
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def run_script(url: str, script: str) -> None:
    """Execute a whole SQL script as a database's own client would (no parameters, so no % or : handling)."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        connection = sqlite3.connect(parsed.database or "")
        try:
            connection.executescript(script)
        finally:
            connection.close()
    elif backend == "postgresql":
        import psycopg

        with psycopg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password, dbname=parsed.database
        ) as connection:
            connection.execute(script)  # type: ignore[call-overload]
    else:
        import pymysql
        from pymysql.constants import CLIENT

        connection = pymysql.connect(
            host=parsed.host,
            port=parsed.port or 3306,
            user=parsed.username,
            password=parsed.password or "",
            database=parsed.database,
            client_flag=CLIENT.MULTI_STATEMENTS,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(script)
                while cursor.nextset():
                    pass
            connection.commit()
        finally:
            connection.close()


@pytest.mark.parametrize("name", NAMES)
def test_an_update_sql_script_does_what_update_does(
    db_url: str, engine: sa.Engine, name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    backend = backend_of(db_url)
    n = related_names(name)
    insert = f"INSERT INTO {quote(backend, n['table'])} ({quote(backend, n['column'])}, id) VALUES (1, 1)"
    changelog = write_changelog(tmp_path, changelog_for(name, insert_sql=insert))
    dialect = "mariadb" if backend == "mariadb" else backend
    # Up to renameTable, rendered for an empty database and run as a plain script.
    script = commands.update_sql(None, changelog, dialect=dialect, count=5)
    limit = CANNOT_HOLD.get((backend, name))
    if limit is not None:
        import pymysql

        with pytest.raises(pymysql.MySQLError, match=limit):
            run_script(db_url, script)
        assert_sentinel_intact(engine)
        return
    run_script(db_url, script)
    expect_state(engine, name, "rename-table")
    assert history_ids(engine) == STEPS[:5]
    # The rest rendered against the database as the script left it (its history read back), then run.
    rest = commands.update_sql(db_url, changelog)
    run_script(db_url, rest)
    expect_state(engine, name, "drop-table")
    assert history_ids(engine) == STEPS


def test_update_sql_on_a_database_without_history_tables(db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    changelog = write_changelog(tmp_path, changelog_for("plain"))
    script = commands.update_sql(db_url, changelog)
    assert "CREATE TABLE" in script and "plain" in script
    assert_sentinel_intact(engine)


# --- passwords -------------------------------------------------------------------------------------------------

PASSWORD = "s3cret-pw"
PASSWORD_CHANGELOG = """\
databaseChangeLog:
  - changeSet:
      id: one
      author: pw
      changes:
        - createTable:
            tableName: t
            columns:
              - column: {name: id, type: int}
  - changeSet:
      id: tag
      author: pw
      changes:
        - tagDatabase: {tag: v1}
  - changeSet:
      id: two
      author: pw
      changes:
        - addColumn:
            tableName: t
            columns:
              - column: {name: note, type: varchar(20)}
"""
FAILING_CHANGESET = """\
  - changeSet:
      id: fails
      author: pw
      changes:
        - sql: {sql: SELECT * FROM no_such_table_anywhere}
"""


def exception_texts(exc: BaseException | None) -> str:
    """Everything an exception could show: its traceback text and the text of every exception it chains to."""
    if exc is None:
        return ""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts += [str(exc), repr(exc), repr(getattr(exc, "args", ()))]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


class PasswordWatch:
    """Runs CLI commands with a password in the URL and collects everything they show."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: list[tuple[str, str]] = []

    def cli(self, *args: str, expect: set[int]) -> Result:
        result = CliRunner().invoke(main, list(args))
        shown = result.stdout + result.stderr + exception_texts(result.exception)
        self.seen.append((" ".join(args), shown))
        assert result.exit_code in expect, f"{args}: exit {result.exit_code}\n{shown}"
        return result

    def api(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (YamlbaseError, sa.exc.SQLAlchemyError) as exc:
            self.seen.append((f"{fn.__name__}{args}", exception_texts(exc)))
            return exc

    def assert_no_password(self) -> None:
        leaks = [what for what, shown in self.seen if PASSWORD in shown]
        assert not leaks, f"the password appears in the output or errors of: {leaks}"


def with_password(url: str, *, plain_scheme: bool = True) -> str:
    parsed = sa.make_url(url).set(password=PASSWORD)
    if plain_scheme:
        parsed = parsed.set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def table_values(engine: sa.Engine) -> list[str]:
    """Every value of both history tables, as text."""
    found: list[str] = []
    for name in sa.inspect(engine).get_table_names():
        if name.lower().startswith("databasechangelog"):
            with engine.connect() as connection:
                for row in connection.execute(sa.select(sa.Table(name, sa.MetaData(), autoload_with=engine))):
                    found += [str(v) for v in row]
    return found


@pytest.mark.backend
def test_a_password_in_the_url_never_shows(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in ("YAMLBASE_URL", "DATABASE_URL", "YAMLBASE_CHANGELOG_FILE", "YAMLBASE_LOCK_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    url = with_password(postgresql_url)
    assert url.startswith("postgresql://postgres:s3cret-pw@")
    good = tmp_path / "good.yaml"
    good.write_text(PASSWORD_CHANGELOG)
    bad = tmp_path / "bad.yaml"
    bad.write_text(PASSWORD_CHANGELOG + FAILING_CHANGESET)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("databaseChangeLog:\n  - changeSet: {id: 1}\n")
    watch = PasswordWatch(tmp_path)
    common = ("--url", url, "--changelog-file", str(good))
    for fmt in ((), ("--format", "json")):
        watch.cli("validate", *common, *fmt, expect={0})
        watch.cli("status", *common, *fmt, expect={0})
    watch.cli("update-count", "1", *common, expect={0})
    watch.cli("update-sql", *common, expect={0})  # after a first update: see test_update_sql_on_a_database_...
    watch.cli("update", *common, expect={0})
    watch.cli("update", *common, "--format", "json", expect={0})
    watch.cli("history", "--url", url, expect={0})
    watch.cli("history", "--url", url, "--format", "json", expect={0})
    watch.cli("tag-exists", "v1", "--url", url, expect={0})
    watch.cli("list-locks", "--url", url, expect={0})
    watch.cli("rollback-sql", "--count", "1", *common, expect={0})
    watch.cli("rollback-count", "1", *common, expect={0})
    watch.cli("rollback", "--tag", "v1", *common, expect={0})
    watch.cli("tag", "v2", "--url", url, expect={1})  # the last changeSet carries v1: refused, naming it
    watch.cli("tag", "v2", "--force", "--url", url, expect={0})
    watch.cli("release-locks", "--url", url, expect={0})
    # Failures: a changeSet that fails, an invalid changelog, a lock held by someone else, unreachable servers.
    watch.cli("update", "--url", url, "--changelog-file", str(bad), expect={1})
    watch.cli("update", "--url", url, "--changelog-file", str(bad), "--format", "json", expect={1})
    watch.cli("update", "--url", url, "--changelog-file", str(invalid), expect={2})
    engine = sa.create_engine(
        sa.make_url(postgresql_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool
    )
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE databasechangeloglock SET locked = true, lockedby = 'someone else'"))
    # LockError, or (on servers with advisory locks) the row recognised as left by a process that is gone.
    watch.cli("update", *common, "--lock-timeout", "0.1", expect={0, 1})
    watch.cli("release-locks", "--url", url, expect={0})
    parsed = sa.make_url(url)
    unreachable = [
        parsed.set(port=1).render_as_string(hide_password=False),  # nothing listens
        parsed.set(database="no_such_database").render_as_string(hide_password=False),
        parsed.set(host="host.invalid").render_as_string(hide_password=False),
        url.replace(f":{parsed.port}/", ":notaport/"),  # not a URL SQLAlchemy can parse
        url.replace("postgresql://", "nosuchdriver://"),
        url + "?sslmode=nonsense",
    ]
    for broken in unreachable:
        for command in (["update"], ["status"], ["history"], ["rollback-count", "1"], ["update-sql"]):
            watch.cli(*command, "--url", broken, "--changelog-file", str(good), expect={1, 2})
        watch.cli("update", "--url", broken, "--changelog-file", str(good), "--format", "json", expect={1, 2})
        watch.cli("update", "--url", broken, "--changelog-file", str(good), "--debug", expect={1, 2})
    # The Python API: the exceptions themselves, with everything they chain to.
    for broken in [url, *unreachable]:
        watch.api(commands.update, broken, bad)
        watch.api(commands.status, broken, good)
        watch.api(commands.history, broken)
    watch.assert_no_password()
    assert any("postgres:***@" in shown for _, shown in watch.seen), "no output named the database (masked)"
    assert not [v for v in table_values(engine) if PASSWORD in v]
    engine.dispose()


@pytest.mark.backend
def test_a_password_in_the_url_query_never_shows(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = sa.make_url(postgresql_url).set(drivername="postgresql", query={"password": PASSWORD})
    good = tmp_path / "good.yaml"
    good.write_text(PASSWORD_CHANGELOG)
    watch = PasswordWatch(tmp_path)
    text = url.render_as_string(hide_password=False)
    watch.cli("update", "--url", text, "--changelog-file", str(good), expect={0})
    watch.cli("update", "--url", text.replace(f":{url.port}/", ":1/"), "--changelog-file", str(good), expect={1})
    watch.assert_no_password()
