"""Benchmark: ``generate-changelog`` of a database of N tables against SQLAlchemy's ``MetaData.reflect`` of it, in
one run (the ratio is what counts; the issue's bar is at most 2x).

    python bench/generate_changelog.py --url postgresql://user@host/empty_db [--tables 300] [--repeat 3]

The database must be empty: the script creates N tables (columns of several types, a primary key, a foreign key
to the previous table, an index, a unique constraint), measures, and drops them again. Figures are medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from yamlbase import commands  # noqa: E402


def models(tables: int) -> sa.MetaData:
    metadata = sa.MetaData()
    for i in range(tables):
        columns: list[sa.SchemaItem] = [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(80), nullable=False, server_default="x"),
            sa.Column("amount", sa.Numeric(12, 2)),
            sa.Column("created", sa.DateTime, server_default=sa.func.now()),
            sa.Column("flag", sa.Boolean, nullable=False, server_default=sa.false()),
            sa.Column("notes", sa.Text),
            sa.Index(f"ix_t{i}_name", "name"),
            sa.UniqueConstraint("name", "amount", name=f"uq_t{i}"),
        ]
        if i:
            columns.append(sa.Column("parent_id", sa.ForeignKey(f"t{i - 1}.id", name=f"fk_t{i}_parent")))
        sa.Table(f"t{i}", metadata, *columns)
    return metadata


def timed(run: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="an empty database (PostgreSQL for the issue's figure)")
    parser.add_argument("--tables", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = commands.create_engine(args.url)
    metadata = models(args.tables)
    with engine.begin() as connection:
        metadata.create_all(connection)
    try:

        def reflect() -> None:
            with engine.connect() as connection:
                sa.MetaData().reflect(connection)

        def generate() -> None:
            with tempfile.TemporaryDirectory() as folder:
                commands.generate_changelog(engine, output_file=Path(folder) / "changelog.yaml", author="bench")

        baseline = timed(reflect, args.repeat)
        ours = timed(generate, args.repeat)
        print(f"{args.tables} tables on {engine.dialect.name}:")
        print(f"  MetaData.reflect    {baseline:8.3f} s")
        print(f"  generate-changelog  {ours:8.3f} s  ({ours / baseline:.2f}x)")
    finally:
        with engine.begin() as connection:
            metadata.drop_all(connection)
        engine.dispose()


if __name__ == "__main__":
    main()
