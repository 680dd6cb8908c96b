"""Builds the changelog JSON Schema from the change models: one source of truth for editors and validation.

``python -m yamlbase.changelog.schema`` rewrites ``schemas/changelog.schema.json`` (the wheel ships it as
``yamlbase/_schema/changelog.schema.json``; ``yamlbase schema`` prints it); a test fails when the committed file
and the models drift apart. The schema names the yamlbase version it belongs to, in ``$id`` and ``$comment``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from yamlbase import DISTRIBUTION, __version__

# A URN, not an address: the project publishes no schema server, and an editor must never try to fetch one.
SCHEMA_ID = f"urn:{DISTRIBUTION}:{__version__}:changelog.schema.json"
SCHEMA_COMMENT = (
    f"The changelog schema of yamlbase {__version__}, generated from its change models. "
    "`yamlbase schema --output-file FILE` writes the one of the yamlbase installed."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _simplify(node: Any) -> Any:
    """Turn pydantic's ``anyOf [T, null]`` into ``type: [T, null]`` and drop its generated titles/defaults,
    so that jsonschema's messages name the expected type plainly."""
    if isinstance(node, list):
        return [_simplify(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _simplify(v) for k, v in node.items() if not (k == "default" and v is None)}
    if isinstance(out.get("title"), str) and "properties" not in out and "$defs" not in out:
        del out["title"]  # per-field titles ("Tablename") only repeat the key
    options = out.get("anyOf")
    if isinstance(options, list) and all(set(o) == {"type"} for o in options):
        del out["anyOf"]
        types = [t for o in options for t in ([o["type"]] if isinstance(o["type"], str) else o["type"])]
        out["type"] = types[0] if len(types) == 1 else types
    # Text attributes take numbers too (tag: 1.0, id: 42), as Liquibase does; the models turn them into text.
    if out.get("type") == "string":
        out["type"] = ["string", "number"]
    elif isinstance(out.get("type"), list) and "string" in out["type"] and "number" not in out["type"]:
        out["type"] = [*out["type"], "number"]
    return out


def build_schema() -> dict[str, Any]:
    """The whole changelog schema (draft 2020-12)."""
    from pydantic.json_schema import models_json_schema

    from yamlbase.changelog.entries import ENTRY_MODELS, ChangeSetEntry
    from yamlbase.changes import REGISTRY

    models = [REGISTRY[name] for name in sorted(REGISTRY)]
    _, generated = models_json_schema(
        [(m, "validation") for m in [*models, *ENTRY_MODELS.values()]],
        ref_template="#/$defs/{model}",
        by_alias=True,
    )
    defs: dict[str, Any] = _simplify(generated["$defs"])
    for model in models:
        defs[model.__name__]["title"] = model.name
    for name, title in (
        ("ColumnConfig", "column"),
        ("ColumnConstraints", "constraints"),
        ("ColumnName", "column"),
    ):
        if name in defs:
            defs[name]["title"] = title
    change_props: dict[str, Any] = {m.name: _ref(m.__name__) for m in models}
    change_props["sql"] = {"anyOf": [{"type": "string", "description": "the SQL text"}, _ref(REGISTRY["sql"].__name__)]}
    change_props["stop"] = {
        "anyOf": [{"type": ["string", "number"], "description": "the message"}, _ref(REGISTRY["stop"].__name__)]
    }
    defs["change"] = {
        "title": "change",
        "description": "One change, written as a mapping with a single key: its type.",
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": change_props,
    }
    changeset = defs.pop(ChangeSetEntry.__name__)
    changeset["properties"]["changes"] = {
        "type": "array",
        "items": _ref("change"),
        "description": "the changes, in order",
    }
    changeset["properties"]["rollback"] = {
        "description": "how to undo the changeSet: SQL text, a change, or a list of changes/SQL",
        "anyOf": [
            {"type": "string"},
            _ref("change"),
            {"type": "array", "items": {"anyOf": [{"type": "string"}, _ref("change")]}},
        ],
    }
    defs["changeSet"] = changeset
    for name, model in ENTRY_MODELS.items():
        if name != "changeSet":
            defs[name] = defs.pop(model.__name__)
    for name in ENTRY_MODELS:
        defs[name]["title"] = name
    from yamlbase.changelog.preconditions import schema_defs as precondition_defs

    defs.update(precondition_defs(_simplify))
    defs["changeSet"]["properties"]["preConditions"] = _ref("preConditions")
    defs["entry"] = {
        "title": "databaseChangeLog entry",
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {
            "changeSet": _ref("changeSet"),
            "include": _ref("include"),
            "includeAll": _ref("includeAll"),
            "preConditions": _ref("preConditions"),
            "property": _ref("property"),
            "logicalFilePath": {
                "type": "string",
                "description": "the path recorded in DATABASECHANGELOG.FILENAME for this file's changeSets",
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "$comment": SCHEMA_COMMENT,
        "title": "changelog",
        "description": "A yamlbase / Liquibase changelog (YAML or JSON).",
        "type": "object",
        "additionalProperties": False,
        "required": ["databaseChangeLog"],
        "properties": {"databaseChangeLog": {"type": "array", "items": _ref("entry")}},
        "$defs": dict(sorted(defs.items())),
    }


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    target = Path(__file__).resolve().parents[2] / "schemas" / "changelog.schema.json"
    target.write_text(render_schema(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")


if __name__ == "__main__":
    main()
