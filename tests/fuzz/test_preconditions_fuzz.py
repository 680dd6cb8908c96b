"""Random preConditions blocks: each parses to a model or to located problems, never to a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.test_properties import FUZZ, Bound, Located, _parse, json_values
from yamlbase.changelog import preconditions as pc

NAMES = [*pc.CHECKS, *pc.GROUPS, *pc.OPTION_NAMES, "tableExist", "nott", "OR", ""]
ATTRIBUTES = sorted(
    {info.alias or name for cls in pc.CHECKS.values() for name, info in cls.model_fields.items()}
    | {"tablename", "expectedRows", "columnNames"}
)


def _values(depth: int) -> st.SearchStrategy[Any]:
    attributes = st.dictionaries(st.sampled_from(ATTRIBUTES), json_values, max_size=4)
    shapes = attributes | st.lists(attributes, max_size=3) | json_values
    if depth > 0:
        shapes = shapes | st.lists(_items(depth - 1), max_size=3) | _items(depth - 1)
    return shapes


def _items(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(NAMES), _values(depth), min_size=1, max_size=2)


blocks = st.lists(_items(2), max_size=4) | _items(2) | json_values


@FUZZ
@given(block=blocks, changelog_block=blocks)
def test_any_preconditions(
    block: Any, changelog_block: Any, neutral_folder: Path, bounded: Bound, located: Located
) -> None:
    doc = {
        "databaseChangeLog": [
            {"preConditions": changelog_block},
            {"changeSet": {"id": 1, "author": "fuzz", "preConditions": block, "changes": [{"sql": "select 1"}]}},
        ]
    }
    model = _parse(neutral_folder / "preconditions.json", json.dumps(doc), bounded, located)
    if model is not None:
        (changeset,) = model.changesets
        for parsed in [*model.preconditions, changeset.preconditions]:
            if parsed is not None:
                assert parsed.on_fail in ("HALT", "CONTINUE", "MARK_RAN", "WARN")
                for item in parsed.items:
                    assert item.describe()
