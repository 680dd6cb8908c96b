"""Facts about the project that must not drift: the published schema, the README's commands and CI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from yamlbase.changelog.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def _commands(section: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"## {section}\n\n```sh\n(.*?)```", readme, re.S)
    assert block, f"README has no '## {section}' command block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_published_schema_is_generated_from_the_models() -> None:
    published = json.loads((ROOT / "schemas" / "changelog.schema.json").read_text(encoding="utf-8"))
    assert published == build_schema(), "run: python -m yamlbase.changelog.schema"


def test_readme_gives_one_run_command_and_one_test_command() -> None:
    (run,) = _commands("Run it")
    (test,) = _commands("Test it")
    assert run.endswith("yamlbase update")
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readmes_test_command() -> None:
    (test,) = _commands("Test it")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
