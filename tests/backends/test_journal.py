"""The facts the journal of an interrupted changeSet rests on, checked on the real servers: which statements
commit the open transaction (MariaDB), and whether a statement that was running took effect, as the structure
of the database shows it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from yamlbase import commands
from yamlbase.dialects import commits_implicitly
from yamlbase.runtime.journal import took_effect


def _backend(url: str) -> str:
    return sa.make_url(url).get_backend_name()


@pytest.mark.backend
@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE other (id INT)",
        "CREATE TEMPORARY TABLE scratch (id INT)",
        "ALTER TABLE t ADD COLUMN extra INT",
        "CREATE INDEX ix_t ON t (id)",
        "RENAME TABLE t TO renamed",
        "TRUNCATE TABLE t",
        "CREATE VIEW v AS SELECT id FROM t",
        "CREATE SEQUENCE s",
        "ANALYZE TABLE t",
        "/* why */ DROP TABLE t",
        "INSERT INTO t VALUES (2)",
        "UPDATE t SET id = 3",
        "DELETE FROM t",
        "SET @x = 1",
    ],
)
def test_the_statements_said_to_commit_implicitly_are_those_that_do(mariadb_url: str, statement: str) -> None:
    with commands.connect(mariadb_url) as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INT)")
        connection.exec_driver_sql("CREATE TABLE marker (id INT)")
        connection.commit()
        connection.exec_driver_sql("INSERT INTO marker VALUES (1)")  # in a transaction of its own
        connection.exec_driver_sql(statement)
        connection.rollback()
        committed = connection.exec_driver_sql("SELECT count(*) FROM marker").scalar() == 1
    assert commits_implicitly("mariadb", statement) == committed


# (setup, statement, per backend where it differs): each statement's effect shows in the structure.
TOLD = {
    "create table": ("", {"": "CREATE TABLE made (id INTEGER)"}),
    "drop table": ("CREATE TABLE made (id INTEGER)", {"": "DROP TABLE made"}),
    "add column": ("", {"": "ALTER TABLE t ADD COLUMN extra INTEGER"}),
    "drop column": (
        "ALTER TABLE t ADD COLUMN extra INTEGER",
        {"": "ALTER TABLE t DROP COLUMN extra"},
    ),
    "rename column": (
        "",
        {
            "mariadb": "ALTER TABLE t CHANGE name label VARCHAR(20) NULL",
            "": "ALTER TABLE t RENAME COLUMN name TO label",
        },
    ),
    "create index": ("", {"": "CREATE UNIQUE INDEX ix_t_name ON t (name)"}),
    "drop index": (
        "CREATE INDEX ix_t_name ON t (name)",
        {"mariadb": "DROP INDEX ix_t_name ON t", "": "DROP INDEX ix_t_name"},
    ),
    "add foreign key": (
        "CREATE TABLE child (id INTEGER, t_id INTEGER)",
        {"": "ALTER TABLE child ADD CONSTRAINT fk_child_t FOREIGN KEY(t_id) REFERENCES t (id)"},
    ),
    "drop foreign key": (
        "CREATE TABLE child (id INTEGER, t_id INTEGER, CONSTRAINT fk_child_t FOREIGN KEY(t_id) REFERENCES t (id))",
        {
            "mariadb": "ALTER TABLE child DROP FOREIGN KEY fk_child_t",
            "": "ALTER TABLE child DROP CONSTRAINT fk_child_t",
        },
    ),
    "rename table": ("", {"mariadb": "RENAME TABLE t TO renamed", "": "ALTER TABLE t RENAME TO renamed"}),
    "create view": ("", {"": "CREATE VIEW v AS SELECT id FROM t"}),
    "drop view": ("CREATE VIEW v AS SELECT id FROM t", {"": "DROP VIEW v"}),
}


# SQLite has no ALTER TABLE … ADD/DROP CONSTRAINT: these run on the servers only.
SERVERS_ONLY = ("add foreign key", "drop foreign key")


@pytest.fixture(
    params=[pytest.param("postgresql", marks=pytest.mark.backend), pytest.param("mariadb", marks=pytest.mark.backend)]
)
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


def _told(url: str, case: str) -> None:
    setup, statements = TOLD[case]
    statement = statements.get(_backend(url), statements[""])
    with commands.connect(url) as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))")
        if setup:
            connection.exec_driver_sql(setup)
        connection.commit()
        assert took_effect(connection, statement) is False
        connection.rollback()
        connection.exec_driver_sql(statement)
        connection.commit()
        assert took_effect(connection, statement) is True


@pytest.mark.parametrize("case", [c for c in TOLD if c not in SERVERS_ONLY])
def test_whether_a_statement_took_effect_is_told_by_the_structure(db_url: str, case: str) -> None:
    _told(db_url, case)


@pytest.mark.parametrize("case", SERVERS_ONLY)
def test_whether_a_constraint_statement_took_effect_is_told_by_the_structure(server_url: str, case: str) -> None:
    _told(server_url, case)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE t SET name = 'x'",
        "CREATE OR REPLACE VIEW v AS SELECT id FROM t",
        "ALTER TABLE gone ADD COLUMN c INTEGER",
    ],
    ids=["data", "replaced", "on-a-table-gone"],
)
def test_what_the_structure_does_not_show_cannot_be_told(db_url: str, statement: str) -> None:
    with commands.connect(db_url) as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))")
        connection.commit()
        assert took_effect(connection, statement) is None


@pytest.mark.backend
def test_an_index_postgresql_left_invalid_cannot_be_told_done(postgresql_url: str) -> None:
    statement = "CREATE UNIQUE INDEX CONCURRENTLY ix_t_name ON t (name)"
    with commands.connect(postgresql_url) as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))")
        connection.exec_driver_sql("INSERT INTO t VALUES (1, 'same'), (2, 'same')")
        connection.commit()
        connection.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(sa.exc.IntegrityError):  # as an interrupted one, it leaves an INVALID index behind
            connection.exec_driver_sql(statement)
        assert sa.inspect(connection).get_indexes("t"), "the invalid index is there"
        assert took_effect(connection, statement) is None
