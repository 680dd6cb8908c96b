"""yamlbase: Liquibase's YAML changelogs and history tables, applied with SQLAlchemy and Alembic."""

from __future__ import annotations

__version__ = "0.1.0"
