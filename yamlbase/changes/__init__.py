"""The change types. ``REGISTRY`` maps each YAML name (``createTable``, …) to its model."""

from __future__ import annotations

from yamlbase.changes import column, composite, index, meta, procedure, remarks, sequence, sql, table, view
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
    "composite",
    "index",
    "meta",
    "procedure",
    "remarks",
    "sequence",
    "sql",
    "table",
    "view",
]
