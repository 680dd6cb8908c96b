"""What differs per database and is not already in SQLAlchemy or Alembic."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """Facts about one database that change how yamlbase runs there."""

    name: str
    transactional_ddl: bool
    # Liquibase's names for the history tables on this database (PostgreSQL folds to lower case).
    upper_case_history: bool = True
    # The name the database gives every primary key, whatever it was called (MySQL's PRIMARY): never written
    # into a generated changeSet.
    primary_key_name: str | None = None


CAPABILITIES: dict[str, Capabilities] = {
    "sqlite": Capabilities("sqlite", transactional_ddl=True),
    "postgresql": Capabilities("postgresql", transactional_ddl=True, upper_case_history=False),
    "mysql": Capabilities("mysql", transactional_ddl=False, primary_key_name="PRIMARY"),
    "mariadb": Capabilities("mariadb", transactional_ddl=False, primary_key_name="PRIMARY"),
    "mssql": Capabilities("mssql", transactional_ddl=True),
    "oracle": Capabilities("oracle", transactional_ddl=False),
}
DIALECT_NAMES = tuple(CAPABILITIES)


def capabilities(dialect_name: str) -> Capabilities:
    return CAPABILITIES.get(dialect_name, Capabilities(dialect_name, transactional_ddl=False))
