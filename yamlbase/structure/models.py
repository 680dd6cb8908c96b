"""SQLAlchemy models found from ``MODULE[:ATTR]`` (as ``flask --app`` and Alembic's ``env.py`` find them), and the
renames they declare."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import sqlalchemy as sa

from yamlbase.errors import UsageError


def load_metadata(spec: str) -> sa.MetaData:
    """The ``MetaData`` that ``spec`` (``MODULE[:ATTR]``) names, the working directory on ``sys.path``.

    ``ATTR`` (dots reach into objects) is a ``MetaData``, a declarative base (its ``.metadata``) or a
    Flask-SQLAlchemy ``db`` (its ``.metadata``); without it, the module's one ``MetaData`` or declarative base.
    A module that does not import, an ``ATTR`` that is missing or not metadata, and a module with none or several
    candidates are each a :class:`UsageError` saying so.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or (":" in spec and not attr):
        raise UsageError(f"--models {spec!r}: expected MODULE or MODULE:ATTR (e.g. app.models:Base)")
    module = _import(module_name, spec)
    if attr:
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise UsageError(f"--models {spec}: module {module_name} has no attribute {attr}")
            obj = getattr(obj, part)
        metadata = _metadata_of(obj)
        if metadata is None:
            raise UsageError(
                f"--models {spec}: {attr} is a {type(obj).__name__}, not a MetaData, a declarative base or a "
                "Flask-SQLAlchemy db"
            )
        return metadata
    found: dict[int, tuple[str, sa.MetaData]] = {}
    for name, value in vars(module).items():
        if name.startswith("__"):
            continue
        metadata = _metadata_of(value)
        if metadata is not None and id(metadata) not in found:
            found[id(metadata)] = (name, metadata)
    if not found:
        raise UsageError(
            f"--models {spec}: module {module_name} has no MetaData, declarative base or Flask-SQLAlchemy db; "
            "name one with MODULE:ATTR"
        )
    if len(found) > 1:
        names = ", ".join(sorted(name for name, _ in found.values()))
        raise UsageError(f"--models {spec}: module {module_name} has several metadata ({names}); name one with :ATTR")
    return next(iter(found.values()))[1]


def _import(module_name: str, spec: str) -> Any:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise UsageError(f"--models {spec}: no module named {module_name} (from {cwd})") from None
        raise UsageError(f"--models {spec}: module {module_name} does not import: {_where(exc)}") from None
    except Exception as exc:  # the user's module failed: say where and why, without a traceback
        raise UsageError(f"--models {spec}: module {module_name} does not import: {_where(exc)}") from None


def _where(exc: BaseException) -> str:
    """``ExcType: message (file:line)``: the innermost frame of the user's code where it was raised."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    at = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    if isinstance(exc, SyntaxError) and exc.filename:
        at = f" ({exc.filename}:{exc.lineno})"
    return f"{type(exc).__name__}: {exc}{at}"


def _metadata_of(obj: Any) -> sa.MetaData | None:
    if isinstance(obj, sa.MetaData):
        return obj
    if isinstance(obj, type) or hasattr(obj, "metadata"):
        metadata = getattr(obj, "metadata", None)
        # A declarative base or a Flask-SQLAlchemy db; a mapped class has .metadata too, but is not a base.
        if isinstance(metadata, sa.MetaData) and not hasattr(obj, "__table__"):
            return metadata
    return None


def rename_hints(metadata: sa.MetaData) -> dict[str, str]:
    """The renames the models declare with ``info={"renamed_from": OLD}``: on a ``Table`` (``__table_args__``)
    ``"old_table" -> "table"``, on a ``Column`` ``"table.old_column" -> "table.column"`` (keys as
    :func:`yamlbase.structure.compare.compare` takes them)."""
    hints: dict[str, str] = {}
    for table in metadata.tables.values():
        was = table.info.get("renamed_from")
        prefix = f"{table.schema}." if table.schema else ""
        if was:
            hints[f"{prefix}{was}"] = table.key
        for column in table.columns:
            old = column.info.get("renamed_from")
            if old:
                hints[f"{table.key}.{old}"] = f"{table.key}.{column.name}"
    return hints
