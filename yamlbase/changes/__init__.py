"""The change types. ``REGISTRY`` maps each YAML name (``createTable``, …) to its model."""

from __future__ import annotations

# The base names first: the change modules import yamlbase.changelog, which imports them from here.
from yamlbase.changes.base import REGISTRY, Batch, Change, NoInverse, PlanContext, RawSQL, Rows, Step  # isort: skip
from yamlbase.changes import (  # isort: skip
    column,
    composite,
    constraint,
    data,
    index,
    meta,
    procedure,
    remarks,
    sequence,
    sql,
    table,
    view,
)

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
    "composite",
    "constraint",
    "data",
    "index",
    "meta",
    "procedure",
    "remarks",
    "sequence",
    "sql",
    "table",
    "view",
]
