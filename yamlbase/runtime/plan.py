"""What to run: pending changeSets, checksum verdicts and rollback plans, from the changelog and the history.

Pure functions over the model and history rows; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from yamlbase.changelog.model import ChangeLog, ChangeSet
from yamlbase.changes import Change, NoInverse, PlanContext
from yamlbase.changes.base import Unsupported
from yamlbase.errors import ChecksumMismatchError, Location, Problem, RollbackImpossibleError, YamlbaseError
from yamlbase.runtime.history import HistoryRow


def pending(changelog: ChangeLog, applied: dict[tuple[str, str, str], HistoryRow]) -> list[ChangeSet]:
    """The changeSets the run selects (its contexts and label filter; not ``ignore``) that are due, in run order:
    never applied, ``runAlways``, or ``runOnChange`` and changed since it ran (Liquibase's ShouldRunChangeSetFilter)."""
    selection = changelog.selection
    dbms = selection.dbms
    due: list[ChangeSet] = []
    for cs in changelog.changesets:
        if cs.ignore or not cs.selected_by(selection.contexts, selection.label_filter):
            continue
        row = applied.get(cs.key)
        if row is None or cs.run_always or (cs.run_on_change and not cs.checksum_valid(row.md5sum, dbms)):
            due.append(cs)
    return due


@dataclass(frozen=True)
class MovedRow:
    """A history row yamlbase wrote before it named files as Liquibase does (relative to the root changelog's
    folder), and the FILENAME its changeSet has now."""

    row: HistoryRow
    changeset: ChangeSet

    @property
    def old(self) -> str:
        return self.row.identifier

    @property
    def new(self) -> str:
        return self.changeset.identifier


def moved_rows(changelog: ChangeLog, rows: Iterable[HistoryRow]) -> list[MovedRow]:
    """The rows whose (FILENAME, ID, AUTHOR) is a changeSet's former key (:attr:`ChangeSet.legacy_key`) while no
    row has its key now, and no changeSet of the changelog has that former key as its own: recorded by an older
    yamlbase, to be renamed rather than run again."""
    by_key = {row.key: row for row in rows}
    current = {cs.key for cs in changelog.changesets}
    moved: list[MovedRow] = []
    taken: set[tuple[str, str, str]] = set()
    for cs in changelog.changesets:
        legacy = cs.legacy_key
        if legacy is None or cs.key in by_key or legacy in current or legacy in taken or legacy not in by_key:
            continue
        taken.add(legacy)
        moved.append(MovedRow(by_key[legacy], cs))
    return moved


def renamed(rows: list[HistoryRow], moved: list[MovedRow]) -> list[HistoryRow]:
    """``rows`` with the ``moved`` ones under their changeSet's FILENAME now, in the same order."""
    new = {m.row.key: m.changeset.path for m in moved}
    return [replace(row, filename=new[row.key]) if row.key in new else row for row in rows]


def up_to_tag(changesets: list[ChangeSet], tag: str) -> list[ChangeSet]:
    """``update-to-tag``: the pending changeSets up to and including the one that tags ``tag``."""
    for i, cs in enumerate(changesets):
        if cs.tag == tag:
            return changesets[: i + 1]
    raise YamlbaseError(f'no pending changeSet carries tag "{tag}" (a tagDatabase change)')


@dataclass(frozen=True)
class EditedChangeSet:
    """An applied changeSet whose content changed since it ran: its name, where it is written, and the checksum
    stored when it ran beside the one it has now."""

    identifier: str
    location: Location
    old_checksum: str | None
    new_checksum: str
    # ``${name}`` it uses whose values come from the environment or -D: the difference may be theirs.
    outside_properties: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.identifier} ({self.location}): was {self.old_checksum}, is now {self.new_checksum}"
        if self.outside_properties:
            text += (
                f"\n    it uses {', '.join(self.outside_properties)}: the difference may come from "
                f"{'that value' if len(self.outside_properties) == 1 else 'those values'} on this machine, "
                "not from an edit"
            )
        return text


@dataclass
class ChecksumVerdict:
    """Applied changeSets whose stored MD5SUM is stale but valid (to rewrite) and those that changed."""

    refresh: list[tuple[ChangeSet, HistoryRow]]
    changed: list[tuple[ChangeSet, HistoryRow]]

    def edited(self, dbms: str | None = None) -> list[EditedChangeSet]:
        """The changed changeSets, each with both checksums (the current one on database ``dbms``)."""
        return [
            EditedChangeSet(cs.identifier, cs.location, row.md5sum, cs.checksum_for(dbms), cs.outside_properties)
            for cs, row in self.changed
        ]


def check_checksums(
    changelog: ChangeLog, applied: dict[tuple[str, str, str], HistoryRow], dbms: str | None = None
) -> ChecksumVerdict:
    """Compare stored checksums with the changelog's. NULL (cleared) and matching version-8 values are
    refreshed to version 9, as Liquibase does; any other difference means the changeSet was edited.

    As in Liquibase, only the changeSets the run selects are checked: one left out by the run's contexts may
    read differently under them (a property defined for another context) and is not this run's business.
    """
    verdict = ChecksumVerdict([], [])
    selection = changelog.selection
    for cs in changelog.changesets:
        row = applied.get(cs.key)
        if row is None or not cs.selected_by(selection.contexts, selection.label_filter):
            continue
        stored = row.md5sum
        current = cs.checksum_for(dbms)
        if stored == current:
            continue
        if stored is None:
            verdict.refresh.append((cs, row))
            continue
        version = stored.partition(":")[0]
        if version.isdigit() and int(version) < 9 and cs.checksum_version(int(version), dbms) == stored:
            verdict.refresh.append((cs, row))
        elif not (cs.checksum_valid(stored, dbms) or cs.run_on_change or cs.run_always):
            # validCheckSum accepts it; runOnChange / runAlways changeSets simply run again.
            verdict.changed.append((cs, row))
    return verdict


def raise_for_changed(
    verdict: ChecksumVerdict,
    dbms: str | None = None,
    *,
    heading: str = "changeSets changed after they were applied; nothing was run",
) -> None:
    """Raise :class:`ChecksumMismatchError` naming every changed changeSet under ``heading``, if there are any."""
    edited = verdict.edited(dbms)
    if edited:
        way_out = "Revert the edits, or add a new changeSet for the new change."
        if any(e.outside_properties for e in edited):
            way_out += (
                " Where a property's value differs, run with the value the changeSet was applied with (an "
                "environment variable overrides the changelog's property and -D, as in Liquibase)."
            )
        raise ChecksumMismatchError(f"{heading}:\n" + "\n".join(f"  {e}" for e in edited) + "\n" + way_out, edited)


def inexpressible(changesets: Iterable[ChangeSet], dialect: str) -> list[Problem]:
    """Every change that ``dialect`` cannot express as written (:class:`Unsupported`), located, found by planning
    each change blind. A change whose statements depend on the database's state is decided when it runs."""
    ctx = PlanContext(dialect)
    problems: list[Problem] = []
    for cs in changesets:
        for i, change in enumerate(cs.changes):
            try:
                change.operations(ctx)
            except Unsupported as exc:
                where = cs.change_locations[i] if i < len(cs.change_locations) else cs.location
                problems.append(Problem(where, f"{change.name} cannot run on {dialect}: {exc}"))
            except Exception:  # it needs the database (reflection): the run itself decides
                continue
    return problems


def rows_after_tag(rows: list[HistoryRow], tag: str) -> list[HistoryRow]:
    """History rows executed after the last row carrying ``tag`` (that row itself stays), newest first."""
    tagged = [i for i, row in enumerate(rows) if row.tag == tag]
    if not tagged:
        raise YamlbaseError(f'tag "{tag}" is not in DATABASECHANGELOG')
    return list(reversed(rows[tagged[-1] + 1 :]))


def last_rows(rows: list[HistoryRow], count: int) -> list[HistoryRow]:
    """The ``count`` most recently executed rows, newest first."""
    return list(reversed(rows[-count:])) if count > 0 else []


Captures = Mapping[int, dict[str, Any]]


def inverse_of(cs: ChangeSet, ctx: PlanContext, captured: Captures | None = None) -> list[Change]:
    """The changes that undo ``cs``: its explicit rollback block, else each change's inverse in reverse order.

    ``captured`` maps a change's position in ``cs`` to what was reflected just before it ran (destructive changes).
    """
    if cs.rollback is not None:
        return cs.rollback
    result: list[Change] = []
    reasons: list[str] = []
    for i, change in reversed(list(enumerate(cs.changes))):
        try:
            result.extend(change.inverse(replace(ctx, captured=(captured or {}).get(i))))
        except NoInverse as exc:
            reasons.append(str(exc))
    if reasons:
        raise NoInverse("; ".join(reasons))
    return result


def rollback_plan(
    changelog: ChangeLog,
    rows: Iterable[HistoryRow],
    ctx: PlanContext,
    captures: Mapping[tuple[str, str, str], Captures] | None = None,
) -> list[tuple[HistoryRow, ChangeSet, list[Change]]]:
    """For each row to undo (newest first): its changeSet and the changes that undo it (from ``captures`` of
    destructive changes, by history key, where they were captured).

    Raises :class:`RollbackImpossibleError` naming every changeSet that cannot be undone, before anything runs.
    """
    by_key = changelog.by_key()
    plan: list[tuple[HistoryRow, ChangeSet, list[Change]]] = []
    problems: list[str] = []
    for row in rows:
        cs = by_key.get(row.key)
        if cs is None:
            problems.append(f"  {row.identifier}: not in the changelog, so its rollback is unknown")
            continue
        try:
            plan.append((row, cs, inverse_of(cs, ctx, (captures or {}).get(row.key))))
        except NoInverse as exc:
            problems.append(f"  {cs.identifier} ({cs.location}): {exc}")
    if problems:
        raise RollbackImpossibleError("cannot roll back; nothing was changed:\n" + "\n".join(problems))
    return plan
