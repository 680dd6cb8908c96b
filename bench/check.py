"""Benchmark: ``yamlbase check --models`` of a changelog of N changeSets against ``yamlbase update-sql`` of the same
changelog, in one run (the ratio is what counts; the issue's bar is at most 2x).

    python bench/check.py [--changesets 1000] [--repeat 5]

The changelog is bench/run.py's (createTable, addColumn, createIndex, sql insert, in turn, in 10 included files);
the models module declares exactly the tables it builds, so ``check`` exits 0: the CI case, where the changelog is
replayed on an in-memory SQLite database, the models are created on another, and both are reflected and compared.
``update-sql --dialect sqlite`` renders the same changelog, bookkeeping included, with no database. Each run is a
fresh process (start-up included), the two commands alternating; figures are medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import generate


def models(size: int) -> str:
    """A models module declaring the tables that bench/run.py's changelog of ``size`` changeSets builds."""
    lines = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()"]
    for n in range(0, size, 4):
        # A table has its addColumn and createIndex only when the changelog gets that far (n + 1, n + 2).
        columns = [
            'sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)',
            'sa.Column("name", sa.String(50))',
        ]
        if n + 1 < size:
            columns.append('sa.Column("created", sa.TIMESTAMP)')
        if n + 2 < size:
            columns.append(f'sa.Index("ix_t{n}", "name")')
        lines.append(f'sa.Table("t{n}", metadata, {", ".join(columns)})')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changesets", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    yamlbase = shutil.which("yamlbase", path=str(Path(sys.executable).parent)) or "yamlbase"
    work = Path(tempfile.mkdtemp(prefix="yamlbase-bench-check-"))
    try:
        generate(work, args.changesets)
        (work / "bench_models.py").write_text(models(args.changesets), encoding="utf-8")
        commands = {
            "check": [yamlbase, "--changelog-file", "changelog.yaml", "check", "--models", "bench_models"],
            "update-sql": [yamlbase, "--changelog-file", "changelog.yaml", "update-sql", "--dialect", "sqlite"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                start = time.perf_counter()
                done = subprocess.run(command, cwd=work, capture_output=True, text=True)
                times[name].append(time.perf_counter() - start)
                if done.returncode != 0:
                    sys.exit(f"{name} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
        ours, baseline = statistics.median(times["check"]), statistics.median(times["update-sql"])
        print(f"{args.changesets} changeSets, medians of {args.repeat} fresh processes:")
        print(f"  update-sql --dialect sqlite  {baseline:8.3f} s")
        print(f"  check --models               {ours:8.3f} s  ({ours / baseline:.2f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
