"""Facts about the project that must not drift: the published schema, the README's commands, CI, the names."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from yamlbase import DISTRIBUTION, __version__
from yamlbase.changelog.schema import build_schema
from yamlbase.cli import main
from yamlbase.commands import DRIVER_INSTALL_HINT

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"])


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


def test_every_install_hint_names_the_distribution() -> None:
    project = _project()
    name, extras = project["name"], set(project["optional-dependencies"])
    assert name == DISTRIBUTION
    expected_hint = f"pip install '{name}[postgresql]' for PostgreSQL, '{name}[mysql]' for MySQL/MariaDB"
    assert expected_hint == DRIVER_INSTALL_HINT
    assert {"postgresql", "mysql"} <= extras
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    installs = re.findall(r"pip install '?([A-Za-z][\w.-]*)(?:\[([\w,]+)\])?", readme)  # not `pip install .`
    assert (name, "") in installs, "README: no install line for users"
    assert all(found == name and set(filter(None, wanted.split(","))) <= extras for found, wanted in installs), installs
    own = [r for texts in project["optional-dependencies"].values() for r in texts if r.startswith("yamlbase")]
    assert own and all(re.match(rf"{re.escape(name)}\[", r) for r in own), own


def test_the_version_is_written_once_and_reported_by_the_installed_distribution() -> None:
    project = _project()
    assert "version" not in project and "version" in project["dynamic"]
    assert metadata.version(DISTRIBUTION) == __version__, "reinstall: pip install -e '.[test]'"
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.split()[-1] == __version__, result.output
