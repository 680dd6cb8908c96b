"""Facts about the project that must not drift: the published schema, the README's commands and CI."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from yamlbase.changelog import validate
from yamlbase.changelog.schema import build_schema

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _commands(section: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"## {section}\n\n```sh\n(.*?)```", readme, re.S)
    assert block, f"README has no '## {section}' command block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_published_schema_is_generated_from_the_models() -> None:
    published = json.loads((ROOT / "schemas" / "changelog.schema.json").read_text(encoding="utf-8"))
    assert published == build_schema(), "run: python -m yamlbase.changelog.schema"


def test_the_wheel_ships_the_published_schema_where_yamlbase_looks_for_it() -> None:
    """The wheel's copy and the source tree's file are one: yamlbase reads (and ``yamlbase schema`` prints) the
    packaged copy when installed, the source tree's in a checkout or an editable install."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    packaged = Path(validate.__file__).resolve().parents[1] / "_schema" / "changelog.schema.json"

    assert included == {"schemas/changelog.schema.json": packaged.relative_to(ROOT).as_posix()}
    assert validate.schema_path() == ROOT / "schemas" / "changelog.schema.json", "a checkout reads its own file"


def test_readme_gives_one_run_command_and_one_test_command() -> None:
    (run,) = _commands("Run it")
    (test,) = _commands("Test it")
    assert run.endswith("yamlbase update")
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readmes_test_command() -> None:
    (test,) = _commands("Test it")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
