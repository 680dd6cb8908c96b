"""Structure rebuilt from a capture, as SQL per dialect (no database): the generated inverses of dropTable,
dropColumn and dropIndex, and how a rollback plan hands each change the capture taken just before it ran."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.unit.test_sql_golden import changes_from, changeset, laid_out, normal, row
from yamlbase.changelog.model import ChangeLog
from yamlbase.changes import Change, NoInverse, PlanContext
from yamlbase.changes.captured import RecreateColumns, RecreateIndex, RecreateTable, notes
from yamlbase.runtime import capture, plan
from yamlbase.runtime.sink import TextSink


def column(name: str, type_: str, **attrs: Any) -> dict[str, Any]:
    base = {"nullable": True, "default": None, "autoincrement": False, "identity": None, "computed": None}
    return {"name": name, "type": type_, **base, "comment": None, **attrs}


def table(**attrs: Any) -> dict[str, Any]:
    base = {"schema": None, "name": "item", "comment": None, "primary_key": None, "foreign_keys": [], "unique": []}
    return {**base, "checks": [], "indexes": [], **attrs}


ITEM = table(
    comment="things owned",
    columns=[
        column("id", "INTEGER", nullable=False, default="nextval('item_id_seq'::regclass)", autoincrement=True),
        column("owner_id", "INTEGER"),
        column("code", "VARCHAR(20)", nullable=False, default="'x'::character varying", comment="shown"),
        column("twice", "INTEGER", computed={"sqltext": "owner_id * 2", "persisted": True}),
    ],
    primary_key={"name": "pk_item", "columns": ["id"]},
    foreign_keys=[
        {
            "name": "fk_item_owner",
            "columns": ["owner_id"],
            "referred_schema": None,
            "referred_table": "owner",
            "referred_columns": ["id"],
            "ondelete": "SET NULL",
            "onupdate": None,
            "deferrable": None,
            "initially": None,
        }
    ],
    unique=[{"name": "uq_item_code", "columns": ["code"]}],
    checks=[{"name": "ck_item_owner", "sqltext": "owner_id > 0"}],
    indexes=[
        {"name": "uq_item_code", "columns": ["code"], "expressions": None, "unique": True, "constraint": True,
         "options": {}},
        {"name": "ix_item_lower_code", "columns": [None], "expressions": ["lower((code)::text)"], "unique": False,
         "constraint": False, "options": {}},
    ],
)  # fmt: skip


def render(dialect: str, *changes: Change) -> str:
    out = io.StringIO()
    sink = TextSink(dialect, out)
    for change in changes:
        sink.apply(change)
    return normal(out.getvalue())


def test_a_dropped_table_comes_back_whole_on_postgresql() -> None:
    assert render("postgresql", RecreateTable(table=ITEM)) == laid_out(
        "postgresql",
        """
        CREATE TABLE item (
            id SERIAL NOT NULL,
            owner_id INTEGER,
            code VARCHAR(20) DEFAULT 'x'::character varying NOT NULL,
            twice INTEGER GENERATED ALWAYS AS (owner_id * 2) STORED,
            CONSTRAINT pk_item PRIMARY KEY (id),
            CONSTRAINT uq_item_code UNIQUE (code),
            CONSTRAINT fk_item_owner FOREIGN KEY(owner_id) REFERENCES owner (id) ON DELETE SET NULL,
            CONSTRAINT ck_item_owner CHECK (owner_id > 0)
        )
        """,
        "COMMENT ON TABLE item IS 'things owned'",
        "COMMENT ON COLUMN item.code IS 'shown'",
        "CREATE INDEX ix_item_lower_code ON item (lower((code)::text))",
    )


def test_identity_and_auto_increment_come_back_as_they_were() -> None:
    identity = table(columns=[column("id", "BIGINT", nullable=False, identity={"always": True, "start": 5})])
    assert render("postgresql", RecreateTable(table=identity)) == laid_out(
        "postgresql", "CREATE TABLE item (\n    id BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 5)\n)"
    )
    auto = table(
        columns=[column("id", "INTEGER(11)", nullable=False, autoincrement=True)],
        primary_key={"name": "PRIMARY", "columns": ["id"]},
    )
    assert render("mariadb", RecreateTable(table=auto)) == laid_out(
        "mariadb", "CREATE TABLE item (\n    id INTEGER(11) AUTO_INCREMENT NOT NULL,\n    PRIMARY KEY (id)\n)"
    )


def test_dropped_columns_come_back_with_what_went_with_them() -> None:
    rendered = render("postgresql", RecreateColumns(table=ITEM, columns=["owner_id"]))
    assert rendered == laid_out(
        "postgresql",
        "ALTER TABLE item ADD COLUMN owner_id INTEGER",
        "ALTER TABLE item ADD CONSTRAINT fk_item_owner FOREIGN KEY(owner_id) REFERENCES owner (id) ON DELETE SET NULL",
        "ALTER TABLE item ADD CONSTRAINT ck_item_owner CHECK (owner_id > 0)",
    )


def test_mysql_recreates_an_index_that_only_lost_a_column() -> None:
    two = table(
        columns=[column("a", "INTEGER"), column("b", "INTEGER")],
        indexes=[{"name": "ix_ab", "columns": ["a", "b"], "expressions": None, "unique": False, "constraint": False,
                  "options": {}}],
    )  # fmt: skip
    assert render("mysql", RecreateColumns(table=two, columns=["a"])) == laid_out(
        "mysql",
        "ALTER TABLE item ADD COLUMN a INTEGER",
        "DROP INDEX ix_ab ON item",
        "CREATE INDEX ix_ab ON item (a, b)",
    )
    assert render("postgresql", RecreateColumns(table=two, columns=["a"])) == laid_out(
        "postgresql", "ALTER TABLE item ADD COLUMN a INTEGER", "CREATE INDEX ix_ab ON item (a, b)"
    )


def test_a_dropped_index_comes_back_found_by_its_name_alone() -> None:
    ctx = PlanContext("postgresql", captured={"tables": {"item": ITEM}})
    (drop,) = changes_from("- dropIndex: {indexName: ix_item_lower_code}")
    (inverse,) = drop.inverse(ctx)
    assert inverse == RecreateIndex(table=ITEM, index="ix_item_lower_code")
    assert render("postgresql", inverse) == laid_out(
        "postgresql", "CREATE INDEX ix_item_lower_code ON item (lower((code)::text))"
    )
    assert notes([inverse]) == [], "an index holds no data"
    (other,) = changes_from("- dropIndex: {indexName: ix_other}")
    with pytest.raises(NoInverse, match=r"dropIndex on index ix_other cannot be .*: it did not exist when"):
        other.inverse(ctx)


def test_each_change_of_a_changeset_gets_the_capture_taken_before_it() -> None:
    cs = changeset(
        "drop",
        "- dropColumn: {tableName: item, columnName: code}\n- createTable: {tableName: t, columns: [{column: {name: a}}]}\n"
        "- dropTable: {tableName: item}",
    )
    stored = capture.from_json(capture.to_json({0: {"tables": {"item": ITEM}}, 2: {"tables": {"item": ITEM}}}))
    undo = plan.rollback_plan(ChangeLog("db.yaml", [cs]), [row("drop", 1)], PlanContext("sqlite"), {cs.key: stored})
    [(_, _, inverse)] = undo
    assert [type(c).__name__ for c in inverse] == ["RecreateTable", "DropTable", "RecreateColumns"]
    assert notes(inverse) == [
        "table item is recreated as captured before the drop; the rows it held are not restored",
        "column code of item is recreated as captured before the drop; the values it held are not restored",
    ]
