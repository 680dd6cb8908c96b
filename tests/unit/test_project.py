"""Facts about the project that must not drift: the published schema, the README's commands, CI, the names."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yamlbase import DISTRIBUTION, __version__
from yamlbase.changelog import validate
from yamlbase.changelog.schema import build_schema
from yamlbase.cli import main
from yamlbase.commands import DRIVER_INSTALL_HINT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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


def test_every_dependency_has_a_lower_bound_ci_tests_and_an_upper_bound(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("lower_bounds", ROOT / ".ci" / "lower_bounds.py")
    assert spec and spec.loader
    lower_bounds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lower_bounds)
    project = _project()
    pinned = lower_bounds.lower_bound_constraints(ROOT / "pyproject.toml")  # raises on a requirement without both
    assert len(pinned) == len(project["dependencies"]) + sum(
        not r.startswith(project["name"]) for extra in project["optional-dependencies"].values() for r in extra
    )
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+(; .+)?", line) for line in pinned), pinned
    unbounded = tmp_path / "pyproject.toml"
    unbounded.write_text('[project]\nname = "x"\ndependencies = ["click>=8.2"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("click>=8.2")):
        lower_bounds.lower_bound_constraints(unbounded)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".ci/lower_bounds.py" in ci and ".ci/newest_installed.py" in ci
