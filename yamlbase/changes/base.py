"""What every change type is: typed data that knows its statements for a dialect and its inverse.

A change's :meth:`Change.operations` returns *steps*, which a sink either executes or renders as SQL
(DESIGN principle 1). A step is one of:

- an Alembic ``MigrateOperation`` (``CreateTableOp``, ``AddColumnOp``, …), invoked through
  ``alembic.operations.Operations`` so Alembic renders the per-dialect ``ALTER``;
- :class:`Batch`: operations on one table that SQLite can only do by recreating it (Alembic batch mode);
- :class:`RawSQL`: SQL text from the changelog, sent verbatim;
- :class:`Message`: text for the person running the change (``output``), a comment in SQL output;
- :class:`Halt`: the run stops here (``stop``), before the changeSet is recorded;
- :class:`Rows`: one parameterised statement for many rows (bulk data), sent in batches.

Rollbacks of destructive changes (beyond Liquibase): a change that destroys structure says what in
:meth:`Change.destroys`. Before it runs on a live database, yamlbase reflects those objects
(:mod:`yamlbase.runtime.capture`) and stores the result beside the history row (``YAMLBASE_ROLLBACK``). When the
changeSet is rolled back, :attr:`PlanContext.captured` holds what was seen just before *this* change ran, and
:meth:`Change.inverse` rebuilds the structure from it (see ``dropTable``, ``dropColumn``, ``dropIndex``). A new
destructive change type plugs in by implementing these two methods; nothing else is wired per type. Objects of
kind ``table``, ``column``, ``index``, ``primaryKey``, ``foreignKey``, ``uniqueConstraint``,
``checkConstraint``, ``notNull``, ``default`` and ``columnType`` capture their whole table (every column,
key, constraint and index of it); ``view`` captures the view's definition, ``sequence`` its settings and where it
stood, ``procedure`` its ``CREATE`` text (``dropView``, ``dropSequence``, ``dropProcedure``: the objects outside
tables come back through :class:`yamlbase.changes.captured.RecreateObject`); ``referencingForeignKeys`` (named
by the referenced table) the other tables' foreign keys that ``DROP TABLE … CASCADE`` drops with it.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from alembic.operations.ops import MigrateOperation
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable, TableClause

if TYPE_CHECKING:
    from yamlbase.changelog.search_path import SearchPath


@dataclass(frozen=True)
class RawSQL:
    """One SQL statement written by the user, executed as it stands."""

    sql: str


@dataclass(frozen=True)
class Batch:
    """Operations on one table that run inside ``Operations.batch_alter_table`` (SQLite table recreation)."""

    table_name: str
    schema: str | None
    operations: list[MigrateOperation] = field(default_factory=list)
    # "auto": Alembic recreates only when ALTER cannot do it; "always": SQLite's ALTER would refuse anyway.
    recreate: str = "auto"
    # Constraints the recreated table must have that Alembic cannot carry over (unnamed CHECKs).
    table_args: tuple[Any, ...] = ()
    # The table to copy, when the change must shape it itself (dropping SQLite's unnamed foreign keys).
    copy_from: sa.Table | None = None


@dataclass(frozen=True)
class Message:
    """Text for the person running the change: written out when applying, a SQL comment in ``update-sql``.

    ``target`` is Liquibase's: ``STDOUT``, ``STDERR``, or a log level (``DEBUG``, ``INFO``, ``WARN``, ``FATAL``…).
    """

    text: str
    target: str = "STDERR"


@dataclass(frozen=True)
class Halt:
    """Stop the run here with ``message``: the changeSet is not recorded, earlier changeSets stay applied."""

    message: str


class HaltRequested(Exception):
    """Raised by a sink reaching a :class:`Halt` step; the command turns it into a located error."""


@dataclass(frozen=True)
class Rows:
    """Many rows through one parameterised ``statement``: executed in batches of ``batch_size`` (``executemany``).

    ``rows()`` streams the rows (read again at each run); each is a dict of ``statement``'s parameters, or a
    statement of its own for a row that cannot share it (an SQL expression among its values). SQL output renders
    each row as ``row_statement(row)``, its values as literals.
    """

    statement: Executable
    rows: Callable[[], Iterable[dict[str, Any] | Executable]]
    row_statement: Callable[[dict[str, Any]], Executable]
    batch_size: int = 1000
    # Plain inserts into (table, columns), the row dicts' values in that order: PostgreSQL may COPY them instead.
    copy_into: tuple[TableClause, list[str]] | None = None


Step = MigrateOperation | Batch | RawSQL | Rows | Message | Halt


@dataclass(frozen=True)
class ObjectRef:
    """A database object a change destroys: ``kind`` (``table``, ``column``, ``index``, ``view``, …), the schema,
    the table it belongs to (None for a table or view itself, or an index whose table is not named) and its name."""

    kind: str
    schema: str | None
    table: str | None
    name: str


@dataclass(frozen=True)
class PlanContext:
    """What a change may know while planning: the target dialect and, where there is one, the schema as it is.

    ``connection`` shows the database at this point of the plan: the target itself when applying, the private
    in-memory copy during a SQLite preview, and None when SQL is rendered blind (``update-sql --dialect``). A change
    whose statements depend on what exists (``dropAllForeignKeyConstraints``) reflects through it, and says so
    when it is None.
    """

    dialect: str
    connection: Connection | None = field(default=None, compare=False)
    # While planning a rollback: what was reflected of this change's ``destroys()`` just before it ran (the
    # JSON of :func:`yamlbase.runtime.capture.capture`), or None when nothing was captured (the changeSet ran
    # under Liquibase, was marked as run, or SQL is being rendered for a changeSet not yet applied).
    captured: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def recreates_tables(self) -> bool:
        """SQLite cannot ALTER most things; such changes go through Alembic's batch mode."""
        return self.dialect == "sqlite"


class NoInverse(Exception):
    """Raised by :meth:`Change.inverse` with the reason a change cannot be rolled back automatically."""


class Unsupported(ValueError):
    """Raised by :meth:`Change.operations` when ``ctx.dialect`` cannot express the change as written, whatever the
    database holds. Such changes are found before anything runs (``update``, ``update-sql``, ``validate
    --dialect``) and reported at their line, never rendered as a silently wrong statement."""


class Model(BaseModel):
    """Base of every changelog model: Liquibase's camelCase attribute names, unknown attributes refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
    )

    # The attributes that name a database type (``type``, ``columnDataType``, …): validate checks them for typos.
    data_types: ClassVar[tuple[str, ...]] = ()

    def type_names(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every database type this model names (its own ``data_types`` and those of the models in it), each
        with its path below the model in the changelog's words (``("columns", 0, "column", "type")``)."""
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            key = info.alias or name
            if name in self.data_types and isinstance(value, str):
                yield (key,), value
            elif isinstance(value, Model):
                yield from (((key, *path), found) for path, found in value.type_names())
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Model):
                        yield from (((key, i, *path), found) for path, found in item.type_names())


class Change(Model):
    """A change type. Subclasses set ``name`` (the YAML key) and implement the two methods."""

    name: ClassVar[str]
    # The required attributes Liquibase names in DATABASECHANGELOG.DESCRIPTION (``createTable tableName=t``).
    described_by: ClassVar[tuple[str, ...]] = ()

    def operations(self, ctx: PlanContext) -> list[Step]:
        """The steps that apply this change on ``ctx.dialect``."""
        raise NotImplementedError

    def inverse(self, ctx: PlanContext) -> list[Change]:
        """The changes that undo this one; raises :class:`NoInverse` saying why there are none."""
        raise NoInverse(f"{self.name} cannot be rolled back automatically; add a rollback block")

    def destroys(self) -> list[ObjectRef]:
        """The objects this change destroys, to be captured by reflection before it runs (none by default).

        A change that returns some here rebuilds them in :meth:`inverse` from ``ctx.captured``.
        """
        return []

    def bind_files(self, changelog_folder: Path, search: SearchPath) -> list[tuple[str, str]]:
        """Where relative file names lead, for a change that reads a file (``sqlFile``, ``loadData``):
        ``changelog_folder`` holds the changelog that contains it, ``search`` is the search path.
        Returns ``(attribute, problem)`` pairs for files that cannot be read."""
        return []

    def checksum_content(self) -> FileContent | None:
        """The bytes of the file this change reads, which Liquibase's checksum covers; None if it reads none."""
        return None

    def description(self) -> str:
        """Liquibase's one-line description, as stored in ``DATABASECHANGELOG.DESCRIPTION``."""
        parts = [
            f"{attr}={getattr(self, _snake(attr))}"
            for attr in sorted(self.described_by)
            if getattr(self, _snake(attr), None) is not None
        ]
        return f"{self.name} {', '.join(parts)}" if parts else self.name


class FileChange(Change):
    """A change that reads a file found in the search path (as Liquibase's ``getExisting``) or, with
    ``relativeToChangelogFile``, beside its own changelog."""

    relative_to_changelog_file: bool | None = Field(None, description="the path is relative to this changelog")
    encoding: str | None = Field(None, description="the file's encoding (default UTF-8)")
    _file: Path | None = PrivateAttr(None)

    # Liquibase replaces ${...} in the SQL that sqlFile, createView and createProcedure read (not in a CSV),
    # and hashes createView's and createProcedure's file after the replacement (sqlFile's and a CSV as written).
    expands_properties: ClassVar[bool] = False
    hashes_expanded_text: ClassVar[bool] = False
    _expand: Callable[[str], str] | None = PrivateAttr(None)

    def file_name(self) -> str | None:
        """The file this change reads, as written (None when it reads none, e.g. a view given inline)."""
        return getattr(self, "path", None)

    def bind_expander(self, expand: Callable[[str], str]) -> None:
        """``expand`` replaces the changelog's ``${...}`` properties in the file's text."""
        self._expand = expand

    def bind_files(self, changelog_folder: Path, search: SearchPath) -> list[tuple[str, str]]:
        from yamlbase.changelog.search_path import DuplicateFile  # the changelog package imports this one

        attribute = "path" if "path" in type(self).model_fields else "file"
        name = self.file_name()
        if name is None:
            return []
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                return [("encoding", f"unknown encoding {self.encoding!r}")]
        try:
            if self.relative_to_changelog_file:
                path: Path | None = (changelog_folder / name).resolve()
            else:
                located = search.locate(name)
                path = located.file if located is not None else None
            found = path is not None and path.is_file()
        except DuplicateFile as exc:
            return [(attribute, str(exc))]
        except (OSError, ValueError) as exc:
            return [(attribute, f"not a valid path: {name!r} ({exc})")]
        if not found or path is None:
            where = "" if self.relative_to_changelog_file else f" (looked in {search.describe()})"
            return [(attribute, f"file not found: {name}{where}")]
        self._file = path
        return []

    @property
    def source_file(self) -> Path:
        """The file on disk (built without a changelog: relative to the working folder)."""
        return self._file if self._file is not None else Path(self.file_name() or "")

    def text(self) -> str:
        """The file's text: a byte-order mark decides its encoding, else ``encoding`` (UTF-8 by default)."""
        text = "".join(self._texts(self._chunks()))
        return self._expand(text) if self._expand is not None and self.file_name() is not None else text

    def _chunks(self) -> Iterator[bytes]:
        with self.source_file.open("rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk

    def _texts(self, raw: Iterator[bytes]) -> Iterator[str]:
        """The text of the bytes ``raw`` yields, decoded as :meth:`text` says, as it comes."""
        head = b""
        for chunk in raw:
            head += chunk
            if len(head) >= 3:
                break
        codec = self.encoding or "utf-8"
        for bom, named in ((b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le")):
            if head.startswith(bom):
                head, codec = head[len(bom) :], named
                break
        decoder = codecs.getincrementaldecoder(codec)()
        yield decoder.decode(head)
        for chunk in raw:
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)

    def file_text(self) -> str:
        """:meth:`text`, a file that cannot be read being the change's error."""
        try:
            return self.text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {self.file_name()}: {exc}") from None

    def checksum_content(self) -> FileContent | None:
        """The file's bytes for the checksum, read in chunks each time they are hashed: as written, or (for
        createView/createProcedure) its text after ``${...}`` replacement, in UTF-8."""
        if self.file_name() is None:
            return None
        return FileContent(self._expanded_chunks if self.hashes_expanded_text else self._raw_chunks)

    def _raw_chunks(self) -> Iterator[bytes]:
        from yamlbase.changelog.checksum import UnreadableContent  # changes are imported by the changelog

        try:
            yield from self._chunks()
        except OSError as exc:
            raise UnreadableContent(str(exc)) from None

    def _expanded_chunks(self) -> Iterator[bytes]:
        """:meth:`text` in UTF-8, as the file is read."""
        from yamlbase.changelog.checksum import UnreadableContent
        from yamlbase.changelog.properties import expand_pieces

        texts = self._texts(self._raw_chunks())
        pieces = expand_pieces(texts, self._expand) if self._expand is not None else texts
        try:
            for piece in pieces:
                yield piece.encode("utf-8")
        except (UnicodeError, ValueError) as exc:  # undecodable, or an undefined property in the file
            raise UnreadableContent(str(exc)) from None

    def shown_file(self) -> str:
        return self.file_name() or ""


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)


# How much of a file is read at a time, for its checksum and its loading.
CHUNK = 1 << 20


class FileContent:
    """A file's bytes as its checksum covers them: iterating reads them afresh, a chunk at a time (raising
    :class:`~yamlbase.changelog.checksum.UnreadableContent` when the file cannot be read)."""

    def __init__(self, chunks: Callable[[], Iterator[bytes]]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()


REGISTRY: dict[str, type[Change]] = {}


def register(cls: type[Change]) -> type[Change]:
    """Class decorator: make a change type known by its YAML name."""
    REGISTRY[cls.name] = cls
    return cls


def qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def as_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True)
