"""Rollbacks of dropView and dropSequence with no rollback block: the view's definition and the sequence's settings
(and where it stood) are captured before the drop and recreated by ``rollback``, on each backend that has them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.backends.test_capture import captured_rows
from tests.conftest import reflected
from yamlbase import commands
from yamlbase.errors import RollbackImpossibleError
from yamlbase.structure.compare import compare

SETUP = """
databaseChangeLog:
  - changeSet:
      id: setup
      author: t
      changes:
        - createTable:
            tableName: owner
            columns:
              - column: {name: id, type: int, constraints: {primaryKey: true}}
              - column: {name: name, type: varchar(50)}
        - createView:
            viewName: owner_names
            remarks: who owns things
            selectQuery: SELECT id AS owner_id, upper(name) AS shown FROM owner WHERE id > 0
        - createView:
            viewName: named_owners
            selectQuery: SELECT owner_id FROM owner_names WHERE shown LIKE '%N%'
  - changeSet:
      id: checked-views
      author: t
      dbms: postgresql, mariadb
      changes:
        - sql:
            dbms: postgresql
            sql: >
              CREATE VIEW checked_owners WITH (check_option=local, security_barrier=true)
              AS SELECT id, name FROM owner WHERE id < 100
        - sql:
            dbms: mariadb
            sql: >
              CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW checked_owners (owner, owner_name)
              AS SELECT id, name FROM owner WHERE id < 100 WITH CASCADED CHECK OPTION
      rollback: DROP VIEW checked_owners
  - changeSet:
      id: sequences
      author: t
      dbms: postgresql, mariadb
      changes:
        - createSequence: {sequenceName: used_seq, startValue: 5, incrementBy: 3, maxValue: 1000, cacheSize: 4}
        - createSequence: {sequenceName: fresh_seq, startValue: 7, incrementBy: -1, minValue: -50, maxValue: 7}
        - createSequence: {sequenceName: cycling_seq, startValue: 1, minValue: 1, maxValue: 3, cycle: true, cacheSize: 0}
        - createSequence: {sequenceName: spent_seq, startValue: 1, maxValue: 2, cacheSize: 0}
        - createSequence: {sequenceName: restarted_seq, startValue: 1}
        - sql: ALTER SEQUENCE restarted_seq RESTART WITH 20
        - sql:
            dbms: postgresql
            sql: >
              SELECT nextval('used_seq'), nextval('used_seq'), nextval('spent_seq'), nextval('spent_seq'),
              nextval('cycling_seq'), nextval('cycling_seq'), nextval('cycling_seq'), nextval('cycling_seq')
        - sql:
            dbms: mariadb
            sql: >
              SELECT nextval(used_seq), nextval(used_seq), nextval(spent_seq), nextval(spent_seq),
              nextval(cycling_seq), nextval(cycling_seq), nextval(cycling_seq), nextval(cycling_seq)
      rollback: DROP SEQUENCE used_seq; DROP SEQUENCE fresh_seq; DROP SEQUENCE cycling_seq; DROP SEQUENCE spent_seq;
        DROP SEQUENCE restarted_seq
  - changeSet:
      id: sequence-users
      author: t
      dbms: postgresql, mariadb
      changes:
        - sql:
            dbms: postgresql
            sql: >
              CREATE TABLE ticket (id bigint DEFAULT nextval('used_seq'), n int DEFAULT nextval('cycling_seq') + 1);
              ALTER SEQUENCE cycling_seq OWNED BY ticket.n
        - sql:
            dbms: mariadb
            sql: CREATE TABLE ticket (id bigint DEFAULT nextval(used_seq), n int DEFAULT (nextval(cycling_seq) + 1))
      rollback:
        - sql: {dbms: postgresql, sql: ALTER SEQUENCE cycling_seq OWNED BY NONE}
        - sql: DROP TABLE ticket
"""


def setup_changesets(url: str) -> int:
    """How many of SETUP's changeSets run on the backend (views with options and sequences: not on SQLite;
    tables whose defaults call a sequence, which PostgreSQL's DROP SEQUENCE … CASCADE drops)."""
    return 1 if backend(url) == "sqlite" else 4


def backend(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


SEQUENCES = ("postgresql", "mariadb")
DROPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dropView": ("- dropView: {viewName: named_owners}", ("sqlite", "postgresql", "mariadb")),
    "dropViewWithComment": (
        "- dropView: {viewName: named_owners}\n- dropView: {viewName: owner_names}",
        ("sqlite", "postgresql", "mariadb"),
    ),
    "dropCheckedView": ("- dropView: {viewName: checked_owners}", ("postgresql", "mariadb")),
    "dropUsedSequence": ("- dropSequence: {sequenceName: used_seq}", SEQUENCES),
    "dropFreshSequence": ("- dropSequence: {sequenceName: fresh_seq}", SEQUENCES),
    "dropCyclingSequence": ("- dropSequence: {sequenceName: cycling_seq}", SEQUENCES),
    "dropSpentSequence": ("- dropSequence: {sequenceName: spent_seq}", SEQUENCES),
    "dropRestartedSequence": ("- dropSequence: {sequenceName: restarted_seq}", SEQUENCES),
    "dropViewsAndSequence": (
        "- dropView: {viewName: named_owners}\n- dropView: {viewName: owner_names}\n"
        "- dropSequence: {sequenceName: used_seq}",
        SEQUENCES,
    ),
}


def changelog_with(tmp_path: Path, changes: str) -> Path:
    text = SETUP + textwrap.indent(
        "- changeSet:\n    id: drop\n    author: t\n    changes:\n" + textwrap.indent(changes, " " * 6) + "\n",
        "  ",
    )
    path = tmp_path / "changelog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def state(url: str) -> dict[str, Any]:
    """The schema (tables, views with their definitions, sequences with their settings, comments), and where each
    sequence stands."""
    result: dict[str, Any] = {"schema": reflected(url)}
    with commands.connect(url) as connection:
        if connection.dialect.name == "postgresql":
            names = sa.inspect(connection).get_sequence_names()
            result["positions"] = {
                n: connection.exec_driver_sql(f'SELECT last_value, is_called FROM "{n}"').one() for n in names
            }
            rows = connection.exec_driver_sql(
                "SELECT relname, reloptions, obj_description(oid, 'pg_class') FROM pg_class WHERE relkind = 'v'"
            )
            result["view_options_and_comments"] = {name: (options, comment) for name, options, comment in rows}
            rows = connection.exec_driver_sql(
                "SELECT c.relname, d.refobjid::regclass::text, d.refobjsubid FROM pg_depend d "
                "JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass "
                "WHERE c.relkind = 'S' AND d.deptype = 'a'"
            )
            result["sequence_owners"] = sorted(rows.all())
            # The settings of every sequence: the model leaves those a column owns out of its sequences.
            rows = connection.exec_driver_sql(
                "SELECT sequencename, data_type::text, start_value, increment_by, min_value, max_value, cache_size, "
                "cycle FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename"
            )
            result["sequence_settings"] = [tuple(r) for r in rows]
        elif connection.dialect.name == "mariadb":
            names = sa.inspect(connection).get_sequence_names()
            result["positions"] = {
                n: connection.exec_driver_sql(f"SELECT next_not_cached_value, cycle_count FROM `{n}`").one()
                for n in names
            }
        return result


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two states alike: the schemas compare equal and so does everything else."""
    rest = lambda state: {k: v for k, v in state.items() if k != "schema"}  # noqa: E731
    return compare(a["schema"], b["schema"]) == [] and rest(a) == rest(b)


@pytest.mark.parametrize(
    ("drop", "server"),
    [
        pytest.param(drop, server, id=f"{drop}-{server}", marks=[pytest.mark.backend] if server != "sqlite" else [])
        for drop, (_, backends) in DROPS.items()
        for server in ("sqlite", "postgresql", "mariadb")
        if server in backends  # only the databases that have such objects
    ],
)
def test_rollback_recreates_the_dropped_view_or_sequence(
    server: str, tmp_path: Path, drop: str, request: pytest.FixtureRequest
) -> None:
    db_url = str(request.getfixturevalue(f"{server}_url"))
    changes, _ = DROPS[drop]
    changelog = changelog_with(tmp_path, changes)
    commands.update(db_url, changelog, count=setup_changesets(db_url))
    before = state(db_url)
    assert before["schema"].views and (before["schema"].sequences or backend(db_url) == "sqlite")
    if backend(db_url) == "postgresql":  # what must come back besides the query
        assert before["sequence_owners"] == [("cycling_seq", "ticket", 2)]
        defaults = {c.name: c.default for c in before["schema"].tables["ticket"].columns}
        assert defaults == {"id": "nextval('used_seq'::regclass)", "n": "(nextval('cycling_seq'::regclass) + 1)"}
        assert before["view_options_and_comments"]["owner_names"] == (None, "who owns things")
        assert before["view_options_and_comments"]["checked_owners"] == (
            ["check_option=local", "security_barrier=true"],
            None,
        )

    commands.update(db_url, changelog)
    assert not same(before, state(db_url))
    [(_, id_, _, _)] = captured_rows(db_url)
    assert id_ == "drop"

    commands.rollback(db_url, changelog, count=1)
    assert same(before, state(db_url))
    assert captured_rows(db_url) == []

    # The restored objects are the real thing: dropped again, restored again, then everything undone.
    commands.update(db_url, changelog)
    commands.rollback(db_url, changelog, count=1)
    assert same(before, state(db_url))
    commands.rollback(db_url, changelog, count=setup_changesets(db_url))
    after = state(db_url)["schema"]
    assert after.views == {} and after.sequences == {}


@pytest.mark.backend
@pytest.mark.parametrize("dialect", SEQUENCES)
def test_a_recreated_sequence_goes_on_where_it_stood(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue(f"{dialect}_url"))
    names = ("used_seq", "spent_seq", "cycling_seq", "fresh_seq", "restarted_seq")
    changelog = changelog_with(tmp_path, "\n".join(f"- dropSequence: {{sequenceName: {n}}}" for n in names))
    commands.update(url, changelog)
    commands.rollback(url, changelog, count=1)
    with commands.connect(url) as connection:

        def nextval(name: str) -> Any:
            argument = f"'{name}'" if dialect == "postgresql" else name
            return connection.exec_driver_sql(f"SELECT nextval({argument})").scalar()

        # 5 and 8 were given out from a cache of 4 values (5, 8, 11, 14): it goes on after the cache, and the
        # column default that calls it works again.
        connection.exec_driver_sql("INSERT INTO ticket (n) VALUES (0)")
        assert connection.exec_driver_sql("SELECT id FROM ticket").scalar() == 17
        assert nextval("used_seq") == 20
        # No cache: exactly where it stood (1, 2, 3, 1 were given out).
        assert nextval("cycling_seq") == 2
        assert nextval("fresh_seq") == 7
        assert nextval("restarted_seq") == 20  # restarted, not read since
        with pytest.raises(sa.exc.DBAPIError, match=r"reached maximum value|has run out"):
            nextval("spent_seq")


def test_rollback_sql_shows_the_recreated_view(db_url: str, tmp_path: Path) -> None:
    changelog = changelog_with(tmp_path, DROPS["dropView"][0])
    commands.update(db_url, changelog)
    before = state(db_url)

    sql = commands.rollback_sql(db_url, changelog, count=1)

    assert same(before, state(db_url)), "rollback-sql changes nothing"
    assert "-- view named_owners is recreated as captured before the drop" in sql
    create = next(line for line in sql.splitlines() if line.upper().startswith("CREATE"))
    assert "named_owners" in create and "VIEW" in create.upper()
    assert "owner_names" in sql[sql.index(create) :]


@pytest.mark.backend
@pytest.mark.parametrize("dialect", SEQUENCES)
def test_rollback_sql_shows_the_recreated_sequence(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue(f"{dialect}_url"))
    changelog = changelog_with(tmp_path, DROPS["dropUsedSequence"][0] + "\n- dropSequence: {sequenceName: fresh_seq}")
    commands.update(url, changelog)

    sql = commands.rollback_sql(url, changelog, count=1)

    assert (
        "-- sequence fresh_seq is recreated as captured before the drop; it starts at its start value 7, where it stood"
        in sql
    )
    if dialect == "postgresql":
        assert (
            "-- sequence used_seq is recreated as captured before the drop; it goes on after 14, the last value it had"
            " given out or cached; the defaults of ticket.id call it again\n" in sql
        )
        assert "ALTER TABLE ticket ALTER COLUMN id SET DEFAULT nextval('used_seq'::regclass)" in sql
        assert "CREATE SEQUENCE used_seq AS bigint INCREMENT BY 3 START WITH 5 MINVALUE 1 MAXVALUE 1000 CACHE 4" in sql
        assert "SELECT setval('used_seq', 14, true)" in sql
    else:
        assert "-- sequence used_seq is recreated as captured before the drop; it goes on from 17" in sql
        assert "CREATE SEQUENCE used_seq INCREMENT BY 3 START WITH 5 MINVALUE 1 MAXVALUE 1000 CACHE 4" in sql
        assert "ALTER SEQUENCE used_seq RESTART WITH 17" in sql
    assert "CREATE SEQUENCE fresh_seq" in sql and "RESTART WITH 7" not in sql and "setval('fresh_seq'" not in sql


def test_drop_applied_without_capture_is_refused_with_the_reason(db_url: str, tmp_path: Path) -> None:
    changelog = changelog_with(tmp_path, DROPS["dropView"][0])
    commands.update(db_url, changelog, count=setup_changesets(db_url))
    commands.mark_next_changeset_ran(db_url, changelog)  # as after Liquibase ran it: nothing was captured

    with pytest.raises(RollbackImpossibleError) as raised:
        commands.rollback(db_url, changelog, count=1)

    message = str(raised.value)
    assert (
        "dropView on view named_owners cannot be rolled back automatically: its definition was not captured" in message
    )
    assert "add a rollback block" in message


def test_a_drop_of_nothing_is_refused_when_rolled_back(db_url: str, tmp_path: Path) -> None:
    # dropView ifExists of a view that is not there: nothing was captured to recreate.
    changelog = changelog_with(tmp_path, "- dropView: {viewName: no_such_view, ifExists: true}")
    commands.update(db_url, changelog)
    with pytest.raises(
        RollbackImpossibleError, match="no_such_view cannot be rolled back automatically: it did not exist"
    ):
        commands.rollback(db_url, changelog, count=1)


@pytest.mark.backend
def test_objects_in_another_schema_come_back_there(postgresql_url: str, tmp_path: Path) -> None:
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(
        textwrap.dedent(
            """
            databaseChangeLog:
              - changeSet:
                  id: schema
                  author: t
                  changes:
                    - sql: CREATE SCHEMA "App"
                    - createView: {schemaName: App, viewName: Its View, selectQuery: "SELECT 1 AS one"}
                    - createSequence: {schemaName: App, sequenceName: Its Seq, startValue: 3}
                    - sql: SELECT nextval('"App"."Its Seq"')
                  rollback: DROP SCHEMA "App" CASCADE
              - changeSet:
                  id: drop
                  author: t
                  changes:
                    - dropView: {schemaName: App, viewName: Its View}
                    - dropSequence: {schemaName: App, sequenceName: Its Seq}
            """
        ),
        encoding="utf-8",
    )

    def objects() -> Any:
        return reflected(postgresql_url, schema="App")

    commands.update(postgresql_url, changelog, count=1)
    before = objects()
    assert list(before.views) == ["App.Its View"] and list(before.sequences) == ["App.Its Seq"]
    commands.update(postgresql_url, changelog)
    assert objects().views == {} and objects().sequences == {}

    sql = commands.rollback_sql(postgresql_url, changelog, count=1)
    assert 'CREATE VIEW "App"."Its View" AS' in sql
    assert 'SELECT setval(\'"App"."Its Seq"\', 3, true)' in sql

    commands.rollback(postgresql_url, changelog, count=1)
    assert compare(before, objects()) == []
    with commands.connect(postgresql_url) as connection:
        assert connection.exec_driver_sql("""SELECT nextval('"App"."Its Seq"')""").scalar() == 4


PROCEDURES = """
databaseChangeLog:
  - changeSet:
      id: procedures
      author: t
      changes:
        - createTable:
            tableName: counter
            columns: [{column: {name: n, type: int}}]
        - createProcedure:
            dbms: postgresql
            procedureText: |
              CREATE PROCEDURE bump(IN step int DEFAULT 1)
              LANGUAGE plpgsql SECURITY DEFINER
              AS $body$ BEGIN UPDATE counter SET n = n + step; END $body$;
        - createProcedure:
            dbms: mariadb
            procedureText: |
              CREATE PROCEDURE bump(IN step int)
              SQL SECURITY INVOKER COMMENT 'adds step' MODIFIES SQL DATA
              BEGIN UPDATE counter SET n = n + step; END;
      rollback: DROP PROCEDURE bump; DROP TABLE counter
  - changeSet:
      id: drop
      author: t
      changes:
        - dropProcedure: {procedureName: bump}
"""


def procedures(url: str) -> dict[str, Any]:
    with commands.connect(url) as connection:
        if connection.dialect.name == "postgresql":
            sql = "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE prokind = 'p' AND proname = 'bump'"
        else:
            sql = (
                "SELECT routine_name, concat_ws('|', routine_definition, security_type, routine_comment, sql_data_access,"
                " sql_mode, parameter_style) FROM information_schema.routines WHERE routine_schema = database()"
            )
        return dict(connection.exec_driver_sql(sql).all())


@pytest.mark.backend
@pytest.mark.parametrize("dialect", SEQUENCES)
def test_a_dropped_procedure_comes_back_from_its_text(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue(f"{dialect}_url"))
    changelog = tmp_path / "changelog.yaml"
    changelog.write_text(PROCEDURES, encoding="utf-8")
    commands.update(url, changelog, count=1)
    before = procedures(url)
    assert list(before) == ["bump"]
    commands.update(url, changelog)
    assert procedures(url) == {}

    sql = commands.rollback_sql(url, changelog, count=1)
    assert "-- procedure bump is recreated as captured before the drop (privileges granted on it are not)" in sql
    assert "DEFINER=" not in sql

    commands.rollback(url, changelog, count=1)
    assert procedures(url) == before
    with commands.connect(url) as connection:
        connection.exec_driver_sql("INSERT INTO counter (n) VALUES (1)")
        connection.exec_driver_sql("CALL bump(41)")
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 42


def test_update_testing_rollback_passes_drops_of_views_and_sequences(db_url: str, tmp_path: Path) -> None:
    changes = DROPS["dropViewsAndSequence"][0] if backend(db_url) in SEQUENCES else DROPS["dropViewWithComment"][0]
    changelog = changelog_with(tmp_path, changes)
    commands.update(db_url, changelog, count=setup_changesets(db_url))
    before = state(db_url)

    [applied] = commands.update_testing_rollback(db_url, changelog)

    assert applied.key[1] == "drop"
    after = state(db_url)["schema"]
    assert after.views == {k: v for k, v in before["schema"].views.items() if k not in ("named_owners", "owner_names")}
    commands.rollback(db_url, changelog, count=1)
    assert same(before, state(db_url))
