"""Checks a parsed document against ``schemas/changelog.schema.json`` and locates every problem."""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from yamlbase.changelog.loader import Document, shown
from yamlbase.errors import Problem

_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}


def schema_path() -> Path:
    """The published schema: shipped inside the wheel, or read from the source tree."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_schema" / "changelog.schema.json"
    return packaged if packaged.exists() else here.parent / "schemas" / "changelog.schema.json"


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, validators

    from yamlbase.changelog.properties import Substituted

    def typed(kind: str) -> Any:
        base = Draft202012Validator.TYPE_CHECKER

        def check(checker: Any, instance: Any) -> bool:
            # ${...} gives text; Liquibase converts it to the attribute's type, so "5" is a number there.
            return base.is_type(instance, kind) or (isinstance(instance, Substituted) and instance.reads_as(kind))

        return check

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many({k: typed(k) for k in ("integer", "number", "boolean")})
    validator = validators.extend(Draft202012Validator, type_checker=checker)
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    return validator(schema)


def _schema_text() -> str:
    return schema_path().read_text(encoding="utf-8")


@functools.cache
def _fast_check() -> Any:
    """A compiled validator (fastjsonschema: Python code generated from the schema) that only says yes or no,
    some fifty times faster than walking the schema. Its code is kept in the user's cache folder, keyed by the
    schema's hash, so that it is generated once per schema, not per run."""
    import fastjsonschema

    text = _schema_text()
    schema = json.loads(text)
    # The schema uses nothing beyond draft 7 ($defs is reached by JSON pointer like any other key).
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema.pop("$id", None)  # so the generated entry point is plainly named "validate"
    digest = hashlib.sha256(text.encode() + fastjsonschema.VERSION.encode()).hexdigest()[:16]
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yamlbase"
    # The byte code itself is kept (marshal is tied to the interpreter: its tag is in the name).
    path = folder / f"validator-{digest}.{sys.implementation.cache_tag}.bin"
    namespace: dict[str, Any] = {}
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        code = compile(fastjsonschema.compile_to_code(schema), f"<{path.name}>", "exec")
        with contextlib.suppress(OSError):  # no writable cache: compiled again next time, that is all
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(marshal.dumps(code))
            partial.replace(path)  # atomic: several processes may start together
    exec(code, namespace)  # the code fastjsonschema generated from our own schema
    return namespace["validate"]


def validate_document(doc: Document) -> list[Problem]:
    """Every schema problem in ``doc``, each located at the YAML node it concerns."""
    try:
        _fast_check()(doc.data)
        return []
    except Exception:  # any doubt: the full validator decides, and locates every problem
        pass
    problems: list[Problem] = []
    for error in _validator().iter_errors(doc.data):
        node_path = tuple(error.absolute_path)
        problems.extend(Problem(p.location, p.message, node_path) for p in _describe(doc, error))
    return problems


def suggest(word: str, choices: list[str]) -> str:
    """`` (did you mean "x"?)`` for the nearest valid name, or nothing."""
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f' (did you mean "{lowered[word.lower()]}"?)'
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _kind(instance: Any) -> str:
    if isinstance(instance, bool):
        return "boolean"
    if isinstance(instance, bytes):  # !!binary
        return "binary data"
    if isinstance(instance, int | float):
        return "number"
    if instance is None:
        return "empty"
    if isinstance(instance, list):
        return "list"
    if isinstance(instance, dict):
        return "mapping"
    return "string"


def _describe(doc: Document, error: Any) -> list[Problem]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = schema.get("title", "")
    where = f"{title}: " if title and title not in ("changelog", "change", "databaseChangeLog entry") else ""
    validator = error.validator
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        problems = []
        for key in error.instance:
            if key in allowed:
                continue
            hint = suggest(str(key), allowed)
            if title == "change":
                message = f'unknown change type "{shown(key)}"{hint}'
            elif title == "precondition":
                message = f'unknown precondition "{shown(key)}"{hint}'
            elif title == "databaseChangeLog entry":
                message = f'unknown entry "{shown(key)}": expected changeSet, include or includeAll{hint}'
            else:
                message = f'{where}unknown attribute "{shown(key)}"{hint}'
            problems.append(Problem(doc.location((*path, key), key=True), message))
        return problems
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [Problem(doc.location(path), f'{where}missing required attribute "{missing}"')]
    if validator in ("minProperties", "maxProperties") and title in ("change", "databaseChangeLog entry"):
        what, example = (
            ("a change", "createTable") if title == "change" else ("each databaseChangeLog entry", "changeSet")
        )
        return [Problem(doc.location(path), f"{what} must be a mapping with exactly one key, e.g. '- {example}:'")]
    if validator == "type" and title in ("change", "databaseChangeLog entry", "changelog"):
        shape = {
            "change": 'a change must be a mapping such as "- createTable: {...}"',
            "databaseChangeLog entry": 'a databaseChangeLog entry must be a mapping such as "- changeSet: {...}"',
            "changelog": 'a changelog must be a mapping with a "databaseChangeLog" list',
        }[title]
        return [Problem(doc.location(path), f"{shape}, not {_kind(error.instance)}")]
    if validator == "type":
        expected = error.validator_value
        wanted = " or ".join(_wanted([expected] if isinstance(expected, str) else list(expected)))
        return [Problem(doc.location(path), f"{_field(path)}must be {wanted}, not {_kind(error.instance)}")]
    if validator == "anyOf" and error.context:
        return _describe_any_of(doc, error)
    if validator == "enum" and isinstance(error.validator_value, list) and "preConditions" in path:
        # onFail / onError / onSqlOutput: case variants (WARN / warn) are accepted but listed once.
        first: dict[str, str] = {}
        for value in error.validator_value:
            first.setdefault(str(value).lower(), str(value))
        names = list(first.values())
        hint = suggest(str(error.instance), names) if isinstance(error.instance, str) else ""
        wanted = ", ".join(names)
        return [
            Problem(doc.location(path), f"{_field(path)}must be one of {wanted}, not {shown(error.instance)}{hint}")
        ]
    if validator == "minItems":
        return [Problem(doc.location(path), f"{_field(path)}needs at least {error.validator_value} item(s)")]
    return [Problem(doc.location(path), f"{_field(path)}{error.message}")]


def _describe_any_of(doc: Document, error: Any) -> list[Problem]:
    """Explain a value that matches none of several shapes (``sql: text | {sql: ...}``, ``X | null``).

    A branch whose only complaint is the value's own type is the wrong shape; if exactly one branch has
    the right shape, its problems are the real ones. Otherwise name the shapes that would do.
    """
    branches: dict[int, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    right_shape = {
        index: subs
        for index, subs in branches.items()
        if not all(sub.validator == "type" and not sub.relative_path for sub in subs)
    }
    if len(right_shape) == 1:
        (subs,) = right_shape.values()
        return [problem for sub in subs for problem in _describe(doc, sub)]
    if right_shape:
        from jsonschema.exceptions import best_match

        return _describe(doc, best_match(error.context))
    names: list[str] = []
    for option in error.validator_value:
        found = _resolve(option).get("type", "object")
        names.extend([found] if isinstance(found, str) else found)
    wanted = _wanted(names)
    path = tuple(error.absolute_path)
    return [Problem(doc.location(path), f"{_field(path)}must be {' or '.join(wanted)}, not {_kind(error.instance)}")]


def _wanted(type_names: list[str]) -> list[str]:
    """Expected JSON types in words; a number where text is expected is accepted silently, so not named."""
    if "string" in type_names:
        type_names = [n for n in type_names if n not in ("number", "integer")]
    words: list[str] = []
    for name in type_names:
        text = _TYPE_NAMES.get(name, name)
        if name != "null" and text not in words:
            words.append(text)
    return words


def _resolve(option: dict[str, Any]) -> dict[str, Any]:
    ref = option.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _validator().schema["$defs"][ref.rsplit("/", 1)[1]]
    return option


def _field(path: tuple[Any, ...]) -> str:
    names = [p for p in path if isinstance(p, str)]
    return f'"{names[-1]}" ' if names else ""
