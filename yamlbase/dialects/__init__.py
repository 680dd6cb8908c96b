"""What differs per database and is not already in SQLAlchemy or Alembic."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """Facts about one database that change how yamlbase runs there."""

    name: str
    transactional_ddl: bool
    # Liquibase's names for the history tables on this database (PostgreSQL folds to lower case).
    upper_case_history: bool = True
    # How the statements that commit the open transaction before they run (and again after) begin, where DDL
    # commits as it runs; None where that is not known (then every statement that writes is taken to commit).
    implicit_commit: re.Pattern[str] | None = None
    # The name the database gives every primary key, whatever it was called (MySQL's PRIMARY): never written
    # into a generated changeSet.
    primary_key_name: str | None = None


def _leading(words: str, *, unless: str | None = None) -> re.Pattern[str]:
    """Statements beginning with one of ``words`` ('|'-separated phrases), but not with one of ``unless``."""
    exception = rf"(?!(?:{unless})\b)" if unless else ""
    return re.compile(rf"{exception}(?:{words})\b", re.IGNORECASE)


# MySQL's "Statements That Cause an Implicit Commit" (MariaDB's list is the same, plus its sequences and
# packages, which CREATE/ALTER/DROP cover); a temporary table's CREATE/DROP commits nothing.
_MYSQL_IMPLICIT_COMMIT = _leading(
    r"ALTER|CREATE|DROP|RENAME|TRUNCATE|GRANT|REVOKE|SET\s+PASSWORD|BEGIN|START\s+TRANSACTION|COMMIT|LOCK|UNLOCK"
    r"|SET\s+AUTOCOMMIT|LOAD\s+DATA|LOAD\s+XML|LOAD\s+INDEX|CACHE\s+INDEX|ANALYZE|CHECK\s+TABLE|OPTIMIZE|REPAIR"
    r"|FLUSH|RESET|INSTALL|UNINSTALL|START\s+(?:SLAVE|REPLICA)|STOP\s+(?:SLAVE|REPLICA)|CHANGE\s+(?:MASTER|REPLICATION)",
    unless=r"CREATE\s+(?:OR\s+REPLACE\s+)?TEMPORARY|DROP\s+TEMPORARY",
)
# Oracle commits before and after every DDL statement.
_ORACLE_IMPLICIT_COMMIT = _leading(
    r"ALTER|CREATE|DROP|RENAME|TRUNCATE|GRANT|REVOKE|COMMENT|ANALYZE|AUDIT|NOAUDIT|FLASHBACK|PURGE|COMMIT"
)
_NOTHING = re.compile(r"(?!)")


CAPABILITIES: dict[str, Capabilities] = {
    "sqlite": Capabilities("sqlite", transactional_ddl=True, implicit_commit=_NOTHING),
    "postgresql": Capabilities(
        "postgresql", transactional_ddl=True, upper_case_history=False, implicit_commit=_NOTHING
    ),
    "mysql": Capabilities(
        "mysql", transactional_ddl=False, implicit_commit=_MYSQL_IMPLICIT_COMMIT, primary_key_name="PRIMARY"
    ),
    "mariadb": Capabilities(
        "mariadb", transactional_ddl=False, implicit_commit=_MYSQL_IMPLICIT_COMMIT, primary_key_name="PRIMARY"
    ),
    "mssql": Capabilities("mssql", transactional_ddl=True, implicit_commit=_NOTHING),
    "oracle": Capabilities("oracle", transactional_ddl=False, implicit_commit=_ORACLE_IMPLICIT_COMMIT),
}
DIALECT_NAMES = tuple(CAPABILITIES)


def capabilities(dialect_name: str) -> Capabilities:
    return CAPABILITIES.get(dialect_name, Capabilities(dialect_name, transactional_ddl=False))


# Comments and blank space before a statement's first word.
_LEADING_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*(?!!).*?\*/)*", re.DOTALL)


def commits_implicitly(dialect_name: str, statement: str) -> bool:
    """Whether ``statement`` commits the open transaction on ``dialect_name`` before it runs (true of every
    statement that writes where the dialect's list is not known)."""
    pattern = capabilities(dialect_name).implicit_commit
    if pattern is None:
        return True
    return pattern.match(statement, first_word(statement)) is not None


def first_word(statement: str) -> int:
    """Where ``statement``'s first word starts, after blank space and comments (MySQL's ``/*! … */`` is code)."""
    start = _LEADING_COMMENTS.match(statement)
    return start.end() if start else 0
