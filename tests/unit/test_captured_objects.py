"""Views and sequences rebuilt from a capture, as SQL per dialect (no database): the generated inverses of dropView
and dropSequence, what ``rollback-sql`` says about them, and why they are refused when nothing was captured."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.unit.test_sql_golden import changes_from, laid_out, normal
from yamlbase.changes import Change, NoInverse, PlanContext
from yamlbase.changes.captured import notes
from yamlbase.changes.procedure import RecreateProcedure
from yamlbase.changes.sequence import RecreateSequence
from yamlbase.changes.view import RecreateView
from yamlbase.runtime.sink import TextSink


def render(dialect: str, *changes: Change) -> str:
    out = io.StringIO()
    sink = TextSink(dialect, out)
    for change in changes:
        sink.apply(change)
    return normal(out.getvalue())


def view(definition: str, **attrs: Any) -> dict[str, Any]:
    return {"schema": None, "name": "v", "definition": definition, "options": [], "comment": None, **attrs}


def sequence(**attrs: Any) -> dict[str, Any]:
    base = {"schema": None, "name": "s", "data_type": None, "start": 5, "increment": -2, "min": -10, "max": 5}
    return {**base, "cache": 1, "cycle": False, "restart": None, **attrs}


def inverse_of(change: str, dialect: str, captured: dict[str, Any] | None) -> list[Change]:
    (model,) = changes_from(change)
    return model.inverse(PlanContext(dialect, captured=captured))


def test_a_sqlite_view_comes_back_from_its_create_view_text() -> None:
    # SQLite keeps the statement as written: what follows the name is restated under the captured name.
    captured = view('CREATE VIEW IF NOT EXISTS "v" -- the names\n AS SELECT 1 AS "one"', schema="aux")
    assert render("sqlite", RecreateView(captured=captured)) == laid_out(
        "sqlite", 'CREATE VIEW aux.v\n AS SELECT 1 AS "one"'
    )


def test_a_postgresql_view_comes_back_with_its_options_and_comment() -> None:
    captured = view(
        " SELECT owner.id\n   FROM owner\n  WHERE (owner.name ~~ '%n%'::text);",
        name="Its View",
        options=["check_option=local", "security_barrier=true"],
        comment="it's",
    )
    assert render("postgresql", RecreateView(captured=captured)) == laid_out(
        "postgresql",
        'CREATE VIEW "Its View" WITH (check_option=local, security_barrier=true) AS SELECT owner.id\n'
        "   FROM owner\n  WHERE (owner.name ~~ '%n%'::text)",
        """COMMENT ON VIEW "Its View" IS 'it''s'""",
    )


@pytest.mark.parametrize("dialect", ["mysql", "mariadb"])
def test_a_mysql_view_comes_back_as_the_server_rewrote_it_without_its_definer(dialect: str) -> None:
    captured = view(
        "CREATE ALGORITHM=MERGE DEFINER=`ro``ot`@`%` SQL SECURITY INVOKER VIEW `v` AS select `owner`.`id` AS `id` "
        "from `owner` where `owner`.`name` like '%n%' WITH LOCAL CHECK OPTION"
    )
    recreate = RecreateView(captured=captured)
    assert render(dialect, recreate) == laid_out(
        dialect,
        "CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `v` AS select `owner`.`id` AS `id` from `owner` "
        "where `owner`.`name` like '%n%' WITH LOCAL CHECK OPTION",
    )
    assert notes([recreate]) == [
        "view v is recreated as captured before the drop; its DEFINER is the user running the rollback"
    ]


def test_sql_server_and_oracle_views_come_back_from_their_definitions() -> None:
    # SQL Server reports the whole CREATE VIEW, Oracle the query alone.
    mssql = view("CREATE VIEW dbo.v AS SELECT 1 AS one", schema="dbo")
    assert render("mssql", RecreateView(captured=mssql)) == laid_out("mssql", "CREATE VIEW dbo.v AS SELECT 1 AS one")
    oracle = view("SELECT 1 AS one FROM dual")
    assert render("oracle", RecreateView(captured=oracle)) == laid_out(
        "oracle", "CREATE VIEW v AS SELECT 1 AS one FROM dual"
    )


def test_a_postgresql_sequence_comes_back_after_the_last_value_it_gave_out() -> None:
    captured = sequence(data_type="integer", cycle=True, restart={"value": -3, "used": True})
    recreate = RecreateSequence(captured=captured)
    assert render("postgresql", recreate) == laid_out(
        "postgresql",
        "CREATE SEQUENCE s AS integer INCREMENT BY -2 START WITH 5 MINVALUE -10 MAXVALUE 5 CACHE 1 CYCLE",
        "SELECT setval('s', -3, true)",
    )
    assert notes([recreate]) == [
        "sequence s is recreated as captured before the drop; it goes on after -3, the last value it had given out "
        "or cached"
    ]


def test_a_mariadb_sequence_goes_on_from_where_it_stood_or_stays_spent() -> None:
    going_on = RecreateSequence(captured=sequence(cache=0, restart={"value": 1, "used": False}))
    assert render("mariadb", going_on) == laid_out(
        "mariadb",
        "CREATE SEQUENCE s INCREMENT BY -2 START WITH 5 MINVALUE -10 MAXVALUE 5 CACHE 0",
        "ALTER SEQUENCE s RESTART WITH 1",
    )
    spent = RecreateSequence(captured=sequence(schema="other", restart={"value": -10, "used": True}))
    assert render("mariadb", spent) == laid_out(
        "mariadb",
        "CREATE SEQUENCE other.s INCREMENT BY -2 START WITH 5 MINVALUE -10 MAXVALUE 5 CACHE 1",
        "SELECT SETVAL(other.s, -10, 1)",
    )
    untouched = RecreateSequence(captured=sequence())
    assert render("mariadb", untouched) == laid_out(
        "mariadb", "CREATE SEQUENCE s INCREMENT BY -2 START WITH 5 MINVALUE -10 MAXVALUE 5 CACHE 1"
    )
    assert notes([spent]) == [
        "sequence other.s is recreated as captured before the drop; it had given out -10, its last value, and has "
        "run out again"
    ]
    assert notes([going_on, untouched]) == [
        "sequence s is recreated as captured before the drop; it goes on from 1, the first value it had not given "
        "out or cached",
        "sequence s is recreated as captured before the drop; it starts at its start value 5, where it stood",
    ]


def test_the_inverses_are_built_from_the_capture_of_the_dropped_object() -> None:
    captured = {"views": {"app.v": view("SELECT 1", schema="app")}, "sequences": {"s": sequence()}}
    assert inverse_of("- dropView: {schemaName: app, viewName: v}", "postgresql", captured) == [
        RecreateView(captured=captured["views"]["app.v"])
    ]
    assert inverse_of("- dropSequence: {sequenceName: s}", "mariadb", captured) == [
        RecreateSequence(captured=captured["sequences"]["s"])
    ]


@pytest.mark.parametrize(
    ("change", "captured", "reason"),
    [
        ("- dropView: {viewName: v}", None, "dropView on view v cannot be rolled back automatically: its definition "
         r"was not captured when it ran \(it ran under Liquibase.*add a rollback block"),
        ("- dropView: {viewName: v}", {"views": {}}, "dropView on view v cannot .*: it did not exist when dropView ran"),
        ("- dropView: {viewName: v}", {"views": {"v": view("")}}, "the database did not show its definition"),
        ("- dropSequence: {sequenceName: s}", None, "dropSequence on sequence s cannot be rolled back automatically: "
         "its definition was not captured"),
        ("- dropSequence: {schemaName: app, sequenceName: s}", {"sequences": {"s": sequence()}},
         "dropSequence on sequence app.s cannot .*: it did not exist when dropSequence ran"),
        ("- dropSequence: {sequenceName: s}",
         {"sequences": {"s": {"schema": None, "name": "s", "unsupported": "cannot read it on oracle"}}},
         "dropSequence on sequence s cannot be rolled back automatically: cannot read it on oracle"),
    ],
)  # fmt: skip
def test_without_a_capture_of_the_object_the_inverse_is_refused(
    change: str, captured: dict[str, Any] | None, reason: str
) -> None:
    with pytest.raises(NoInverse, match=reason):
        inverse_of(change, "postgresql", captured)


@pytest.mark.parametrize("dialect", ["mysql", "mariadb"])
def test_a_mysql_procedure_comes_back_without_its_definer(dialect: str) -> None:
    captured = {
        "schema": "app",
        "name": "bump",
        "definitions": [
            "CREATE DEFINER=`root`@`localhost` PROCEDURE `bump`(IN step int)\n"
            "    SQL SECURITY INVOKER\nBEGIN UPDATE counter SET n = n + step; END"
        ],
    }
    recreate = RecreateProcedure(captured=captured)
    assert render(dialect, recreate) == laid_out(
        dialect,
        "CREATE PROCEDURE `bump`(IN step int)\n    SQL SECURITY INVOKER\nBEGIN UPDATE counter SET n = n + step; END",
    )
    assert notes([recreate]) == [
        "procedure app.bump is recreated as captured before the drop (privileges granted on it are not); "
        "its DEFINER is the user running the rollback"
    ]


def test_each_postgresql_overload_comes_back_as_pg_get_functiondef_showed_it() -> None:
    one = "CREATE OR REPLACE PROCEDURE public.bump(IN step integer)\n LANGUAGE sql\nAS $procedure$SELECT 1$procedure$\n"
    two = "CREATE OR REPLACE PROCEDURE public.bump()\n LANGUAGE sql\nAS $procedure$SELECT 2$procedure$\n"
    captured = {"procedures": {"bump": {"schema": None, "name": "bump", "definitions": [one, two]}}}
    (recreate,) = inverse_of("- dropProcedure: {procedureName: bump}", "postgresql", captured)
    assert render("postgresql", recreate) == laid_out("postgresql", one, two)
    assert notes([recreate]) == [
        "procedure bump is recreated as captured before the drop (privileges granted on it are not)"
    ]
    with pytest.raises(NoInverse, match=r"dropProcedure on procedure p cannot .*: it did not exist when"):
        inverse_of("- dropProcedure: {procedureName: p}", "postgresql", captured)
    with pytest.raises(ValueError, match="not supported on sqlite"):
        recreate.operations(PlanContext("sqlite"))


def test_a_postgresql_sequence_comes_back_with_the_defaults_that_called_it_and_its_owner() -> None:
    captured = sequence(
        schema="App",
        name="Seq",
        data_type="bigint",
        defaults=[
            {"schema": "App", "table": "T", "column": "id", "default": """nextval('"App"."Seq"'::regclass)"""},
            {"schema": None, "table": "other", "column": "n", "default": """(nextval('"App"."Seq"'::regclass) + 1)"""},
        ],
        owned_by={"schema": "App", "table": "T", "column": "id"},
    )
    recreate = RecreateSequence(captured=captured)
    assert render("postgresql", recreate) == laid_out(
        "postgresql",
        'CREATE SEQUENCE "App"."Seq" AS bigint INCREMENT BY -2 START WITH 5 MINVALUE -10 MAXVALUE 5 CACHE 1',
        """ALTER TABLE "App"."T" ALTER COLUMN id SET DEFAULT nextval('"App"."Seq"'::regclass)""",
        """ALTER TABLE other ALTER COLUMN n SET DEFAULT (nextval('"App"."Seq"'::regclass) + 1)""",
        'ALTER SEQUENCE "App"."Seq" OWNED BY "App"."T".id',
    )
    assert notes([recreate]) == [
        "sequence App.Seq is recreated as captured before the drop; it starts at its start value 5, where it stood; the defaults of App.T.id, other.n call it again"
    ]


def test_a_restarted_postgresql_sequence_not_read_since_comes_back_restarted() -> None:
    recreate = RecreateSequence(captured=sequence(start=1, increment=1, max=100, restart={"value": 20, "used": False}))
    assert render("postgresql", recreate) == laid_out(
        "postgresql",
        "CREATE SEQUENCE s INCREMENT BY 1 START WITH 1 MINVALUE -10 MAXVALUE 100 CACHE 1",
        "SELECT setval('s', 20, false)",
    )
    assert notes([recreate]) == [
        "sequence s is recreated as captured before the drop; it goes on from 20, the first value it had not given "
        "out or cached"
    ]


def test_a_cycling_mariadb_sequence_comes_back_in_its_round() -> None:
    captured = sequence(start=1, increment=1, min=1, max=3, cycle=True, restart={"value": 2, "used": False, "round": 1})
    assert render("mariadb", RecreateSequence(captured=captured)) == laid_out(
        "mariadb",
        "CREATE SEQUENCE s INCREMENT BY 1 START WITH 1 MINVALUE 1 MAXVALUE 3 CACHE 1 CYCLE",
        "SELECT SETVAL(s, 2, 0, 1)",
    )
