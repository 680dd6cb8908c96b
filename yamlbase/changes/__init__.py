"""The change types. ``REGISTRY`` maps each YAML name (``createTable``, …) to its model."""

from __future__ import annotations

from yamlbase.changes import column, data, index, meta, sql, table
from yamlbase.changes.base import REGISTRY, Batch, Change, NoInverse, PlanContext, RawSQL, Rows, Step

__all__ = [
    "REGISTRY",
    "Batch",
    "Change",
    "NoInverse",
    "PlanContext",
    "RawSQL",
    "Rows",
    "Step",
    "column",
    "data",
    "index",
    "meta",
    "sql",
    "table",
]
