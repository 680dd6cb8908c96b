"""Properties of reflection and comparison over generated ``MetaData`` (tables, columns of several types,
nullability, server defaults, indexes, unique constraints, foreign keys), on each backend: two builds of the same
models never differ, and a column or table taken away is found, as exactly that."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yamlbase.structure.compare import compare
from yamlbase.structure.model import Schema
from yamlbase.structure.reference import models_schema

IN_CI = os.environ.get("CI", "").lower() == "true"
EXAMPLES = int(os.environ.get("YAMLBASE_FUZZ_EXAMPLES", "200")) // 5
SQLITE = settings(
    max_examples=max(10, EXAMPLES),
    deadline=None,
    database=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SERVER = settings(SQLITE, max_examples=max(5, EXAMPLES // 4))  # a server's create_all is slower

NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"])
# (type, server defaults that suit it)
TYPES: list[tuple[Any, list[Any]]] = [
    (sa.Integer(), [None, "0", "42"]),
    (sa.BigInteger(), [None, "7"]),
    (sa.String(20), [None, "x", ""]),
    (sa.String(200), [None, "longer text"]),
    (sa.Text(), [None]),
    (sa.Numeric(10, 2), [None, "1.50"]),
    (sa.Boolean(), [None, sa.false()]),
    (sa.Date(), [None]),
    (sa.DateTime(), [None, sa.func.current_timestamp()]),
]


@dataclass
class TableSpec:
    name: str
    columns: list[tuple[str, int, bool, int]]  # name, index in TYPES, nullable, index in its defaults
    # ref_id, and the table it refers to ("" for none) with its ON DELETE
    references: tuple[str, str | None] | None = None
    # (a number naming it, its columns, "index" | "unique_index" | "unique")
    groups: list[tuple[int, tuple[str, ...], str]] = field(default_factory=list)


@st.composite
def specs(draw: st.DrawFn) -> list[TableSpec]:
    tables: list[TableSpec] = []
    for t in range(draw(st.integers(1, 3))):
        names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
        columns = []
        for name in names:
            kind = draw(st.integers(0, len(TYPES) - 1))
            columns.append((name, kind, draw(st.booleans()), draw(st.integers(0, len(TYPES[kind][1]) - 1))))
        spec = TableSpec(f"t{t}", columns)
        if tables and draw(st.booleans()):
            spec.references = (draw(st.sampled_from(tables)).name, draw(st.sampled_from([None, "CASCADE", "SET NULL"])))
        indexable = [c[0] for c in columns if not isinstance(TYPES[c[1]][0], sa.Text)]
        if indexable:
            for cols in draw(
                st.lists(st.lists(st.sampled_from(indexable), min_size=1, max_size=2, unique=True), max_size=2)
            ):
                spec.groups.append(
                    (len(spec.groups), tuple(cols), draw(st.sampled_from(["index", "unique_index", "unique"])))
                )
        tables.append(spec)
    return tables


def build(tables: list[TableSpec]) -> sa.MetaData:
    m = sa.MetaData()
    for spec in tables:
        items: list[Any] = [sa.Column("id", sa.Integer, primary_key=True)]
        for name, kind, nullable, default in spec.columns:
            type_, defaults = TYPES[kind]
            value = defaults[default]
            items.append(sa.Column(name, type_, nullable=nullable, server_default=value))
        if spec.references:
            target, action = spec.references
            items.append(sa.Column("ref_id", sa.Integer))
            if target:
                items.append(
                    sa.ForeignKeyConstraint(["ref_id"], [f"{target}.id"], ondelete=action, name=f"fk_{spec.name}")
                )
        for i, cols, kind in spec.groups:
            if kind == "unique":
                items.append(sa.UniqueConstraint(*cols, name=f"uq_{spec.name}_{i}"))
            else:
                items.append(sa.Index(f"ix_{spec.name}_{i}", *cols, unique=kind == "unique_index"))
        sa.Table(spec.name, m, *items)
    return m


def _without(tables: list[TableSpec], table: str, column: str | None) -> list[TableSpec]:
    """``tables`` without ``table`` (and the keys that refer to it), or without its ``column`` and what is built
    on that column."""
    result = []
    for spec in tables:
        if spec.name == table and column is None:
            continue
        spec = replace(spec)
        if spec.references and spec.references[0] == table and column is None:
            spec.references = ("", None)  # its column stays, without the key
        if spec.name == table:
            spec.columns = [c for c in spec.columns if c[0] != column]
            spec.groups = [g for g in spec.groups if column not in g[1]]
        result.append(spec)
    return result


def _check(base: Schema, rebuilt: Schema, smaller: Schema, table: str, column: str | None) -> None:
    assert compare(base, rebuilt) == []
    kinds = {(d.kind, d.table, getattr(d.old, "name", None)) for d in compare(base, smaller)}
    if column is None:
        assert ("drop_table", table, table) in kinds
        assert {k for k, *_ in kinds} <= {"drop_table", "drop_foreign_key"}
    else:
        assert ("drop_column", table, column) in kinds
        assert {k for k, *_ in kinds} <= {"drop_column", "drop_index", "drop_unique", "drop_foreign_key"}
    assert all(d.destructive == (d.kind in ("drop_table", "drop_column")) for d in compare(base, smaller))


def _victim(draw: st.DrawFn, tables: list[TableSpec]) -> tuple[str, str | None]:
    spec = draw(st.sampled_from(tables))
    columns = [c[0] for c in spec.columns]
    return spec.name, (draw(st.sampled_from(columns)) if columns and draw(st.booleans()) else None)


@SQLITE
@given(tables=specs(), data=st.data())
def test_sqlite_builds_compare_exactly(tables: list[TableSpec], data: st.DataObject) -> None:
    table, column = _victim(data.draw, tables)
    smaller = models_schema(build(_without(tables, table, column)))
    _check(models_schema(build(tables)), models_schema(build(tables)), smaller, table, column)


@pytest.mark.backend
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
@SERVER
@given(tables=specs(), data=st.data())
def test_server_builds_compare_exactly(
    backend: str, request: pytest.FixtureRequest, tables: list[TableSpec], data: st.DataObject
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    table, column = _victim(data.draw, tables)
    _check(
        models_schema(build(tables), dialect=backend, dev_url=url),
        models_schema(build(tables), dialect=backend, dev_url=url),
        models_schema(build(_without(tables, table, column)), dialect=backend, dev_url=url),
        table,
        column,
    )
