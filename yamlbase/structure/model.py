"""The schema of a database as one typed model, and the differences between two of them.

Everything that needs "the schema of a database, compared with another" speaks this model: ``check`` and
``diff-changelog`` (the changelog replayed on a scratch database against the models created on one), ``diff``
(two live databases), ``generate-changelog`` (a database against nothing), the captures that roll back drops and
``update-testing-rollback``. Values are as the database reports them after a round trip (types as SQL text for
that dialect, defaults as the server states them), so two schemas built on the same dialect compare exactly and
nothing differs that the database would not tell apart (no phantom diffs).

The model is plain frozen data: building it (``structure.reflect``), comparing two (``structure.compare``) and
turning differences into changes (``structure.generate``) are functions over it.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Literal


@dataclass(frozen=True)
class Identity:
    """A column that generates its values: ``GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY``."""

    always: bool = False
    start: int | None = None
    increment: int | None = None


@dataclass(frozen=True)
class Computed:
    """A generated column's expression, as the database reports it."""

    sqltext: str
    persisted: bool | None = None


@dataclass(frozen=True)
class Column:
    name: str
    # The type as SQL text for the schema's dialect (``VARCHAR(50)``, ``INTEGER``, ``character varying(50)``…).
    type: str
    nullable: bool = True
    # The server default as SQL text, as the database states it; None when there is none.
    default: str | None = None
    autoincrement: bool = False
    identity: Identity | None = None
    computed: Computed | None = None
    comment: str | None = None


@dataclass(frozen=True)
class PrimaryKey:
    columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    name: str | None = None
    referred_schema: str | None = None
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None


@dataclass(frozen=True)
class CheckConstraint:
    # The expression as the database reports it; compared after normalisation (``structure.compare``).
    sqltext: str
    name: str | None = None


@dataclass(frozen=True)
class Index:
    name: str | None
    # Column names, or SQL text for an expression part.
    columns: tuple[str, ...]
    unique: bool = False
    # A partial index's predicate, where the database reflects it (PostgreSQL, SQLite).
    where: str | None = None
    # Dialect options worth restating, as (name, value) pairs sorted by name: ``postgresql_using`` (unless btree),
    # ``postgresql_include``, ``mysql_length``, … (values are JSON-able; lists as tuples).
    options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    schema: str | None = None
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    unique_constraints: tuple[UniqueConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    comment: str | None = None
    # Indexes the database keeps for a constraint and reflects as indexes too (the one behind a unique constraint
    # on MySQL and PostgreSQL, MySQL's for a foreign key): not schema objects of their own, so not compared or
    # generated; kept for what restores a dropped table exactly (``runtime.capture``).
    constraint_indexes: tuple[Index, ...] = ()

    @property
    def key(self) -> str:
        """``schema.name``, or ``name`` in the default schema: how a schema keys its tables."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class View:
    name: str
    # The query as the database reports it (SQLite: the whole CREATE VIEW).
    definition: str
    schema: str | None = None
    comment: str | None = None
    # PostgreSQL's view options (``check_option=local``, ``security_barrier=true``).
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sequence:
    name: str
    schema: str | None = None
    start: int | None = None
    increment: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    cache: int | None = None
    cycle: bool = False
    data_type: str | None = None


@dataclass(frozen=True)
class Enum:
    """A named enumerated type (PostgreSQL's ``CREATE TYPE … AS ENUM``); MySQL's inline enums are column types."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None


@dataclass(frozen=True)
class Routine:
    """A stored procedure or function (PostgreSQL, MySQL/MariaDB), by name: models cannot declare one, so only
    what reflects them on request (``structure.reflect``'s ``routines``) has them."""

    name: str
    kind: str  # "PROCEDURE" or "FUNCTION", as ``information_schema.routines`` says it (and DROP needs it)
    schema: str | None = None


@dataclass(frozen=True)
class Schema:
    """One database's schema (yamlbase's, Liquibase's and Alembic's own tables left out)."""

    dialect: str
    tables: dict[str, Table] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)
    sequences: dict[str, Sequence] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    routines: dict[str, Routine] = field(default_factory=dict)


# --- differences: what it takes to go from one schema (the reference "old") to another ("new") -------------------

Kind = Literal[
    "add_table",
    "drop_table",
    "rename_table",
    "add_column",
    "drop_column",
    "rename_column",
    "alter_column",
    "add_primary_key",
    "drop_primary_key",
    "add_unique",
    "drop_unique",
    "add_foreign_key",
    "drop_foreign_key",
    "add_check",
    "drop_check",
    "add_index",
    "drop_index",
    "table_comment",
    "add_view",
    "drop_view",
    "alter_view",
    "add_sequence",
    "drop_sequence",
    "alter_sequence",
    "add_enum",
    "drop_enum",
    "add_enum_value",
    "add_routine",
    "drop_routine",
]

ObjectModel = (
    Table
    | Column
    | PrimaryKey
    | UniqueConstraint
    | ForeignKey
    | CheckConstraint
    | Index
    | View
    | Sequence
    | Enum
    | Routine
    | str
    | None
)


@dataclass(frozen=True)
class Difference:
    """One step from the old schema to the new one.

    ``table`` is the key of the table it concerns (None for views, sequences and enums); ``old`` and ``new`` are
    the objects on each side (``None`` on the side where it does not exist; for ``table_comment`` the texts; for
    ``add_enum_value`` the old :class:`Enum` and the new value, whose place is in the new schema's enum).
    ``changed`` names the attributes that differ for ``alter_*`` (``type``, ``nullable``, ``default``,
    ``comment``, …). ``destructive`` marks what loses data or narrows what is stored.
    ``note`` is said to the user beside it (e.g. "looks like a rename of x; give a hint to keep the rows").
    """

    kind: Kind
    table: str | None = None
    old: ObjectModel = None
    new: ObjectModel = None
    changed: tuple[str, ...] = ()
    destructive: bool = False
    note: str | None = None

    def describe(self) -> str:
        """One line for people: ``add_column accounts.display_name (type, nullable)``."""
        obj = self.new if self.new is not None else self.old
        name = obj if isinstance(obj, str) else getattr(obj, "name", None)
        if self.kind == "add_enum_value" and isinstance(self.old, Enum):
            return f"{self.kind} {self.old.name}.{self.new}"
        if self.kind in ("add_table", "drop_table", "rename_table", "table_comment") or not name:
            where = self.table or name or ""
        else:
            where = f"{self.table}.{name}" if self.table else str(name)
        extra = f" ({', '.join(self.changed)})" if self.changed else ""
        return f"{self.kind} {where}{extra}"

    def explain(self) -> str:
        """:meth:`describe` with the values: for ``alter_*`` and ``table_comment`` what each changed attribute was
        and is; for an add the new object, for a drop the old one (a table by its columns, anything else by the
        fields it sets)."""
        line = self.describe()
        if self.kind.startswith("alter_") and self.old is not None and self.new is not None:
            steps = [f"{a} was {getattr(self.old, a, None)!r}, is {getattr(self.new, a, None)!r}" for a in self.changed]
            return f"{line}: {'; '.join(steps)}"
        if self.kind in ("table_comment", "add_enum_value"):
            old = self.old.values if isinstance(self.old, Enum) else self.old
            return f"{line}: was {old!r}, is {self.new!r}"
        obj = self.new if self.new is not None else self.old
        return f"{line}: {_brief(obj)}" if obj is not None else line


def _brief(obj: object) -> str:
    """A model object as the fields it sets (those not at their defaults); a table as its columns."""
    if isinstance(obj, Table):
        return f"columns {', '.join(c.name for c in obj.columns)}"
    if not is_dataclass(obj) or isinstance(obj, type):
        return repr(obj)
    shown = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.default is not MISSING and value == f.default:
            continue
        if f.default_factory is not MISSING and value == f.default_factory():
            continue
        shown.append(f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"
