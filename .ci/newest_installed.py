#!/usr/bin/env python3
"""Check that this Python's environment holds the newest versions of a requirement's dependencies that its pins allow.

Asks pip what an eager upgrade of the requirement would install (a dry run: nothing changes) and fails naming
every package it would change; the project itself, a local folder, is always reinstalled and does not count.
The machine's pip constraints (pip.conf ``constraint``) are left out of the question, so a constraint that holds
one of the dependencies back shows here too. Run it with the venv's python, from the project's folder.

Usage: .venv/bin/python .ci/newest_installed.py '.[test]'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version


def stale_packages(requirement: str) -> list[str]:
    """``name: installed → newest allowed`` for each package pip would upgrade or add; raises CalledProcessError."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--upgrade"]
    command += ["--upgrade-strategy", "eager", "--report", "-", requirement]
    found = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, "PIP_CONSTRAINT": os.devnull}
    )
    stale = []
    for item in json.loads(found.stdout)["install"]:
        if item.get("is_direct") and "dir_info" in item["download_info"]:  # the project's own folder
            continue
        name, newest = item["metadata"]["name"], item["metadata"]["version"]
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        stale.append(f"{name}: {installed} → {newest}")
    return stale


def main() -> int:
    requirement = sys.argv[1] if len(sys.argv) > 1 else "."
    try:
        stale = stale_packages(requirement)
    except subprocess.CalledProcessError as exc:
        print(f"ci: FAILED: pip could not say what an upgrade of {requirement} would install:", file=sys.stderr)
        print(exc.stderr, file=sys.stderr)
        return 1
    if stale:
        print(
            f"ci: FAILED: the venv does not hold the newest versions the pins of {requirement} allow:", file=sys.stderr
        )
        print("\n".join(f"  {line}" for line in stale), file=sys.stderr)
        return 1
    print(f"ci: the venv holds the newest versions the pins of {requirement} allow")
    return 0


if __name__ == "__main__":
    sys.exit(main())
