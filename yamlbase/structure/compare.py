"""Two schemas compared: the differences that take the old one (the reference) to the new one.

One comparison per kind of object (as Alembic's ``autogenerate/compare``: tables, columns, keys, constraints,
indexes, comments, views, sequences, enums), over the typed model. Values are compared as the database reported
them: two schemas reflected from the same dialect compare exactly, so nothing differs that the database would not
tell apart. Renames are never guessed: a table or column is renamed only when ``renames`` says so; a removed and
an added one of the same shape stay a drop and an add, whose notes suggest the rename.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any, TypeVar

from yamlbase.structure.model import (
    CheckConstraint,
    Column,
    Difference,
    Enum,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from yamlbase.structure.model import (
    Sequence as SequenceModel,
)

T = TypeVar("T")


def compare(old: Schema, new: Schema, *, renames: Mapping[str, str] | None = None) -> list[Difference]:
    """What it takes to go from ``old`` to ``new``, in a readable order (enums and sequences, tables and what they
    hold, then views and routines); empty when they are the same.

    ``renames`` maps ``"old_table"`` to ``"new_table"`` and ``"table.old_column"`` to ``"table.new_column"`` (the
    table by its old or its new name); a hint whose old object is gone or whose new one is missing is ignored (it
    was applied already). Drops of tables, columns, views and enum values and narrowed types are ``destructive``.
    """
    renames = dict(renames or {})
    across = old.dialect != new.dialect
    diffs: list[Difference] = []
    diffs += _enums(old, new)
    diffs += _sequences(old, new)
    diffs += _tables(old, new, renames)
    diffs += _views(old, new)
    diffs += _routines(old, new)
    if across:
        note = (
            f"compared across dialects ({old.dialect} and {new.dialect}): types, defaults and expressions are "
            "each database's own spelling, so this may be a difference of spelling only"
        )
        diffs = [
            replace(d, note=f"{d.note}; {note}" if d.note else note) if d.kind.startswith("alter_") else d
            for d in diffs
        ]
    return diffs


# --- tables and columns ----------------------------------------------------------------------------------------


def _table_renames(old: Schema, new: Schema, renames: Mapping[str, str]) -> dict[str, str]:
    """Hinted table renames that apply: old key → new key."""
    found = {}
    for was, now in renames.items():
        if "." in was and was not in old.tables:
            continue  # a column hint ("table.column")
        if was in old.tables and now in new.tables and now not in old.tables and was not in new.tables:
            found[was] = now
    return found


def _column_renames(
    table_old: str, table_new: str, old: Table, new: Table, renames: Mapping[str, str]
) -> dict[str, str]:
    """Hinted column renames for one table: old column name → new column name."""
    found = {}
    for was, now in renames.items():
        t_was, _, c_was = was.rpartition(".")
        t_now, _, c_now = now.rpartition(".")
        if not t_was or t_was not in (table_old, table_new) or (t_now and t_now not in (table_old, table_new)):
            continue
        if old.column(c_was) and new.column(c_now) and not old.column(c_now) and not new.column(c_was):
            found[c_was] = c_now
    return found


def _shape(table: Table) -> frozenset[tuple[str, str, bool]]:
    return frozenset((c.name, c.type, c.nullable) for c in table.columns)


def _rename_note(kind: str, was: str, now: str, hint: str) -> str:
    if kind == "drop":
        return (
            f"looks like a rename of {was} to {now} (same shape); as it stands the rows are lost: give a hint "
            f"({hint} or --rename {was}={now}) to rename it and keep them"
        )
    return f"possible rename of {was} to {now} (see the drop of {was})"


def _tables(old: Schema, new: Schema, renames: Mapping[str, str]) -> list[Difference]:
    diffs: list[Difference] = []
    table_renames = _table_renames(old, new, renames)
    renamed_to = set(table_renames.values())
    removed = [k for k in old.tables if k not in new.tables and k not in table_renames]
    added = [k for k in new.tables if k not in old.tables and k not in renamed_to]
    suggested: dict[str, str] = {}
    for was in removed:
        match = [now for now in added if _shape(old.tables[was]) == _shape(new.tables[now])]
        if len(match) == 1 and match[0] not in suggested.values():
            suggested[was] = match[0]
    back = {now: was for was, now in suggested.items()}
    for was, now in sorted(table_renames.items()):
        diffs.append(Difference("rename_table", table=now, old=old.tables[was], new=new.tables[now]))
    for key in sorted(added):
        was = back.get(key)
        note = None if was is None else _rename_note("add", was, key, "")
        diffs.append(Difference("add_table", table=key, new=new.tables[key], note=note))
    pairs = [(k, k) for k in sorted(old.tables) if k in new.tables] + sorted(table_renames.items())
    for was, now in pairs:
        diffs += _table(was, now, old.tables[was], new.tables[now], renames, table_renames)
    for key in sorted(removed):
        now = suggested.get(key)
        hint = f'__table_args__ = {{"info": {{"renamed_from": "{key}"}}}}'
        note = None if now is None else _rename_note("drop", key, now, hint)
        diffs.append(Difference("drop_table", table=key, old=old.tables[key], destructive=True, note=note))
    return diffs


def _column_shape(c: Column) -> tuple[Any, ...]:
    return (c.type, c.nullable, c.default, c.identity, c.computed)


def _table(
    key_old: str,
    key_new: str,
    old: Table,
    new: Table,
    renames: Mapping[str, str],
    table_renames: Mapping[str, str],
) -> list[Difference]:
    """The differences inside one table (``key_new`` is its name in the new schema, ``key_old`` in the old)."""
    diffs: list[Difference] = []
    column_renames = _column_renames(old.name, new.name, old, new, renames)
    old_names = {c.name for c in old.columns}
    new_names = {c.name for c in new.columns}
    removed = [c for c in old.columns if c.name not in new_names and c.name not in column_renames]
    added = [c for c in new.columns if c.name not in old_names and c.name not in column_renames.values()]
    suggested: dict[str, str] = {}
    for c in removed:
        match = [a.name for a in added if _column_shape(a) == _column_shape(c)]
        if len(match) == 1 and match[0] not in suggested.values():
            suggested[c.name] = match[0]
    back = {now: was for was, now in suggested.items()}
    for was, now in sorted(column_renames.items()):
        diffs.append(Difference("rename_column", table=key_new, old=old.column(was), new=new.column(now)))
    for c in added:
        was = back.get(c.name)
        note = None if was is None else _rename_note("add", f"{key_new}.{was}", f"{key_new}.{c.name}", "")
        diffs.append(Difference("add_column", table=key_new, new=c, note=note))
    for c in new.columns:
        was = next((w for w, n in column_renames.items() if n == c.name), c.name)
        before = old.column(was)
        if before is not None:
            diffs += _column(key_new, before, c)
    # Keys, constraints and indexes compared in the new names (a renamed column or table is the same one).
    columns = {**{n: n for n in old_names}, **column_renames}
    old_mapped = _renamed(old, columns, table_renames)
    diffs += _primary_key(key_new, old_mapped, new)
    diffs += _constraints(
        key_new, "unique", old_mapped.unique_constraints, new.unique_constraints, _unique_signature, _unique_name
    )
    diffs += _constraints(key_new, "foreign_key", old_mapped.foreign_keys, new.foreign_keys, _fk_signature, _name)
    diffs += _constraints(key_new, "check", old_mapped.checks, new.checks, _check_signature, _name)
    diffs += _constraints(key_new, "index", old_mapped.indexes, new.indexes, _index_signature, _name)
    if (old.comment or None) != (new.comment or None):
        diffs.append(Difference("table_comment", table=key_new, old=old.comment, new=new.comment))
    for c in removed:
        now = suggested.get(c.name)
        hint = f'info={{"renamed_from": "{c.name}"}} on the column'
        note = None if now is None else _rename_note("drop", f"{key_new}.{c.name}", f"{key_new}.{now}", hint)
        diffs.append(Difference("drop_column", table=key_new, old=c, destructive=True, note=note))
    return diffs


def _renamed(table: Table, columns: Mapping[str, str], table_renames: Mapping[str, str]) -> Table:
    """``table``'s keys, constraints and indexes with renamed columns and referenced tables in their new names."""

    renamed = {old: new for old, new in columns.items() if old != new}

    def words(sql: str) -> str:
        # A renamed column in an expression (a check, an expression index), as the database rewrites it.
        for old, new in renamed.items():
            sql = re.sub(rf'(?<![\w."`]){re.escape(old)}(?![\w"`])|(?<=["`]){re.escape(old)}(?=["`])', new, sql)
        return sql

    def cols(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(columns[n] if n in columns else words(n) for n in names)

    return replace(
        table,
        primary_key=replace(table.primary_key, columns=cols(table.primary_key.columns)) if table.primary_key else None,
        unique_constraints=tuple(replace(u, columns=cols(u.columns)) for u in table.unique_constraints),
        foreign_keys=tuple(
            replace(
                fk,
                columns=cols(fk.columns),
                referred_table=table_renames.get(fk.referred_table, fk.referred_table),
                referred_columns=fk.referred_columns if fk.referred_table != table.name else cols(fk.referred_columns),
            )
            for fk in table.foreign_keys
        ),
        checks=tuple(replace(ck, sqltext=words(ck.sqltext)) for ck in table.checks),
        indexes=tuple(
            replace(ix, columns=cols(ix.columns), where=None if ix.where is None else words(ix.where))
            for ix in table.indexes
        ),
    )


_COLUMN_ATTRIBUTES = ("type", "nullable", "default", "autoincrement", "identity", "computed", "comment")


def _column(table: str, old: Column, new: Column) -> list[Difference]:
    changed = tuple(a for a in _COLUMN_ATTRIBUTES if getattr(old, a) != getattr(new, a))
    if not changed:
        return []
    destructive, note = False, None
    if "type" in changed:
        destructive, note = narrowing(old.type, new.type)
    return [
        Difference("alter_column", table=table, old=old, new=new, changed=changed, destructive=destructive, note=note)
    ]


# --- types -----------------------------------------------------------------------------------------------------

_INTEGERS = {
    "tinyint": 1,
    "smallint": 2,
    "int2": 2,
    "mediumint": 3,
    "integer": 4,
    "int": 4,
    "int4": 4,
    "bigint": 8,
    "int8": 8,
}
_FLOATS = {"real": 4, "float4": 4, "float": 8, "double": 8, "double precision": 8, "float8": 8}
_BOUNDED_TEXT = {"char", "character", "varchar", "character varying", "nchar", "nvarchar", "varchar2", "nvarchar2"}
_TEXT = {"text", "clob", "tinytext", "mediumtext", "longtext", "string"}
_TEXT_SIZE = {"tinytext": 255, "text": 65535, "mediumtext": 16777215, "longtext": 4294967295}
_DECIMALS = {"numeric", "decimal", "number"}
_TYPE = re.compile(r"^\s*([a-z][a-z0-9_ ]*)(?:\(\s*([^)]*)\))?\s*(.*)$", re.IGNORECASE)
_KNOWN_TYPES = set(_INTEGERS) | set(_FLOATS) | _BOUNDED_TEXT | _TEXT | _DECIMALS


def _parse_type(text: str) -> tuple[str, list[int], str]:
    """``(name, numeric arguments, what follows)``: ``varchar(40)`` → ``("varchar", [40], "")``, ``integer
    unsigned`` → ``("integer", [], "unsigned")``."""
    match = _TYPE.match(text.lower())
    if not match:
        return text.lower().strip(), [], ""
    name, rest = match.group(1).strip(), match.group(3).strip()
    words = name.split()
    for n in (2, 1):
        if name not in _KNOWN_TYPES and len(words) > n and " ".join(words[:n]) in _KNOWN_TYPES:
            name, rest = " ".join(words[:n]), " ".join([*words[n:], rest]).strip()
            break
    args = [int(a) for a in re.split(r"\s*,\s*", match.group(2) or "") if a.strip().isdigit()]
    return name, args, rest


_ENUM = re.compile(r"^\s*(enum|set)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def _enum_values(text: str) -> list[str] | None:
    """The values of ``ENUM('a','b')`` / ``SET(...)`` (None for another type)."""
    match = _ENUM.match(text)
    if not match:
        return None
    return [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", match.group(2))]


def _holds(new: str, new_unsigned: bool, old: str, old_unsigned: bool) -> bool:
    """Whether every value of the integer type ``old`` fits in ``new``."""

    def bounds(name: str, unsigned: bool) -> tuple[int, int]:
        bits = 8 * _INTEGERS[name]
        return (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)

    (o_low, o_high), (n_low, n_high) = bounds(old, old_unsigned), bounds(new, new_unsigned)
    return n_low <= o_low and o_high <= n_high


def narrowing(old: str, new: str) -> tuple[bool, str | None]:
    """Whether changing a column's type from ``old`` to ``new`` may lose values (``destructive``), and what to say:
    a known widening (a longer string, a larger integer, more digits, bounded text to unbounded) is not; a known
    narrowing is; any other change is marked destructive, saying that yamlbase cannot tell."""
    enums = _enum_values(old), _enum_values(new)
    if enums[0] is not None and enums[1] is not None:  # MySQL's inline ENUM / SET: values kept or not
        gone = [v for v in enums[0] if v not in enums[1]]
        return (True, f"values {', '.join(gone)} are no longer allowed") if gone else (False, None)
    (o_name, o_args, o_rest), (n_name, n_args, n_rest) = _parse_type(old), _parse_type(new)
    if o_rest.replace("unsigned", "").strip() != n_rest.replace("unsigned", "").strip():
        return True, f"yamlbase cannot tell whether every {old} value fits in {new}"
    narrower = f"{new} is narrower than {old}: values that do not fit are cut or refused"
    if o_name in _INTEGERS and n_name in _INTEGERS:
        return (
            (True, narrower)
            if not _holds(n_name, "unsigned" in n_rest, o_name, "unsigned" in o_rest)
            else (False, None)
        )
    if o_name in _FLOATS and n_name in _FLOATS:
        return (True, narrower) if _FLOATS[n_name] < _FLOATS[o_name] else (False, None)
    text_like = _BOUNDED_TEXT | _TEXT
    if o_name in text_like and n_name in text_like:
        size_old = o_args[0] if o_args else _TEXT_SIZE.get(o_name, float("inf"))
        size_new = n_args[0] if n_args else _TEXT_SIZE.get(n_name, float("inf"))
        if o_name in _BOUNDED_TEXT and not o_args and o_name.startswith("char"):
            size_old = 1
        if n_name in _BOUNDED_TEXT and not n_args and n_name.startswith("char"):
            size_new = 1
        return (True, narrower) if size_new < size_old else (False, None)
    if o_name in _DECIMALS and n_name in _DECIMALS and o_args and n_args:
        o_p, o_s = o_args[0], o_args[1] if len(o_args) > 1 else 0
        n_p, n_s = n_args[0], n_args[1] if len(n_args) > 1 else 0
        return (True, narrower) if n_p - n_s < o_p - o_s or n_s < o_s else (False, None)
    if o_name in _INTEGERS and n_name in _DECIMALS and n_args:
        digits = {1: 3, 2: 5, 3: 8, 4: 10, 8: 19}[_INTEGERS[o_name]]
        scale = n_args[1] if len(n_args) > 1 else 0
        return (True, narrower) if n_args[0] - scale < digits else (False, None)
    if o_name in _INTEGERS and n_name in _TEXT:
        return False, None
    return True, f"yamlbase cannot tell whether every {old} value fits in {new}"


# --- keys, constraints and indexes ------------------------------------------------------------------------------


def _primary_key(table: str, old: Table, new: Table) -> list[Difference]:
    if old.primary_key == new.primary_key:
        return []
    diffs = []
    if old.primary_key is not None:
        diffs.append(Difference("drop_primary_key", table=table, old=old.primary_key))
    if new.primary_key is not None:
        diffs.append(Difference("add_primary_key", table=table, new=new.primary_key))
    return diffs


def _name(obj: Any) -> str | None:
    return getattr(obj, "name", None)


def _unique_name(obj: UniqueConstraint) -> str | None:
    return obj.name


def _unique_signature(u: UniqueConstraint) -> tuple[Any, ...]:
    return (u.columns,)


_NO_ACTION = {None, "NO ACTION"}


def _action(value: str | None) -> str | None:
    return None if value is None or value.upper() in _NO_ACTION else value.upper()


def _fk_signature(fk: ForeignKey) -> tuple[Any, ...]:
    return (
        fk.columns,
        fk.referred_schema,
        fk.referred_table,
        fk.referred_columns,
        _action(fk.ondelete),
        _action(fk.onupdate),
        bool(fk.deferrable),
        (fk.initially or "IMMEDIATE").upper() if fk.deferrable else None,
    )


def normal_sql(text: str | None) -> str | None:
    """SQL text compared loosely: lower case, no quotes around names, no spaces, no outer parentheses."""
    if text is None:
        return None
    text = re.sub(r'["`\[\]]', "", text.lower())
    text = re.sub(r"\s+", "", text)
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _check_signature(ck: CheckConstraint) -> tuple[Any, ...]:
    return (normal_sql(ck.sqltext),)


def _index_signature(ix: Index) -> tuple[Any, ...]:
    return (tuple(normal_sql(c) for c in ix.columns), ix.unique, normal_sql(ix.where), ix.options)


_KINDS = {
    "unique": ("add_unique", "drop_unique"),
    "foreign_key": ("add_foreign_key", "drop_foreign_key"),
    "check": ("add_check", "drop_check"),
    "index": ("add_index", "drop_index"),
}


def _constraints(
    table: str,
    kind: str,
    old: Sequence[T],
    new: Sequence[T],
    signature: Callable[[T], tuple[Any, ...]],
    name: Callable[[T], str | None],
) -> list[Difference]:
    """Objects matched by name where both sides name them, then unnamed ones by what they are; a changed one is
    dropped and added again."""
    add, drop = _KINDS[kind]
    left, right = list(old), list(new)
    drops: list[T] = []
    adds: list[T] = []
    for o in list(left):
        n = next((n for n in right if name(o) is not None and name(n) == name(o)), None)
        if n is None:
            continue
        left.remove(o)
        right.remove(n)
        if signature(o) != signature(n):
            drops.append(o)
            adds.append(n)
    for o in list(left):
        if name(o) is not None:
            continue
        n = next((n for n in right if name(n) is None and signature(n) == signature(o)), None)
        if n is not None:
            left.remove(o)
            right.remove(n)
    drops += left
    adds += right
    return [Difference(drop, table=table, old=o) for o in drops] + [Difference(add, table=table, new=n) for n in adds]


# --- views, sequences, enums ------------------------------------------------------------------------------------


def _views(old: Schema, new: Schema) -> list[Difference]:
    diffs: list[Difference] = []
    for key in sorted(new.views):
        if key not in old.views:
            diffs.append(Difference("add_view", new=new.views[key]))
            continue
        was, now = old.views[key], new.views[key]
        changed = tuple(
            a
            for a, same in (
                ("definition", normal_sql(was.definition) == normal_sql(now.definition)),
                ("options", set(was.options) == set(now.options)),
                ("comment", (was.comment or None) == (now.comment or None)),
            )
            if not same
        )
        if changed:
            diffs.append(Difference("alter_view", old=was, new=now, changed=changed))
    diffs += [
        Difference("drop_view", old=old.views[k], destructive=True) for k in sorted(old.views) if k not in new.views
    ]
    return diffs


def _sequences(old: Schema, new: Schema) -> list[Difference]:
    diffs: list[Difference] = []
    settings = [f.name for f in fields(SequenceModel) if f.name not in ("name", "schema")]
    for key in sorted(new.sequences):
        now = new.sequences[key]
        was = old.sequences.get(key)
        if was is None:
            diffs.append(Difference("add_sequence", new=now))
            continue
        changed = tuple(s for s in settings if getattr(was, s) != getattr(now, s))
        if changed:
            diffs.append(Difference("alter_sequence", old=was, new=now, changed=changed))
    diffs += [
        Difference("drop_sequence", old=old.sequences[k]) for k in sorted(old.sequences) if k not in new.sequences
    ]
    return diffs


def _enums(old: Schema, new: Schema) -> list[Difference]:
    diffs: list[Difference] = []
    for key in sorted(new.enums):
        now: Enum = new.enums[key]
        was = old.enums.get(key)
        if was is None:
            diffs.append(Difference("add_enum", new=now))
        elif was.values != now.values:
            kept = [v for v in now.values if v in was.values]
            if kept == list(was.values):
                # Only values added (anywhere): PostgreSQL's ALTER TYPE … ADD VALUE [BEFORE | AFTER].
                diffs += [Difference("add_enum_value", old=was, new=v) for v in now.values if v not in was.values]
            else:
                gone = [v for v in was.values if v not in now.values]
                what = f"values {', '.join(gone)} removed" if gone else "values reordered"
                note = (
                    f"enum {now.name}: {what}; PostgreSQL cannot drop or move a value of an enum type, so the "
                    "type is dropped and created again (the columns that use it must be converted)"
                )
                diffs.append(Difference("drop_enum", old=was, destructive=bool(gone), note=note))
                diffs.append(Difference("add_enum", new=now, note=note))
    for key in sorted(old.enums):
        if key not in new.enums:
            diffs.append(Difference("drop_enum", old=old.enums[key], destructive=True))
    return diffs


def _routines(old: Schema, new: Schema) -> list[Difference]:
    """Stored procedures and functions, by name and kind (only schemas reflected with them have any)."""
    diffs = [Difference("drop_routine", old=r) for k, r in sorted(old.routines.items()) if new.routines.get(k) != r]
    diffs += [Difference("add_routine", new=r) for k, r in sorted(new.routines.items()) if old.routines.get(k) != r]
    return diffs
