#!/usr/bin/env python3
"""Print a pip constraints file that pins every dependency in pyproject.toml to its lower bound.

pyproject.toml is the one source of truth: CI installs the project with these constraints into a second venv
and runs tests on it, so each stated lower bound is a tested one. Each requirement must state a lower bound
(``>=``) and an upper bound (``<``, below the first major version that is not tested); one that does not is
an error here, so the pins stay honest. The project's own extras (``yamlbase-migrate[postgresql]``) are skipped.

Usage: .ci/lower_bounds.py [pyproject.toml] > constraints.txt   (needs ``packaging``, which pytest brings)
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: the project depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def lower_bound_constraints(pyproject: Path) -> list[str]:
    """One ``name==version`` line (with the requirement's marker) per dependency; raises ValueError naming every
    requirement that lacks a single ``>=`` lower bound or a ``<`` upper bound."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    texts = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        texts.extend(extra)
    own_name = canonicalize_name(project["name"])
    lines: dict[str, str] = {}
    problems: list[str] = []
    for text in texts:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) == own_name:
            continue
        lower = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        upper = [spec for spec in requirement.specifier if spec.operator == "<"]
        if len(lower) != 1 or not upper:
            problems.append(f"{text!r}: state one lower bound (>=) and an upper bound (<)")
            continue
        marker = f"; {requirement.marker}" if requirement.marker else ""
        lines.setdefault(f"{canonicalize_name(requirement.name)}{marker}", f"{requirement.name}=={lower[0]}{marker}")
    if problems:
        raise ValueError(f"{pyproject}: " + "; ".join(problems))
    return list(lines.values())


def main() -> int:
    pyproject = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    try:
        lines = lower_bound_constraints(pyproject)
    except (OSError, ValueError, KeyError) as exc:
        print(f"lower-bounds: {exc}", file=sys.stderr)
        return 1
    print(f"# The lower bounds of {pyproject}'s dependencies (written by .ci/lower_bounds.py)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
