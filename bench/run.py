"""Benchmarks: yamlbase against baselines run in the same session, written to BENCHMARKS.md.

    python bench/run.py [--changesets 1000] [--repeat 3] [--liquibase PATH] [--out BENCHMARKS.md]

Each scenario runs the ``yamlbase`` command line as a user would (a fresh process: start-up included) on a
generated changelog of N changeSets spread over 10 included files, against a SQLite file. Baselines:

- *floor*: Python's ``sqlite3`` executing the SQL that ``yamlbase update-sql`` prints for the same changelog
  (the statements and the history inserts, nothing else): the cost of the work itself;
- *Liquibase* 4.x, when ``--liquibase`` (or ``LIQUIBASE``) names its launcher: the same changelog, same database kind.

Figures are medians of ``--repeat`` runs; ratios are yamlbase's time divided by the baseline's.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = 10


def generate(folder: Path, changesets: int) -> Path:
    """A changelog of ``changesets`` changeSets: tables, added columns, indexes and rows, in 10 included files."""
    per_file = max(1, changesets // FILES)
    includes = []
    n = 0
    for f in range(FILES):
        lines = ["databaseChangeLog:"]
        for _ in range(per_file if f < FILES - 1 else changesets - n):
            kind = n % 4
            t = f"t{n - kind}"
            lines += [f"  - changeSet:\n      id: cs-{n}\n      author: bench\n      changes:"]
            if kind == 0:
                lines.append(
                    f"        - createTable:\n            tableName: {t}\n            columns:\n"
                    "              - column: {name: id, type: int, constraints: {primaryKey: true}}\n"
                    "              - column: {name: name, type: varchar(50)}"
                )
            elif kind == 1:
                lines.append(
                    f"        - addColumn:\n            tableName: {t}\n            columns:\n"
                    "              - column: {name: created, type: timestamp}"
                )
            elif kind == 2:
                lines.append(
                    f"        - createIndex:\n            tableName: {t}\n            indexName: ix_{t}\n"
                    "            columns: [{column: {name: name}}]"
                )
            else:
                lines.append(f"        - sql: INSERT INTO {t} (id, name) VALUES (1, 'one')")
            n += 1
        name = f"part-{f:02d}.yaml"
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        includes.append(f"  - include: {{file: {name}}}")
    root = folder / "changelog.yaml"
    root.write_text("databaseChangeLog:\n" + "\n".join(includes) + "\n", encoding="utf-8")
    return root


def timed(run: Callable[[], None], repeat: int, setup: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Failed(Exception):
    """A baseline that could not do the job at all (its message says why)."""


def sh(*args: str, cwd: Path) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr + result.stdout).splitlines()
        # Liquibase's most specific line: the database's own reason, else its first exception.
        detail = next(
            (line.strip() for line in lines if "Reason:" in line or "too many" in line),
            next((line.strip() for line in lines if "Exception:" in line), lines[-1] if lines else ""),
        )
        raise Failed(f"{' '.join(args[:1])} {' '.join(a for a in args[1:] if not a.startswith('--'))}: {detail}")


Row = tuple[str, float, dict[str, "float | str"]]


def measure(size: int, repeat: int, liquibase_path: str | None) -> list[Row]:
    """The scenarios on a generated changelog of ``size`` changeSets, with their baselines."""
    yamlbase = shutil.which("yamlbase", path=str(Path(sys.executable).parent)) or "yamlbase"
    work = Path(tempfile.mkdtemp(prefix="yamlbase-bench-"))
    generate(work, size)
    db = work / "bench.db"

    def fresh() -> None:
        db.unlink(missing_ok=True)

    def yb(*command: str) -> Callable[[], None]:
        return lambda: sh(
            yamlbase, "--url", f"sqlite:///{db}", "--changelog-file", "changelog.yaml", *command, cwd=work
        )

    # The floor: the same statements, straight into sqlite3.
    sql = subprocess.run(
        [yamlbase, "--changelog-file", "changelog.yaml", "update-sql", "--dialect", "sqlite"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def floor() -> None:
        connection = sqlite3.connect(db)
        connection.executescript(sql)
        connection.close()

    t_floor = timed(floor, repeat, fresh)
    t_update = timed(yb("update"), repeat, fresh)
    t_noop = timed(yb("update"), repeat)  # the database is up to date after the previous run
    t_preview = timed(
        lambda: sh(yamlbase, "--changelog-file", "changelog.yaml", "update-sql", "--dialect", "postgresql", cwd=work),
        repeat,
    )
    t_validate = timed(yb("validate"), repeat)

    liquibase: dict[str, float | str] = {}
    if liquibase_path:
        lb_db = work / "liquibase.db"

        def lb(*command: str) -> Callable[[], None]:
            return lambda: sh(
                liquibase_path,
                f"--url=jdbc:sqlite:{lb_db}",
                "--changelog-file=changelog.yaml",
                "--log-level=SEVERE",
                *command,
                cwd=work,
            )

        for key, command, setup in (
            ("update", "update", lambda: lb_db.unlink(missing_ok=True)),
            ("noop", "update", lambda: None),
            ("validate", "validate", lambda: None),
            ("preview", "update-sql", lambda: lb_db.unlink(missing_ok=True)),
        ):
            try:
                liquibase[key] = timed(lb(command), repeat, setup)
            except Failed as failure:  # e.g. Liquibase's update-sql cannot render addColumn for SQLite
                liquibase[key] = str(failure).split(": ", 1)[-1][:240]
    shutil.rmtree(work, ignore_errors=True)
    return [
        ("`update` (empty database)", t_update, {"floor": t_floor, "liquibase": liquibase.get("update", 0)}),
        ("`update` (nothing to do)", t_noop, {"liquibase": liquibase.get("noop", 0)}),
        ("`update-sql` (no database for yamlbase)", t_preview, {"liquibase": liquibase.get("preview", 0)}),
        ("`validate`", t_validate, {"liquibase": liquibase.get("validate", 0)}),
    ]


def ratio(ours: float, base: float | str) -> str:
    if isinstance(base, str):
        return f"fails: {base}"
    return f"{ours / base:.2f} x ({base:.2f} s)" if base else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changesets", default="200,1000", help="comma-separated sizes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--liquibase", default=os.environ.get("LIQUIBASE"))
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    sizes = [int(n) for n in str(args.changesets).split(",") if n.strip()]

    version = ""
    if args.liquibase:
        found = subprocess.run([args.liquibase, "--version"], capture_output=True, text=True).stdout
        version = next((line for line in found.splitlines() if "Liquibase Version" in line), "Liquibase").strip()
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python bench/run.py --changesets {args.changesets} --repeat {args.repeat}"
        + (" --liquibase …`" if args.liquibase else "`")
        + f" on {time.strftime('%Y-%m-%d')}.",
        "",
        f"Machine: {platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
        + (f"; {version}" if version else "")
        + ".",
        "",
        f"Changelogs: N changeSets in {FILES} included files (createTable, addColumn, createIndex, sql insert, in "
        "turn), applied to a SQLite file. Each figure is the median of the runs, wall-clock, a fresh process each "
        "time (start-up included). A ratio is yamlbase's time divided by the baseline's, both measured in this "
        "session; below 1 means yamlbase is faster.",
    ]
    for size in sizes:
        lines += [
            "",
            f"## {size} changeSets",
            "",
            "| scenario | yamlbase | vs floor (sqlite3 running the same SQL) | vs Liquibase |",
            "|---|---|---|---|",
        ]
        for name, ours, bases in measure(size, args.repeat, args.liquibase):
            floor_ratio, liquibase_ratio = ratio(ours, bases.get("floor", 0)), ratio(ours, bases.get("liquibase", 0))
            lines.append(f"| {name} | {ours:.2f} s | {floor_ratio} | {liquibase_ratio} |")
    lines += [
        "",
        "The floor is the least any tool can take: the statements alone. `update-sql` for Liquibase needs a "
        "database connection; yamlbase's renders with none.",
        "",
    ]
    out = Path(args.out)
    lines += _other_sections(out.read_text(encoding="utf-8") if out.exists() else "")
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


def _other_sections(text: str) -> list[str]:
    """The sections other bench/ scripts wrote into BENCHMARKS.md (every ``## `` section but this script's own
    ``## N changeSets``), kept as they are."""
    kept: list[str] = []
    for section in re.split(r"\n(?=## )", text)[1:]:
        if not re.match(r"## \d+ changeSets\n", section):
            kept.append(section.rstrip("\n") + "\n")
    return kept


if __name__ == "__main__":
    main()
