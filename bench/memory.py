"""Peak memory of ``update`` with a large CSV (``loadData``): the load itself, and a run with nothing to do.

    python bench/memory.py [--rows 1000000] [--repeat 3] [--baseline PATH] [--out BENCHMARKS.md]

Each figure is the peak resident set (``ru_maxrss`` of the finished process, from ``wait4``) of the ``yamlbase``
command line run as a user would, a fresh process each time, against a SQLite file; the median of ``--repeat``
runs. ``--baseline`` names another yamlbase source tree (e.g. ``git worktree add /tmp/before main``) measured
in the same session, the same way. The figures go to the "Memory" section of BENCHMARKS.md (the rest of the
file, which ``bench/run.py`` writes, is kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Memory"


def generate(folder: Path, rows: int) -> Path:
    """A changelog that creates a table and loads ``rows`` rows into it from one CSV file."""
    with (folder / "rows.csv").open("w", encoding="utf-8", newline="") as csv:
        csv.write("id,name,amount,note\n")
        block = 10_000
        for start in range(0, rows, block):
            csv.write(
                "".join(
                    f"{i},name-{i:010d},{i * 7 % 100000}.{i % 100:02d},note {i % 997:03d} {i:07d}\n"
                    for i in range(start, min(rows, start + block))
                )
            )
    (folder / "changelog.yaml").write_text(
        "databaseChangeLog:\n"
        "  - changeSet:\n"
        "      id: table\n"
        "      author: bench\n"
        "      changes:\n"
        "        - createTable:\n"
        "            tableName: rows\n"
        "            columns:\n"
        "              - column: {name: id, type: int, constraints: {primaryKey: true}}\n"
        "              - column: {name: name, type: varchar(20)}\n"
        "              - column: {name: amount, type: 'decimal(10,2)'}\n"
        "              - column: {name: note, type: varchar(20)}\n"
        "  - changeSet:\n"
        "      id: rows\n"
        "      author: bench\n"
        "      changes:\n"
        "        - loadData: {tableName: rows, file: rows.csv, relativeToChangelogFile: true}\n",
        encoding="utf-8",
    )
    return folder / "changelog.yaml"


def peak_mb(source: Path, work: Path, *command: str) -> float:
    """The peak resident set, in MB, of ``python -m yamlbase COMMAND`` run from ``source``; fails if it fails."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    process = subprocess.Popen(
        [sys.executable, "-m", "yamlbase", *command],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({source}): {err.decode(errors='replace')[-2000:]}")
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def measure(source: Path, rows: int, repeat: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="yamlbase-memory-"))
    try:
        generate(work, rows)
        db = work / "bench.db"
        base = ("--url", f"sqlite:///{db}", "--changelog-file", "changelog.yaml")
        loads, noops, statuses = [], [], []
        for _ in range(repeat):
            db.unlink(missing_ok=True)
            loads.append(peak_mb(source, work, *base, "update"))
        for _ in range(repeat):  # the database is up to date after the loads
            noops.append(peak_mb(source, work, *base, "update"))
            statuses.append(peak_mb(source, work, *base, "status"))
        with sqlite3.connect(db) as connection:
            (count,) = connection.execute("SELECT count(*) FROM rows").fetchone()
        assert count == rows, f"{count} rows loaded, not {rows}"
        return {
            "csv": (work / "rows.csv").stat().st_size / 1e6,
            "load": statistics.median(loads),
            "noop": statistics.median(noops),
            "status": statistics.median(statuses),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another yamlbase source tree, measured the same way")
    parser.add_argument("--label", default="before", help="what to call the baseline in the table")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()

    ours = measure(ROOT, args.rows, args.repeat)
    theirs = measure(args.baseline.resolve(), args.rows, args.repeat) if args.baseline else None
    command = f"python bench/memory.py --rows {args.rows} --repeat {args.repeat}" + (
        f" --baseline … --label {args.label}" if args.baseline else ""
    )
    lines = [
        SECTION,
        "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d')}. Machine: {platform.system()} {platform.release()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}.",
        "",
        f"A `loadData` of {args.rows:,} rows from a {ours['csv']:.1f} MB CSV into a SQLite file. Each figure is the "
        "median peak resident set (`ru_maxrss`) of a fresh `yamlbase` process"
        + (f"; *{args.label}* is the baseline tree, measured in the same session." if theirs else "."),
        "",
        "| scenario | yamlbase |" + (f" {args.label} |" if theirs else ""),
        "|---|---|" + ("---|" if theirs else ""),
    ]
    for key, name in (
        ("load", "`update` (loads the CSV)"),
        ("noop", "`update` (nothing to do)"),
        ("status", "`status`"),
    ):
        lines.append(f"| {name} | {ours[key]:.0f} MB |" + (f" {theirs[key]:.0f} MB |" if theirs else ""))
    lines.append("")

    out = Path(args.out)
    text = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    kept = text.split(f"\n{SECTION}\n", 1)[0].rstrip("\n")
    out.write_text(kept + "\n\n" + "\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
