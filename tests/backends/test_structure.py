"""The schema model on every backend: reflection of every kind of object, no phantom differences between two
builds of the same models, each kind of change detected, and the scratch database left as it was found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from yamlbase.errors import UsageError
from yamlbase.structure.compare import compare
from yamlbase.structure.models import rename_hints
from yamlbase.structure.reference import models_schema, scratch
from yamlbase.structure.reflect import reflect

MYSQL = ("mysql", "mariadb")


def full_models(dialect: str, *changes: str) -> sa.MetaData:
    """Models with every kind of object ``dialect`` has; each of ``changes`` alters one thing."""
    on = set(changes)
    m = sa.MetaData()
    pg, my = dialect == "postgresql", dialect in MYSQL
    values = ["sad", "ok", "happy"] + (["ecstatic"] if "enum_value" in on else [])
    if "enum_drop_value" in on:
        values.remove("ok")
    sa.Table(
        "owner",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "name",
            sa.String({"widen": 80, "narrow": 30}.get(next(iter(on & {"widen", "narrow"}), ""), 50)),
            nullable=False,
            server_default="nobody",
            comment="whom" if "column_comment" in on else "who",
        ),
        *(
            []
            if "drop_column" in on
            else [sa.Column("created", sa.DateTime, server_default=sa.func.current_timestamp())]
        ),
        sa.Column("mood", sa.Enum(*values, name="mood")),
        comment="owners" if "table_comment" in on else "people who own things",
    )
    item = sa.Table(
        "item",
        m,
        sa.Column(
            "owner_id",
            sa.ForeignKey("owner.id", name="fk_item_owner", ondelete="RESTRICT" if "fk_action" in on else "CASCADE"),
            primary_key="primary_key" not in on,
            nullable="primary_key" in on,
        ),
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("qty", sa.Integer, nullable="nullable" in on, server_default="1" if "default" in on else "0"),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("total", sa.Numeric(12, 2), sa.Computed("qty * price")),
        *([sa.Column("note", sa.Text)] if "add_column" in on else []),
        sa.CheckConstraint("qty >= 1" if "check" in on else "qty >= 0", name="ck_item_qty"),
        *([] if "unique" in on else [sa.UniqueConstraint("code", "qty", name="uq_item_code_qty")]),
        sa.Index("ix_item_qty", "qty"),
        sa.Index("ux_item_price", "price", unique=True),
        *([sa.Index("ix_item_code", "code")] if "index" in on else []),
    )
    if not my:
        where = sa.text("qty > 9" if "index_where" in on else "qty > 5")
        sa.Index("ix_item_big", item.c.qty, postgresql_where=where, sqlite_where=where)
        sa.Index("ix_item_lower", sa.func.lower(item.c.code))
    if "rename_table" not in on and "drop_table" not in on:
        sa.Table("tag", m, sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(30)))
    if "rename_table" in on:
        sa.Table(
            "label",
            m,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String(30)),
            info={"renamed_from": "tag"},
        )
    sa.Table(
        "note",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, info={"renamed_from": "text"} if "rename_column" in on else {})
        if "rename_column" in on
        else sa.Column("text", sa.Text),
    )
    if "add_table" in on:
        sa.Table("extra", m, sa.Column("id", sa.Integer, primary_key=True))
    if pg:
        sa.Table("counter", m, sa.Column("id", sa.BigInteger, sa.Identity(start=10, increment=5), primary_key=True))
    if pg or my:
        sa.Sequence("ticket_seq", start=100, increment=3 if "sequence" in on else 2, metadata=m)
    condition = "qty > 6" if "view" in on else "qty > 5"
    sa.event.listen(m, "after_create", sa.DDL(f"CREATE VIEW big_items AS SELECT code, qty FROM item WHERE {condition}"))
    return m


def _dialect(url: str) -> str:
    return sa.make_url(url).get_backend_name()


def test_every_kind_of_object_is_reflected_and_the_scratch_database_is_left_empty(db_url: str) -> None:
    dialect = _dialect(db_url)
    schema = models_schema(full_models(dialect), dialect=dialect, dev_url=db_url)
    pg, my = dialect == "postgresql", dialect in MYSQL

    assert set(schema.tables) == {"owner", "item", "tag", "note"} | ({"counter"} if pg else set())
    item, owner = schema.tables["item"], schema.tables["owner"]
    assert item.primary_key is not None and item.primary_key.columns == ("owner_id", "code")
    (fk,) = item.foreign_keys
    assert (fk.name, fk.columns, fk.referred_table, fk.referred_columns) == (
        "fk_item_owner",
        ("owner_id",),
        "owner",
        ("id",),
    )
    assert fk.ondelete == "CASCADE"
    assert [(ck.name, "qty" in ck.sqltext) for ck in item.checks if ck.name == "ck_item_qty"] == [("ck_item_qty", True)]
    uniques = {(u.name, u.columns) for u in item.unique_constraints}
    indexes = {ix.name: ix for ix in item.indexes}
    if my:  # MySQL cannot tell a unique index from a unique constraint: both are unique keys
        assert uniques == {("uq_item_code_qty", ("code", "qty")), ("ux_item_price", ("price",))}
        assert {ix.name for ix in item.constraint_indexes} >= {"uq_item_code_qty", "ux_item_price"}
    else:
        assert uniques == {("uq_item_code_qty", ("code", "qty"))}
        assert indexes["ux_item_price"].unique
    assert not indexes["ix_item_qty"].unique
    if not my:
        assert indexes["ix_item_big"].where is not None and "5" in indexes["ix_item_big"].where
        assert "lower" in indexes["ix_item_lower"].columns[0].lower()
    total = item.column("total")
    assert total is not None and total.computed is not None and "price" in total.computed.sqltext
    name = owner.column("name")
    assert name is not None and not name.nullable and name.default is not None and "nobody" in name.default
    if pg or my:
        assert owner.comment == "people who own things" and name.comment == "who"
        seq = schema.sequences["ticket_seq"]
        assert (seq.start, seq.increment) == (100, 2)
        assert set(schema.sequences) == {"ticket_seq"}, "a column's own sequence is part of its column"
    if pg:
        assert schema.enums["mood"].values == ("sad", "ok", "happy")
        counter_id = schema.tables["counter"].column("id")
        assert counter_id is not None and counter_id.identity is not None
        assert (counter_id.identity.start, counter_id.identity.increment) == (10, 5)
    if my:
        mood = owner.column("mood")
        assert mood is not None and mood.type.startswith("ENUM(")
    assert set(schema.views) == {"big_items"} and "qty" in schema.views["big_items"].definition

    with sa.create_engine(db_url, poolclass=sa.pool.NullPool).connect() as connection:
        left = reflect(connection)
        assert (left.tables, left.views, left.sequences, left.enums) == ({}, {}, {}, {})


def test_two_builds_of_the_same_models_do_not_differ(db_url: str) -> None:
    dialect = _dialect(db_url)
    first = models_schema(full_models(dialect), dialect=dialect, dev_url=db_url)
    second = models_schema(full_models(dialect), dialect=dialect, dev_url=db_url)
    assert compare(first, second) == []
    assert first == second


# change → the kinds of difference it must give (exactly), and which are destructive
CHANGES: dict[str, tuple[set[str], set[str]]] = {
    "add_column": ({"add_column"}, set()),
    "drop_column": ({"drop_column"}, {"drop_column"}),
    "widen": ({"alter_column"}, set()),
    "narrow": ({"alter_column"}, {"alter_column"}),
    "nullable": ({"alter_column"}, set()),
    "default": ({"alter_column"}, set()),
    "primary_key": ({"drop_primary_key", "add_primary_key", "alter_column"}, set()),
    "unique": ({"drop_unique"}, set()),
    "index": ({"add_index"}, set()),
    "fk_action": ({"drop_foreign_key", "add_foreign_key"}, set()),
    "check": ({"drop_check", "add_check"}, set()),
    "add_table": ({"add_table"}, set()),
    "drop_table": ({"drop_table"}, {"drop_table"}),
    "rename_table": ({"rename_table"}, set()),
    "rename_column": ({"rename_column"}, set()),
    "view": ({"alter_view"}, set()),
}
ONLY: dict[str, Callable[[str], bool]] = {
    "column_comment": lambda d: d != "sqlite",
    "table_comment": lambda d: d != "sqlite",
    "index_where": lambda d: d not in MYSQL,
    "sequence": lambda d: d != "sqlite",
    "enum_value": lambda d: d != "sqlite",
    "enum_drop_value": lambda d: d == "postgresql",
}
CHANGES |= {
    "column_comment": ({"alter_column"}, set()),
    "table_comment": ({"table_comment"}, set()),
    "index_where": ({"drop_index", "add_index"}, set()),
    "sequence": ({"alter_sequence"}, set()),
    "enum_value": ({"add_enum_value"}, set()),
    "enum_drop_value": ({"drop_enum", "add_enum"}, {"drop_enum"}),
}


def test_each_kind_of_change_is_detected(db_url: str) -> None:
    dialect = _dialect(db_url)
    base = models_schema(full_models(dialect), dialect=dialect, dev_url=db_url)
    wrong = {}
    for change, (kinds, destructive) in CHANGES.items():
        if not ONLY.get(change, lambda d: True)(dialect):
            continue
        if change == "enum_value" and dialect in MYSQL:
            kinds = {"alter_column"}  # MySQL's enums are column types
        if change == "rename_table" and dialect == "postgresql":
            # Created under its new name, its key and sequence have new names too (a RENAME keeps the old ones).
            kinds = kinds | {"drop_primary_key", "add_primary_key", "alter_column"}
        metadata = full_models(dialect, change)
        found = compare(base, models_schema(metadata, dialect=dialect, dev_url=db_url), renames=rename_hints(metadata))
        got = ({d.kind for d in found}, {d.kind for d in found if d.destructive})
        if got != (kinds, destructive):
            wrong[change] = [(d.describe(), d.destructive, d.note) for d in found]
    assert wrong == {}


def test_a_rename_without_a_hint_is_a_drop_and_an_add_that_say_so(sqlite_url: str) -> None:
    base = models_schema(full_models("sqlite"), dev_url=sqlite_url)
    renamed = models_schema(full_models("sqlite", "rename_table", "rename_column"), dev_url=sqlite_url)
    found = {d.kind: d for d in compare(base, renamed)}
    assert set(found) == {"drop_table", "add_table", "drop_column", "add_column"}
    assert found["drop_table"].destructive and found["drop_column"].destructive
    for kind in found:
        note = found[kind].note
        assert note is not None and "rename" in note, kind
    assert "tag" in str(found["drop_table"].note) and "label" in str(found["drop_table"].note)
    assert "note.text" in str(found["drop_column"].note) and "note.body" in str(found["drop_column"].note)


def test_a_dev_database_that_is_not_empty_is_refused_and_kept(sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE precious (id INTEGER)")
        connection.exec_driver_sql("INSERT INTO precious VALUES (1)")
    with pytest.raises(UsageError, match=r"not empty.*precious"), scratch(sqlite_url):
        pass
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT id FROM precious").scalars().all() == [1]
