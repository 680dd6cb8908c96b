"""The change types. ``REGISTRY`` maps each YAML name (``createTable``, …) to its model."""

from __future__ import annotations

from yamlbase.changes import column, constraint, index, meta, sql, table
from yamlbase.changes.base import REGISTRY, Batch, Change, NoInverse, PlanContext, RawSQL, Step

__all__ = [
    "REGISTRY",
    "Batch",
    "Change",
    "NoInverse",
    "PlanContext",
    "RawSQL",
    "Step",
    "column",
    "constraint",
    "index",
    "meta",
    "sql",
    "table",
]
