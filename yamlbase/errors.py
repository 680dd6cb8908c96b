"""The exception hierarchy: every error carries where it happened (a file position or a changeSet)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Location:
    """A position in a changelog file, 1-based, printed as ``path:line:col``."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


class YamlbaseError(Exception):
    """Base of every error yamlbase reports to a person. ``exit_code`` follows the CLI's contract."""

    exit_code = 1


# What a MemoryError means to the person who ran yamlbase.
OUT_OF_MEMORY = (
    "out of memory: the process could not get more (a memory limit, such as a container's or `ulimit -v`, "
    "may be below what this run needs)"
)


class OutOfMemoryError(YamlbaseError):
    """A MemoryError, said as such."""

    def __init__(self) -> None:
        super().__init__(OUT_OF_MEMORY)


class UsageError(YamlbaseError):
    """A bad option or argument."""

    exit_code = 2


@dataclass
class Problem:
    """One located problem in a changelog."""

    location: Location
    message: str
    # Where in the document's data the problem is (for telling which entry it spoils).
    node_path: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ChangeLogError(YamlbaseError):
    """The changelog is invalid; carries every problem found, each with its location."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location.path, p.location.line, p.location.column))
        super().__init__("\n".join(str(p) for p in self.problems))


class DatabaseError(YamlbaseError):
    """The database could not be reached or refused a bookkeeping statement."""


class LockError(YamlbaseError):
    """A lock yamlbase waits for is held by someone else: DATABASECHANGELOGLOCK, or SQLite's write lock."""


class ChecksumMismatchError(YamlbaseError):
    """Applied changeSets whose content changed since they ran; ``edited`` names each with both checksums
    (:class:`yamlbase.runtime.plan.EditedChangeSet`), ``warnings`` are the changelog's own (``validate``)."""

    def __init__(self, message: str, edited: Sequence[Any] = (), warnings: Sequence[Problem] = ()) -> None:
        self.edited = list(edited)
        self.warnings = list(warnings)
        super().__init__(message)


class RollbackImpossibleError(YamlbaseError):
    """changeSets in a rollback range have no rollback: refused before touching the database."""


class RollbackMismatchError(YamlbaseError):
    """``update-testing-rollback``: after a changeSet's rollback, the schema is not what it was before it."""


class MigrationError(YamlbaseError):
    """A statement of a changeSet failed; names the changeSet, the statement and the database's message."""

    def __init__(self, changeset: str, statement: str | None, cause: str) -> None:
        self.changeset = changeset
        self.statement = statement
        self.cause = cause
        # Statements of the changeSet that committed before the failure (databases without transactional DDL).
        self.took_effect: list[str] = []
        super().__init__(changeset)

    def __str__(self) -> str:
        text = f"changeSet {self.changeset} failed"
        if self.statement:
            text += f"\n  statement: {self.statement.strip()}"
        text += f"\n  database error: {self.cause.strip()}"
        if self.took_effect:
            done = "\n".join(f"    {' '.join(s.split())}" for s in self.took_effect)
            text += (
                "\n  this database commits DDL as it runs, so these statements of the changeSet took effect and"
                f" were not undone; the changeSet is not recorded as run:\n{done}"
            )
        return text


class ChangeLogStopped(MigrationError):
    """A ``stop`` change ended the run: its changeSet is not recorded, the ones before it stay applied."""

    def __str__(self) -> str:
        text = f"changeSet {self.changeset} stopped the update: {self.cause.strip()}"
        if self.took_effect:
            done = "\n".join(f"    {' '.join(s.split())}" for s in self.took_effect)
            text += (
                "\n  this database commits DDL as it runs, so these statements of the changeSet took effect and"
                f" were not undone; the changeSet is not recorded as run:\n{done}"
            )
        return text


class Interrupted(YamlbaseError):
    """A stop was requested (SIGINT/SIGTERM): the run ended between changeSets, the lock released."""

    def __init__(self, signum: int, message: str) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(message)


class IncompleteChangeSetError(YamlbaseError):
    """A pending changeSet stopped part-way earlier (DDL that commits as it runs): a person must decide."""


class PreconditionError(YamlbaseError):
    """Preconditions failed (or could not be checked) with onFail/onError HALT: the update stopped there."""
