"""Liquibase's search path: the folders in which changelog files, SQL files, CSVs and property files are found,
and the resource paths (``db/x/changes/a.yaml``) by which DATABASECHANGELOG.FILENAME names a changeSet's file.

Liquibase 4.28 (``SearchPathResourceAccessor`` over ``DirectoryResourceAccessor``s) looks a path up in every
root of the search path; the path is a *resource path*, relative to whichever root holds the file, with a leading
``/`` meaning the same as none. A changelog's FILENAME is its resource path as ``DatabaseChangeLog.normalizePath``
writes it (``./`` and ``a/../`` collapsed, backslashes made slashes, no leading ``/``). Two roots holding a file at
the same path is an error (Liquibase's default ``duplicateFileMode``). The default search path is the working
folder.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from yamlbase.errors import UsageError

SearchPathLike = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

_DRIVE = re.compile(r"^[A-Za-z]:")


def normalize(path: str) -> str:
    """``path`` as Liquibase's ``DatabaseChangeLog.normalizePath`` writes it: backslashes as slashes, no drive
    letter, no leading ``/``, ``.`` and ``x/..`` collapsed (a ``..`` above the start is kept)."""
    text = path.removeprefix("classpath:").replace("\\", "/")
    if text.find(":") == 1:
        text = _DRIVE.sub("", text, count=1)
    text = text.removeprefix("/")
    if not text:
        return text
    normalized = posixpath.normpath(text)
    return "" if normalized == "." else normalized


def sibling(physical: str, name: str) -> str:
    """The resource path of ``name`` written relative to the file at resource path ``physical`` (Liquibase's
    ``Resource.resolveSibling``, then normalized): what ``relativeToChangelogFile: true`` means."""
    folder = physical.rsplit("/", 1)[0] if "/" in physical else ""
    written = name.replace("\\", "/")
    return normalize(f"{folder}/{written}")


def _standardized(name: str) -> str:
    """The path a root is asked for (``AbstractPathResourceAccessor.standardizePath``): normalized, relative."""
    text = posixpath.normpath(name.replace("\\", "/")) if name else name
    text = text.removeprefix("/")
    return _DRIVE.sub("", text, count=1) if text[1:3] == ":/" else text


@dataclass(frozen=True)
class Found:
    """A file found in the search path: where it is on disk, and the resource path that names it."""

    file: Path
    name: str


class DuplicateFile(Exception):
    """Several roots of the search path hold a file at the same resource path."""

    def __init__(self, name: str, files: list[Path]) -> None:
        self.name, self.files = name, files
        listed = ", ".join(str(f) for f in files)
        super().__init__(f"{len(files)} files have the path {name} in the search path ({listed}); narrow --search-path")


@dataclass(frozen=True)
class SearchPath:
    """The roots files are looked up in, in order; ``given`` is False for the default (the working folder)."""

    roots: tuple[Path, ...]
    given: bool = True

    @classmethod
    def of(cls, value: SearchPathLike | SearchPath | None, *, base: Path | None = None) -> SearchPath:
        """The search path ``value`` names: a comma-separated string (Liquibase's ``--search-path``), a folder or a
        list of folders, each relative to ``base`` (the working folder by default); None: the working folder. Raises
        :class:`UsageError` for a root that is not a folder (Liquibase only logs it, then fails to find files)."""
        if isinstance(value, SearchPath):
            return value
        start = (base or Path.cwd()).absolute()
        if value is None:
            return cls((start,), given=False)
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, os.PathLike):
            items = [os.fspath(value)]
        else:
            items = [os.fspath(v) for v in value]
        roots: list[Path] = []
        for item in items:
            text = str(item).strip().removeprefix("file:")
            if not text:
                continue
            root = Path(os.path.normpath(start / text))
            if not root.is_dir():
                state = "is not a folder" if root.exists() else "does not exist"
                raise UsageError(f"search path: {text} {state}")
            if root not in roots:
                roots.append(root)
        if not roots:
            raise UsageError(f"search path: no folder in {value!r}")
        return cls(tuple(roots))

    def describe(self) -> str:
        """The roots, for a message: ``/a, /b``."""
        return ", ".join(str(r) for r in self.roots)

    def find(self, name: str) -> Found | None:
        """The file at resource path ``name`` (looked up in every root), or None; raises :class:`DuplicateFile`
        when two roots hold one."""
        relative = _standardized(name)
        found: list[Path] = []
        for root in self.roots:
            candidate = Path(os.path.normpath(root / relative)) if relative else root
            if candidate.exists() and candidate not in found:
                found.append(candidate)
        if len(found) > 1:
            raise DuplicateFile(normalize(name), found)
        return Found(found[0], normalize(name)) if found else None

    def folders(self, name: str) -> list[tuple[Path, Path]]:
        """``(root, folder)`` for each root that holds a folder at resource path ``name`` (an ``includeAll``)."""
        relative = _standardized(re.sub(r"^file:/+", "", name))
        found = []
        for root in self.roots:
            folder = Path(os.path.normpath(root / relative)) if relative else root
            if folder.is_dir():
                found.append((root, folder))
        return found

    def name_of(self, file: Path) -> str | None:
        """The resource path of ``file`` (an absolute path): relative to the first root holding it; None when no
        root does."""
        for root in self.roots:
            try:
                return file.relative_to(root).as_posix()
            except ValueError:
                continue
        return None

    def locate(self, name: str) -> Found | None:
        """``name`` as Liquibase finds it (a resource path), else, when it is an absolute path to a file on disk
        inside a root, that file by its resource path; None when neither. Liquibase itself refuses the second kind
        (it reads ``/abs/x.yaml`` as the resource path ``abs/x.yaml``, in every root)."""
        found = self.find(name)
        if found is not None or not os.path.isabs(name):
            return found
        try:
            file = Path(os.path.normpath(name))
            exists = file.exists()
        except (OSError, ValueError):
            return None
        relative = self.name_of(file) if exists else None
        return Found(file, relative) if relative is not None else None
