"""Differences between two schemas → Liquibase changeSets that take the old schema to the new one.

:func:`changesets` turns the :class:`~yamlbase.structure.model.Difference` list of ``structure.compare`` into
changeSet entries (plain dicts, Liquibase's YAML shape), and :func:`to_yaml` writes them; the same inputs always
give the same bytes. Each change is built through its own model in :mod:`yamlbase.changes` (the one home of its
attributes), so what is generated is what ``validate`` accepts.

- One logical change per changeSet: a new table with its keys, checks and indexes; one column's alteration; one
  foreign key; one view. What destroys data (a dropped table, column, view or enum, a narrowed type, anything
  ``compare`` marks destructive) is a changeSet of its own, labelled ``destructive``, with a comment saying what
  is lost.
- Ordered so they run (Liquibase's diff-changelog does not: liquibase#1792, #1722): types and sequences first;
  views that may depend on what changes dropped before it changes; foreign keys dropped before the keys, columns
  and tables they depend on; renames before the changes on the renamed; columns before the indexes and keys on
  them; new tables in the order of their foreign keys (a cycle's closing key added afterwards); views, then the
  drops of sequences and types last.
- Every changeSet rolls back. Where a change's own inverse cannot restore what was there (an altered column, a
  replaced comment, a dropped view, PostgreSQL enum values), an explicit ``rollback`` is written from the old
  definition; dropped tables, columns, keys and indexes come back from what yamlbase captures when ``update``
  drops them.
- PostgreSQL enum types are ``sql`` changes (``CREATE TYPE … AS ENUM``, ``ALTER TYPE … ADD VALUE``, and for the
  rollback of an added value the type rebuilt without it), with ``dbms: postgresql``: Liquibase has no change
  type for them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import yaml

from yamlbase.dialects import capabilities
from yamlbase.dialects.types import liquibase_type
from yamlbase.structure.model import (
    CheckConstraint,
    Column,
    Difference,
    Enum,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Sequence,
    Table,
    UniqueConstraint,
    View,
)

log = logging.getLogger("yamlbase")

DESTRUCTIVE_LABEL = "destructive"
ADD_FK = "addForeignKeyConstraint"

# The phases of a generated batch, in run order (see the module's docstring).
_RENAMES, _TYPES, _DROP_VIEWS, _DROP_FOREIGN_KEYS, _DROP_KEYS, _COLUMNS = 5, 10, 20, 30, 40, 60
_DROP_TABLES, _ADD_TABLES, _LOAD_DATA, _ADD_KEYS, _ADD_FOREIGN_KEYS = 70, 80, 85, 90, 100
_COMMENTS, _VIEWS, _DROP_TYPES = 110, 120, 130


@dataclass
class _Unit:
    """One changeSet to be: its changes, an explicit rollback where the changes' own inverses would not restore
    the old schema, and where it goes in the batch."""

    phase: int
    key: tuple[Any, ...]
    changes: list[dict[str, Any]]
    rollback: list[dict[str, Any]] | None = None
    destructive: str | None = None  # what is lost, said in the comment
    notes: list[str] = field(default_factory=list)


def changesets(
    differences: Iterable[Difference],
    *,
    old: Schema,
    new: Schema,
    author: str,
    message: str | None,
    now: datetime,
    first: int = 1,
    rows: Mapping[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The changeSets (``{"changeSet": {...}}`` entries of ``databaseChangeLog``) that take ``old`` to ``new``,
    ordered so they run, with ids ``<yyyymmddHHMMSS>-<n>`` counted from ``first``; ``message`` is every
    changeSet's comment. ``rows`` maps new tables to the change that loads their rows (``loadData``): each
    runs once every new table exists, in the order of their foreign keys, and rolls back by deleting the rows.
    Deterministic: the same arguments give the same list. A difference that cannot be written as a change (an
    unnamed foreign key to drop, say) is left out with a warning on the ``yamlbase`` logger."""
    builder = _Builder(old, new)
    units = builder.units(list(differences))
    if rows:
        added = {d.table: d.new for d in differences if d.kind == "add_table" and isinstance(d.new, Table)}
        order = _creation_order({k: t for k, t in added.items() if k is not None})[0]
        for key, load in rows.items():
            table = new.tables[key]
            place = order.index(key) if key in order else len(order)
            delete = change("delete", schemaName=table.schema, tableName=table.name)
            units.append(_Unit(_LOAD_DATA, (place, key), [load], [delete]))
    units.sort(key=lambda u: (u.phase, u.key))
    stamp = now.strftime("%Y%m%d%H%M%S")
    entries: list[dict[str, Any]] = []
    for n, unit in enumerate(units, start=first):
        cs: dict[str, Any] = {"id": f"{stamp}-{n}", "author": author}
        if unit.destructive:
            cs["labels"] = DESTRUCTIVE_LABEL
        comment = [message] if message else []
        if unit.destructive:
            comment.append(f"DESTRUCTIVE: {unit.destructive}")
        comment += unit.notes
        if comment:
            cs["comment"] = "; ".join(comment)
        cs["changes"] = unit.changes
        if unit.rollback is not None:
            cs["rollback"] = unit.rollback
        entries.append({"changeSet": cs})
    return entries


def destructive(entries: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of the changeSets labelled ``destructive`` among ``entries``."""
    return [e["changeSet"]["id"] for e in entries if e["changeSet"].get("labels") == DESTRUCTIVE_LABEL]


# --- YAML --------------------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as Liquibase's examples are; multi-line text as a literal block."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(entries: list[dict[str, Any]], *, document: bool = True) -> str:
    """``entries`` as Liquibase YAML: a whole changelog (``databaseChangeLog:``), or with ``document=False`` only
    its list items, indented by two spaces, to append under an existing ``databaseChangeLog:``. Deterministic."""
    text = yaml.dump(
        {"databaseChangeLog": entries},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=120,
        indent=2,
    )
    if document:
        return text
    return text.split("\n", 1)[1]


# --- building ---------------------------------------------------------------------------------------------------


def change(name: str, **attributes: Any) -> dict[str, Any]:
    """One change as changelog data, checked by its model: ``{"createTable": {...}}`` with Liquibase's attribute
    names in the model's order, unset ones left out."""
    from yamlbase.changes import REGISTRY

    model = REGISTRY[name].model_validate({k: v for k, v in attributes.items() if v is not None})
    return {name: model.model_dump(by_alias=True, exclude_none=True, mode="json")}


def _sql(sql: str, rollback: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return change("sql", sql=sql, dbms="postgresql"), change("sql", sql=rollback, dbms="postgresql")


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A quoted literal as databases report defaults, with PostgreSQL's cast: 'x'::character varying.
_LITERAL = re.compile(r"^\(?'((?:[^']|'')*)'\)?(?:::[\w .\[\]\"]+)?$", re.DOTALL)
_NUMBER = re.compile(r"^\(?(-?\d+(?:\.\d+)?)\)?$")
_NEXTVAL = re.compile(r"^nextval\('([^']+)'(?:::regclass)?\)$", re.IGNORECASE)
_TRUE, _FALSE = (
    frozenset({"1", "true", "'1'", "'t'", "'true'", "b'1'"}),
    frozenset({"0", "false", "'0'", "'f'", "'false'", "b'0'"}),
)
# CREATE VIEW v AS …, as SQLite reports a view: the whole statement.
_CREATE_VIEW = re.compile(r"^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?VIEW\b", re.IGNORECASE)


def default_attributes(default: str | None, liquibase: str) -> dict[str, Any]:
    """A server default as the database states it → Liquibase's ``defaultValue*`` attribute for a column of
    Liquibase type ``liquibase``: a quoted literal is ``defaultValue`` (its text), a number
    ``defaultValueNumeric``, a boolean column's truth value ``defaultValueBoolean``, ``nextval('s')``
    ``defaultValueSequenceNext``, anything else ``defaultValueComputed`` verbatim."""
    if default is None:
        return {}
    text = default.strip()
    if liquibase == "boolean" and text.lower() in _TRUE | _FALSE:
        return {"defaultValueBoolean": text.lower() in _TRUE}
    number = _NUMBER.match(text)
    if number:
        value = number[1]
        return {"defaultValueNumeric": int(value) if re.fullmatch(r"-?\d+", value) else value}
    literal = _LITERAL.match(text)
    if literal:
        return {"defaultValue": literal[1].replace("''", "'")}
    sequence = _NEXTVAL.match(text)
    if sequence:
        return {"defaultValueSequenceNext": sequence[1]}
    return {"defaultValueComputed": text}


class _Builder:
    """Turns differences into units, knowing both schemas."""

    def __init__(self, old: Schema, new: Schema) -> None:
        self.old, self.new = old, new
        self.dialect = new.dialect or old.dialect
        self.renamed_tables: dict[str, Table] = {}
        self.renamed_columns: dict[tuple[str, str], str] = {}

    # -- names and types --

    def _table(self, key: str | None) -> Table | None:
        if key is None:
            return None
        return self.new.tables.get(key) or self.old.tables.get(key)

    def _where(self, key: str | None, table: Table | None = None) -> dict[str, Any]:
        """``tableName`` (and ``schemaName``) of the table ``key``."""
        table = table or self._table(key)
        if table is not None:
            return {"schemaName": table.schema, "tableName": table.name}
        schema, _, name = (key or "").rpartition(".")
        return {"schemaName": schema or None, "tableName": name}

    def type_of(self, column: Column) -> str:
        return liquibase_type(column.type, self.dialect)

    def _serial(self, table: Table, column: Column) -> str | None:
        """PostgreSQL's serial types, as ``create_all`` makes an integer key: an integer with the default
        ``nextval('<table>_<column>_seq')`` of the sequence it owns."""
        if self.dialect != "postgresql" or column.default is None or column.identity is not None:
            return None
        sequence = _NEXTVAL.match(column.default.strip())
        if sequence is None or sequence[1].split(".")[-1].strip('"') != f"{table.name}_{column.name}_seq":
            return None
        return {"int": "serial", "bigint": "bigserial", "smallint": "smallserial"}.get(self.type_of(column))

    def _rowid(self, table: Table, column: Column) -> bool:
        """SQLite's one INTEGER primary key is the rowid, which numbers new rows itself: generated as
        autoIncrement, it numbers them on the other databases too (and is the same column on SQLite)."""
        pk = table.primary_key
        return (
            self.dialect == "sqlite"
            and pk is not None
            and pk.columns == (column.name,)
            and column.type.upper() == "INTEGER"
        )

    def column(self, table: Table, column: Column, *, nullable_inline: bool = True) -> dict[str, Any]:
        """The ``column`` of createTable / addColumn (without table-level keys)."""
        serial = self._serial(table, column)
        liquibase = serial or self.type_of(column)
        if column.computed is not None:
            stored = {True: " STORED", False: " VIRTUAL"}.get(column.computed.persisted, "")  # type: ignore[arg-type]
            liquibase = f"{column.type} GENERATED ALWAYS AS ({column.computed.sqltext}){stored}"
        out: dict[str, Any] = {"name": column.name, "type": liquibase}
        if serial is None and column.computed is None:
            out |= default_attributes(column.default, liquibase)
        if column.identity is not None:
            out |= {
                "autoIncrement": True,
                "generationType": "ALWAYS" if column.identity.always else None,
                "startWith": column.identity.start,
                "incrementBy": column.identity.increment,
            }
        elif (column.autoincrement or self._rowid(table, column)) and serial is None:
            out["autoIncrement"] = True
        out["remarks"] = column.comment
        if nullable_inline and not column.nullable:
            out["constraints"] = {"nullable": False}
        return out

    # -- the units --

    def units(self, differences: list[Difference]) -> list[_Unit]:
        self.renamed_tables = {
            d.old.key: d.new for d in differences if d.kind == "rename_table" and isinstance(d.old, Table)
        }
        self.renamed_columns = {
            (d.table or "", d.old.name): d.new.name
            for d in differences
            if d.kind == "rename_column" and isinstance(d.old, Column) and isinstance(d.new, Column)
        }
        added = {d.table: d.new for d in differences if d.kind == "add_table" and isinstance(d.new, Table)}
        dropped = {d.table: d.old for d in differences if d.kind == "drop_table" and isinstance(d.old, Table)}
        units: list[_Unit] = []
        units += self._new_tables(added)
        units += self._dropped_tables(dropped)
        paired, done = self._pairs(differences)
        units += paired
        for d in differences:
            if d.kind in ("add_table", "drop_table") or id(d) in done:
                continue
            if d.table in added and d.kind.startswith("add_") and self._covered(added[d.table], d):
                continue  # part of the new table's own changeSet
            handler = getattr(self, f"_{d.kind}", None)
            if handler is None:
                log.warning("no changeSet generated for %s: yamlbase cannot write this change", d.describe())
                continue
            for unit in handler(d):
                if d.note:
                    unit.notes.append(d.note)
                if d.destructive and unit.destructive is None and d.kind != "alter_column":
                    unit.destructive = d.describe()
                units.append(unit)
        return units

    def _pairs(self, differences: list[Difference]) -> tuple[list[_Unit], set[int]]:
        """A drop and an add that are one change: a key, constraint or index that only changed its name (a table
        renamed on PostgreSQL keeps ``<old>_pkey``; ``create_all`` names it after the new table) is renamed, and
        an enum type whose values were removed or moved is rebuilt. Returns their units and the differences
        they consume (by ``id``)."""
        units: list[_Unit] = []
        done: set[int] = set()
        by_kind: dict[tuple[str, str | None], list[Difference]] = {}
        for d in differences:
            by_kind.setdefault((d.kind, d.table), []).append(d)
        for kind in ("primary_key", "unique", "foreign_key", "check", "index"):
            if self.dialect != "postgresql":
                break
            for (k, table), drops in sorted(by_kind.items(), key=lambda item: (item[0][0], item[0][1] or "")):
                if k != f"drop_{kind}":
                    continue
                adds = by_kind.get((f"add_{kind}", table), [])
                for drop in drops:
                    add = next((a for a in adds if id(a) not in done and _same_but_name(drop.old, a.new)), None)
                    if add is None or not getattr(drop.old, "name", None) or not getattr(add.new, "name", None):
                        continue
                    done |= {id(drop), id(add)}
                    units.append(self._rename_object(kind, table, drop.old.name, add.new.name))  # type: ignore[union-attr]
        for drop in by_kind.get(("drop_enum", None), []):
            add = next(
                (
                    a
                    for a in by_kind.get(("add_enum", None), [])
                    if isinstance(a.new, Enum) and isinstance(drop.old, Enum) and a.new.name == drop.old.name
                ),
                None,
            )
            if add is None or id(add) in done:
                continue
            assert isinstance(drop.old, Enum) and isinstance(add.new, Enum)
            done |= {id(drop), id(add)}
            gone = [v for v in drop.old.values if v not in add.new.values]
            what = f"removes the values {', '.join(gone)} of enum type {drop.old.name}" if gone else ""
            units.append(
                _Unit(
                    _TYPES,
                    (0, add.new.name),
                    [self._rebuild_enum(add.new, list(add.new.values))],
                    [self._rebuild_enum(drop.old, list(drop.old.values))],
                    destructive=f"{what}: rows holding them must be changed first" if gone else None,
                    notes=[n for n in (drop.note,) if n],
                )
            )
        return units, done

    def _rename_object(self, kind: str, table: str | None, old: str, new: str) -> _Unit:
        """PostgreSQL's rename of a constraint or an index (Liquibase has no change type for it)."""
        where = self._where(table)
        qualified = f"{where['schemaName']}.{where['tableName']}" if where["schemaName"] else where["tableName"]
        if kind == "index":
            forward, back = f"ALTER INDEX {old} RENAME TO {new}", f"ALTER INDEX {new} RENAME TO {old}"
        else:
            forward = f"ALTER TABLE {qualified} RENAME CONSTRAINT {old} TO {new}"
            back = f"ALTER TABLE {qualified} RENAME CONSTRAINT {new} TO {old}"
        first, undo = _sql(forward, back)
        return _Unit(_RENAMES, (2, table or "", old), [first], [undo])

    @staticmethod
    def _covered(table: Table, d: Difference) -> bool:
        return d.new in (*table.columns, *table.indexes, *table.foreign_keys, *table.unique_constraints,
                         *table.checks, table.primary_key)  # fmt: skip

    def _new_tables(self, added: Mapping[str | None, Table]) -> list[_Unit]:
        order, deferred = _creation_order({key: t for key, t in added.items() if key is not None})
        units = []
        created: set[str] = set()
        for position, key in enumerate(order):
            table = added[key]
            created.add(key)
            units.append(self._create_table(table, position, lambda ref: ref in created or ref not in added))
        for key, fk in deferred:
            units.append(_Unit(_ADD_FOREIGN_KEYS, (key, fk.name or ""), [self._add_fk(added[key], fk)]))
        return units

    def _create_table(self, table: Table, position: int, exists: Any) -> _Unit:
        pk = table.primary_key
        names = [c.name for c in table.columns]
        inline_pk = pk is not None and list(pk.columns) == [n for n in names if n in pk.columns]
        pk_name = pk.name if pk is not None and pk.name != capabilities(self.dialect).primary_key_name else None
        columns: list[dict[str, Any]] = []
        after: list[dict[str, Any]] = []
        inline_fks: dict[str, ForeignKey] = {}
        for fk in sorted(table.foreign_keys, key=_fk_key):
            if (
                len(fk.columns) == 1
                and fk.ondelete in (None, "CASCADE")
                and fk.onupdate is None
                and not fk.deferrable
                and fk.columns[0] not in inline_fks
                and (exists(_referred_key(fk)) or _referred_key(fk) == table.key)
            ):
                inline_fks[fk.columns[0]] = fk
        inline_uniques: dict[str, UniqueConstraint] = {}  # one per column; any other on it is added after
        for unique in table.unique_constraints:
            if len(unique.columns) == 1:
                inline_uniques.setdefault(unique.columns[0], unique)
        unnamed_checks = [c for c in table.checks if c.name is None]
        for column in table.columns:
            col = self.column(table, column)
            constraints: dict[str, Any] = col.pop("constraints", {})
            if inline_pk and pk is not None and column.name in pk.columns:
                constraints |= {"primaryKey": True, "nullable": False, "primaryKeyName": pk_name}
            unique = inline_uniques.get(column.name)
            if unique is not None:
                constraints |= {"unique": True, "uniqueConstraintName": unique.name}
            fk = inline_fks.get(column.name)
            if fk is not None:
                constraints |= {
                    "foreignKeyName": fk.name,
                    "referencedTableName": fk.referred_table,
                    "referencedTableSchemaName": fk.referred_schema,
                    "referencedColumnNames": ", ".join(fk.referred_columns),
                    "deleteCascade": True if fk.ondelete == "CASCADE" else None,
                }
            if column is table.columns[0] and unnamed_checks:
                # Unnamed CHECKs stay unnamed, as create_all writes them: Liquibase's column-level checkConstraint.
                constraints["checkConstraint"] = " AND ".join(f"({c.sqltext})" for c in unnamed_checks)
                if len(unnamed_checks) > 1:
                    log.warning("the unnamed CHECKs of %s are generated as one", table.key)
            constraints = {k: v for k, v in constraints.items() if v is not None}
            if constraints:
                col["constraints"] = constraints
            columns.append({"column": col})
        if pk is not None and not inline_pk:
            after.append(self._add_pk(table, pk))
        for unique in sorted(table.unique_constraints, key=lambda u: (u.name or "", u.columns)):
            if unique not in inline_uniques.values():
                after.append(self._unique_change(table, unique))
        for check in sorted((c for c in table.checks if c.name is not None), key=lambda c: c.name or ""):
            after.append(self._check_change(table, check))
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            after.extend(self._create_index(table, index).changes)
        for fk in sorted(table.foreign_keys, key=_fk_key):
            if fk not in inline_fks.values() and (exists(_referred_key(fk)) or _referred_key(fk) == table.key):
                after.append(self._add_fk(table, fk))
        create = change("createTable", **self._where(None, table), remarks=table.comment, columns=columns)
        # Dropping the table undoes it all: one by one, MySQL would refuse to drop an index a foreign key uses.
        rollback = [change("dropTable", **self._where(None, table))] if after else None
        return _Unit(_ADD_TABLES, (position,), [create, *after], rollback)

    def _dropped_tables(self, dropped: Mapping[str | None, Table]) -> list[_Unit]:
        tables = {key: t for key, t in dropped.items() if key is not None}
        order, cycle_fks = _creation_order(tables)
        units = []
        for key, fk in cycle_fks:  # a cycle among dropped tables: one of its keys goes first
            units.append(_Unit(_DROP_FOREIGN_KEYS, (key, fk.name or ""), [self._drop_fk(tables[key], fk)]))
        for position, key in enumerate(reversed(order)):
            table = tables[key]
            units.append(
                _Unit(
                    _DROP_TABLES,
                    (position,),
                    [change("dropTable", **self._where(None, table))],
                    destructive=f"drops table {table.key} and every row in it",
                )
            )
        return units

    # columns

    def _add_column(self, d: Difference) -> Iterator[_Unit]:
        table, column = self._table(d.table), d.new
        assert table is not None and isinstance(column, Column)
        notes = []
        if not column.nullable and column.default is None and column.computed is None and not column.autoincrement:
            notes.append(f"{d.table}.{column.name} is NOT NULL without a default: on a table with rows, give it one")
        position = [c.name for c in table.columns].index(column.name) if table.column(column.name) else 0
        changes = [change("addColumn", **self._where(d.table), columns=[{"column": self.column(table, column)}])]
        yield _Unit(_COLUMNS, (d.table, 0, position), changes, notes=notes)

    def _drop_column(self, d: Difference) -> Iterator[_Unit]:
        column = d.old
        assert isinstance(column, Column)
        yield _Unit(
            _COLUMNS,
            (d.table, 2, column.name),
            [change("dropColumn", **self._where(d.table), columnName=column.name)],
            destructive=f"drops column {d.table}.{column.name} and the data in it",
        )

    def _rename_table(self, d: Difference) -> Iterator[_Unit]:
        old, new = d.old, d.new
        assert isinstance(old, Table) and isinstance(new, Table)
        yield _Unit(
            _RENAMES,
            (0, old.key),
            [change("renameTable", schemaName=new.schema, oldTableName=old.name, newTableName=new.name)],
        )

    def _rename_column(self, d: Difference) -> Iterator[_Unit]:
        old, new = d.old, d.new
        assert isinstance(old, Column) and isinstance(new, Column)
        rename = change(
            "renameColumn",
            **self._where(d.table),
            oldColumnName=old.name,
            newColumnName=new.name,
            columnDataType=self.type_of(new),
        )
        yield _Unit(_RENAMES, (1, d.table, old.name), [rename])

    def _alter_column(self, d: Difference) -> Iterator[_Unit]:
        old, new = d.old, d.new
        table = self._table(d.table)
        assert isinstance(old, Column) and isinstance(new, Column) and table is not None
        where = self._where(d.table) | {"columnName": new.name}
        changed = set(d.changed)
        forward: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (change, the change that undoes it)
        narrowing: list[tuple[dict[str, Any], dict[str, Any]]] = []
        if "type" in changed:
            pair = (
                change("modifyDataType", **where, newDataType=self.type_of(new)),
                change("modifyDataType", **where, newDataType=self.type_of(old)),
            )
            (narrowing if d.destructive else forward).append(pair)
        new_type, old_type = self.type_of(new), self.type_of(old)
        if "nullable" in changed:
            add = change("addNotNullConstraint", **where, columnDataType=new_type)
            drop = change("dropNotNullConstraint", **where, columnDataType=new_type)
            forward.append((drop, add) if new.nullable else (add, drop))
        sequences = [_NEXTVAL.match((c.default or "").strip()) for c in (old, new)]
        if "default" in changed and sequences[0] and sequences[1]:
            # The sequence behind a renamed table's serial column: renamed, the default follows it.
            was, now = sequences[0][1], sequences[1][1]
            forward.append(
                (
                    change("renameSequence", oldSequenceName=was, newSequenceName=now),
                    change("renameSequence", oldSequenceName=now, newSequenceName=was),
                )
            )
        elif "default" in changed:
            forward.append((self._set_default(where, new, new_type), self._set_default(where, old, old_type)))
        if "comment" in changed:
            forward.append(
                (
                    change("setColumnRemarks", **where, remarks=new.comment or "", columnDataType=new_type),
                    change("setColumnRemarks", **where, remarks=old.comment or "", columnDataType=old_type),
                )
            )
        for name in sorted(changed - {"type", "nullable", "default", "comment"}):
            log.warning("no change generated for %s: yamlbase cannot write a change of %s", d.describe(), name)
        if narrowing:
            yield _Unit(
                _COLUMNS,
                (d.table, 1, new.name, 0),
                [c for c, _ in narrowing],
                [u for _, u in reversed(narrowing)],
                destructive=f"narrows the type of {d.table}.{new.name} from {old.type} to {new.type}: values that "
                "do not fit are refused or cut",
            )
        if forward:
            yield _Unit(
                _COLUMNS,
                (d.table, 1, new.name, 1),
                [c for c, _ in forward],
                [u for _, u in reversed(forward)],
                destructive=d.describe() if d.destructive and not narrowing else None,
            )

    def _set_default(self, where: dict[str, Any], column: Column, liquibase: str) -> dict[str, Any]:
        if column.default is None:
            return change("dropDefaultValue", **where, columnDataType=liquibase)
        return change(
            "addDefaultValue", **where, columnDataType=liquibase, **default_attributes(column.default, liquibase)
        )

    # keys and indexes

    def _add_pk(self, table: Table, pk: PrimaryKey) -> dict[str, Any]:
        name = pk.name if pk.name != capabilities(self.dialect).primary_key_name else None
        return change(
            "addPrimaryKey", **self._where(None, table), columnNames=", ".join(pk.columns), constraintName=name
        )

    def _add_primary_key(self, d: Difference) -> Iterator[_Unit]:
        table = self._table(d.table)
        assert isinstance(d.new, PrimaryKey) and table is not None
        yield _Unit(_ADD_KEYS, (d.table, 0, ""), [self._add_pk(table, d.new)])

    def _drop_primary_key(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, PrimaryKey)
        name = d.old.name if d.old.name != capabilities(self.dialect).primary_key_name else None
        yield _Unit(
            _DROP_KEYS, (d.table, 3, ""), [change("dropPrimaryKey", **self._where(d.table), constraintName=name)]
        )

    def _unique_change(self, table: Table, unique: UniqueConstraint) -> dict[str, Any]:
        return change(
            "addUniqueConstraint",
            **self._where(None, table),
            columnNames=", ".join(unique.columns),
            constraintName=unique.name,
        )

    def _add_unique(self, d: Difference) -> Iterator[_Unit]:
        table = self._table(d.table)
        assert isinstance(d.new, UniqueConstraint) and table is not None
        yield _Unit(_ADD_KEYS, (d.table, 1, d.new.name or ""), [self._unique_change(table, d.new)])

    def _drop_unique(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, UniqueConstraint)
        if d.old.name is None:
            log.warning("no changeSet generated for %s: an unnamed unique constraint cannot be dropped", d.describe())
            return
        drop = change("dropUniqueConstraint", **self._where(d.table), constraintName=d.old.name)
        yield _Unit(_DROP_KEYS, (d.table, 1, d.old.name), [drop])

    def _check_change(self, table: Table, check: CheckConstraint) -> dict[str, Any]:
        return change(
            "addCheckConstraint", **self._where(None, table), constraintName=check.name, constraintBody=check.sqltext
        )

    def _add_check(self, d: Difference) -> Iterator[_Unit]:
        table = self._table(d.table)
        assert isinstance(d.new, CheckConstraint) and table is not None
        check = d.new
        notes = []
        if check.name is None:
            check = CheckConstraint(check.sqltext, f"ck_{table.name}_{len(table.checks)}")
            notes.append(f"the CHECK has no name in the models; it is called {check.name} here")
        yield _Unit(_ADD_KEYS, (d.table, 2, check.name), [self._check_change(table, check)], notes=notes)

    def _drop_check(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, CheckConstraint)
        if d.old.name is None:
            log.warning("no changeSet generated for %s: an unnamed CHECK cannot be dropped by name", d.describe())
            return
        drop = change("dropCheckConstraint", **self._where(d.table), constraintName=d.old.name)
        yield _Unit(_DROP_KEYS, (d.table, 2, d.old.name), [drop])

    def _create_index(self, table: Table, index: Index) -> _Unit:
        assert index.name is not None
        names = {c.name for c in table.columns}
        if index.where is not None:
            # Liquibase's createIndex has no WHERE: a partial index is SQL, and so is its rollback.
            columns = ", ".join(index.columns)
            unique = "UNIQUE " if index.unique else ""
            create = f"CREATE {unique}INDEX {index.name} ON {table.key} ({columns}) WHERE {index.where}"
            forward = change("sql", sql=create)
            back = change("dropIndex", **self._where(None, table), indexName=index.name)
            return _Unit(_ADD_KEYS, (table.key, 3, index.name), [forward], [back])
        columns = [{"column": {"name": c} if c in names else {"name": c, "computed": True}} for c in index.columns]
        create = change(
            "createIndex",
            **self._where(None, table),
            indexName=index.name,
            unique=True if index.unique else None,
            columns=columns,
        )
        return _Unit(_ADD_KEYS, (table.key, 3, index.name), [create])

    def _add_index(self, d: Difference) -> Iterator[_Unit]:
        table = self._table(d.table)
        assert isinstance(d.new, Index) and table is not None
        if d.new.name is None:
            log.warning("no changeSet generated for %s: an index needs a name", d.describe())
            return
        yield self._create_index(table, d.new)

    def _drop_index(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, Index)
        if d.old.name is None:
            log.warning("no changeSet generated for %s: an unnamed index cannot be dropped", d.describe())
            return
        yield _Unit(
            _DROP_KEYS, (d.table, 0, d.old.name), [change("dropIndex", **self._where(d.table), indexName=d.old.name)]
        )

    def _add_fk(self, table: Table, fk: ForeignKey) -> dict[str, Any]:
        name = fk.name or f"fk_{table.name}_{'_'.join(fk.columns)}"
        return change(
            "addForeignKeyConstraint",
            baseTableSchemaName=table.schema,
            baseTableName=table.name,
            baseColumnNames=", ".join(fk.columns),
            referencedTableSchemaName=fk.referred_schema,
            referencedTableName=fk.referred_table,
            referencedColumnNames=", ".join(fk.referred_columns),
            constraintName=name,
            onDelete=fk.ondelete,
            onUpdate=fk.onupdate,
            deferrable=fk.deferrable,
            initiallyDeferred=True if (fk.initially or "").upper() == "DEFERRED" else None,
        )

    def _add_foreign_key(self, d: Difference) -> Iterator[_Unit]:
        table = self._table(d.table)
        assert isinstance(d.new, ForeignKey) and table is not None
        add = self._add_fk(table, d.new)
        notes = (
            [] if d.new.name else [f"unnamed in the models, the foreign key is {add[ADD_FK]['constraintName']} here"]
        )
        yield _Unit(_ADD_FOREIGN_KEYS, (d.table, _fk_key(d.new)), [add], notes=notes)

    def _drop_fk(self, table: Table, fk: ForeignKey) -> dict[str, Any]:
        return change(
            "dropForeignKeyConstraint",
            baseTableSchemaName=table.schema,
            baseTableName=table.name,
            constraintName=fk.name,
        )

    def _drop_foreign_key(self, d: Difference) -> Iterator[_Unit]:
        table = self._table(d.table)
        assert isinstance(d.old, ForeignKey) and table is not None
        if d.old.name is None:
            log.warning("no changeSet generated for %s: an unnamed foreign key cannot be dropped", d.describe())
            return
        yield _Unit(_DROP_FOREIGN_KEYS, (d.table, _fk_key(d.old)), [self._drop_fk(table, d.old)])

    def _table_comment(self, d: Difference) -> Iterator[_Unit]:
        where = self._where(d.table)
        old = d.old if isinstance(d.old, str) else ""
        new = d.new if isinstance(d.new, str) else ""
        yield _Unit(
            _COMMENTS,
            (d.table,),
            [change("setTableRemarks", **where, remarks=new)],
            [change("setTableRemarks", **where, remarks=old)],
        )

    # views, sequences, enums

    def _create_view(self, view: View) -> dict[str, Any]:
        definition = view.definition.strip().rstrip(";").strip()
        full = bool(_CREATE_VIEW.match(definition))
        return change(
            "createView",
            schemaName=view.schema,
            viewName=view.name,
            selectQuery=definition,
            fullDefinition=True if full else None,
            remarks=view.comment,
        )

    def _drop_view_change(self, view: View) -> dict[str, Any]:
        return change("dropView", schemaName=view.schema, viewName=view.name)

    def _add_view(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.new, View)
        yield _Unit(_VIEWS, (d.new.name,), [self._create_view(d.new)])

    def _drop_view(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, View)
        yield _Unit(
            _DROP_VIEWS,
            (d.old.name,),
            [self._drop_view_change(d.old)],
            [self._create_view(d.old)],
            destructive=f"drops view {d.old.name}",
        )

    def _alter_view(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, View) and isinstance(d.new, View)
        # Dropped before the tables change (PostgreSQL refuses to alter a column a view uses), created after.
        yield _Unit(_DROP_VIEWS, (d.old.name,), [self._drop_view_change(d.old)], [self._create_view(d.old)])
        yield _Unit(_VIEWS, (d.new.name,), [self._create_view(d.new)])

    @staticmethod
    def _sequence_attributes(sequence: Sequence) -> dict[str, Any]:
        return {
            "incrementBy": sequence.increment,
            "minValue": sequence.min_value,
            "maxValue": sequence.max_value,
            "cacheSize": sequence.cache,
            "cycle": sequence.cycle or None,
        }

    def _add_sequence(self, d: Difference) -> Iterator[_Unit]:
        s = d.new
        assert isinstance(s, Sequence)
        dtype = liquibase_type(s.data_type, self.dialect) if s.data_type else None
        create = change(
            "createSequence",
            schemaName=s.schema,
            sequenceName=s.name,
            startValue=s.start,
            dataType=dtype,
            **self._sequence_attributes(s),
        )
        yield _Unit(_TYPES, (1, s.name), [create])

    def _drop_sequence(self, d: Difference) -> Iterator[_Unit]:
        s = d.old
        assert isinstance(s, Sequence)
        yield _Unit(_DROP_TYPES, (1, s.name), [change("dropSequence", schemaName=s.schema, sequenceName=s.name)])

    def _alter_sequence(self, d: Difference) -> Iterator[_Unit]:
        old, new = d.old, d.new
        assert isinstance(old, Sequence) and isinstance(new, Sequence)
        before, after = self._sequence_attributes(old), self._sequence_attributes(new)
        keys = [k for k in after if before[k] != after[k]]
        if "cycle" in keys:
            before["cycle"], after["cycle"] = old.cycle, new.cycle
        if not keys:
            log.warning("no changeSet generated for %s: alterSequence cannot change %s", d.describe(), d.changed)
            return
        where = {"schemaName": new.schema, "sequenceName": new.name}
        yield _Unit(
            _TYPES,
            (2, new.name),
            [change("alterSequence", **where, **{k: after[k] for k in keys})],
            [change("alterSequence", **where, **{k: before[k] for k in keys})],
        )

    def _enum_sql(self, enum: Enum) -> str:
        values = ", ".join(_quote_literal(v) for v in enum.values)
        return f"CREATE TYPE {self._enum_name(enum)} AS ENUM ({values})"

    @staticmethod
    def _enum_name(enum: Enum) -> str:
        return f"{enum.schema}.{enum.name}" if enum.schema else enum.name

    def _add_enum(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.new, Enum)
        forward, back = _sql(self._enum_sql(d.new), f"DROP TYPE {self._enum_name(d.new)}")
        yield _Unit(_TYPES, (0, d.new.name), [forward], [back])

    def _drop_enum(self, d: Difference) -> Iterator[_Unit]:
        assert isinstance(d.old, Enum)
        forward, back = _sql(f"DROP TYPE {self._enum_name(d.old)}", self._enum_sql(d.old))
        yield _Unit(_DROP_TYPES, (0, d.old.name), [forward], [back], destructive=f"drops enum type {d.old.name}")

    def _add_enum_value(self, d: Difference) -> Iterator[_Unit]:
        value = d.new if isinstance(d.new, str) else None
        # compare gives the old Enum beside the value; the new one holds its place
        key = None
        if isinstance(d.old, Enum):
            key = f"{d.old.schema}.{d.old.name}" if d.old.schema else d.old.name
        enum = self._enum_for(key or d.table, value)
        if value is None or enum is None:
            log.warning("no changeSet generated for %s: its enum type is not in the new schema", d.describe())
            return
        old = self.old.enums.get(enum[0])
        assert value is not None
        new = enum[1]
        values = list(new.values)
        place = values.index(value)
        following = next((v for v in values[place + 1 :] if old is None or v in old.values), None)
        where = f" BEFORE {_quote_literal(following)}" if following is not None else ""
        name = self._enum_name(new)
        forward = change("sql", sql=f"ALTER TYPE {name} ADD VALUE {_quote_literal(value)}{where}", dbms="postgresql")
        back = self._rebuild_enum(new, [v for v in values if v != value] if old is None else list(old.values))
        yield _Unit(_TYPES, (0, new.name, place), [forward], [back])

    def _enum_for(self, key: str | None, value: str | None) -> tuple[str, Enum] | None:
        if key is not None and key in self.new.enums:
            return key, self.new.enums[key]
        for k, enum in sorted(self.new.enums.items()):
            old = self.old.enums.get(k)
            if value in enum.values and old is not None and value not in old.values:
                return k, enum
        return None

    def _rebuild_enum(self, enum: Enum, values: list[str]) -> dict[str, Any]:
        """PostgreSQL cannot drop an enum value: the type is rebuilt with ``values`` and its columns moved to it."""
        name, old_name = self._enum_name(enum), f"{enum.name}_old"
        statements = [f"ALTER TYPE {name} RENAME TO {old_name}"]
        statements.append(self._enum_sql(Enum(enum.name, tuple(values), enum.schema)))
        for table, column in self._enum_columns(enum):
            where = f"ALTER TABLE {table.key} ALTER COLUMN {column.name}"
            if column.default is not None:
                statements.append(f"{where} DROP DEFAULT")
            statements.append(f"{where} TYPE {name} USING {column.name}::text::{name}")
            if column.default is not None:
                statements.append(f"{where} SET DEFAULT {column.default.split('::')[0]}")
        qualified_old = f"{enum.schema}.{old_name}" if enum.schema else old_name
        statements.append(f"DROP TYPE {qualified_old}")
        return change("sql", sql=";\n".join(statements), dbms="postgresql")

    def _enum_columns(self, enum: Enum) -> list[tuple[Table, Column]]:
        """The columns of type ``enum`` where enum types change: the old tables, under the names the renames (run
        first) gave them and their columns."""
        found = []
        for key in sorted(self.old.tables):
            table = self.old.tables[key]
            renamed = self.renamed_tables.get(key, table)
            for column in table.columns:
                if column.type.strip('"').split(".")[-1] == enum.name:
                    name = self.renamed_columns.get((renamed.key, column.name), column.name)
                    found.append((renamed, replace(column, name=name)))
        return found


def _same_but_name(old: object, new: object) -> bool:
    try:
        return type(old) is type(new) and replace(old, name=None) == replace(new, name=None)  # type: ignore[type-var]
    except TypeError:
        return False


def _fk_key(fk: ForeignKey) -> tuple[str, ...]:
    return (fk.name or "", *fk.columns, fk.referred_table)


def _referred_key(fk: ForeignKey) -> str:
    return f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table


def _creation_order(tables: Mapping[str, Table]) -> tuple[list[str], list[tuple[str, ForeignKey]]]:
    """``tables`` ordered so that each comes after the tables among them it references (by name where free), and
    the foreign keys that close a cycle, which must be added after (or dropped before) the tables."""
    needs = {
        key: {_referred_key(fk) for fk in t.foreign_keys if _referred_key(fk) in tables and _referred_key(fk) != key}
        for key, t in tables.items()
    }
    order: list[str] = []
    deferred: list[tuple[str, ForeignKey]] = []
    done: set[str] = set()
    while len(order) < len(tables):
        ready = sorted(k for k in tables if k not in done and needs[k] <= done)
        if not ready:  # a cycle: the first remaining table goes now, its keys to the others later
            key = min(k for k in tables if k not in done)
            deferred += [
                (key, fk)
                for fk in sorted(tables[key].foreign_keys, key=_fk_key)
                if _referred_key(fk) in tables and _referred_key(fk) not in done and _referred_key(fk) != key
            ]
            ready = [key]
        order.append(ready[0])
        done.add(ready[0])
    return order, deferred
