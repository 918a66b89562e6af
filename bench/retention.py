"""Retention cost: the time to remove one expired day, beside how much data is kept.

    python bench/retention.py                   # 100,000 events a day; 1, 10 and 40 days kept
    python bench/retention.py --per-day 300000

For each amount of kept data the store holds that many days of a long-retention group
plus one day of a short-retention group, then the clock moves past the short retention
and one sweep runs. Two layouts: the expired day holds only the short group (the table is
dropped), or both groups (the short group's rows are deleted from that day's table). The
sweep's time should not grow with the days kept; the printed ratio compares the largest
store with the smallest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))

from corpus import generate
from logpond.ingest.base import DecodeContext
from logpond.ingest.ndjson import NDJSONDecoder
from logpond.model.clock import ManualClock
from logpond.model.names import LogGroupName
from logpond.store.duckdb.connection import DuckDBSettings
from logpond.store.duckdb.store import DuckDBStore

DAY = 86_400_000
START = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def day_batch(group: str, day: int, per_day: int, template: pa.RecordBatch) -> pa.RecordBatch:
    """``per_day`` events spread over one day, reusing decoded corpus columns."""
    rows = template.slice(0, per_day)
    ts = START + day * DAY + np.linspace(0, DAY - 1, per_day, dtype=np.int64)
    columns = {name: rows.column(name) for name in rows.schema.names}
    columns["log_group"] = pa.array([group] * per_day)
    columns["timestamp"] = pa.array(ts)
    return pa.RecordBatch.from_pydict(columns, schema=rows.schema)


def measure(
    workdir: Path, kept_days: int, per_day: int, shared: bool, template: pa.RecordBatch, run: int
) -> float:
    clock = ManualClock(START + (kept_days + 1) * DAY)
    store = DuckDBStore(DuckDBSettings(workdir / f"r-{kept_days}-{shared}-{run}.duckdb"), clock=clock)
    try:
        store.create_group(LogGroupName("/long"), retention_days=3653)
        store.create_group(LogGroupName("/short"), retention_days=1)
        # The expired day: day 0. Shared: /long has events there too.
        store.append(day_batch("/short", 0, per_day, template)).result()
        first_long_day = 0 if shared else 1
        for day in range(first_long_day, first_long_day + kept_days):
            for part in range(0, per_day, 100_000):
                batch = day_batch("/long", day, per_day, template).slice(part, 100_000)
                store.append(batch).result()
        store.checkpoint()
        clock.set(START + (kept_days + 3) * DAY)
        started = time.perf_counter()
        report = store.sweep_expired()
        elapsed = time.perf_counter() - started
        expected = (0, per_day) if shared else (1, 0)
        got = (report.dropped_partitions, report.deleted_rows)
        if got != expected:
            raise SystemExit(f"unexpected sweep {got}, wanted {expected}")
        return elapsed
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-day", type=int, default=100_000)
    parser.add_argument("--kept", type=int, nargs="+", default=[1, 10, 40])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="logpond-retention-"))
    lines = b"\n".join(e.line for e in generate(args.per_day, 7, START))
    template = NDJSONDecoder().decode(lines, DecodeContext("/x", "s", START)).batch
    print(f"{'kept days':>9} {'kept events':>12}  {'drop day (ms)':>14}  {'trim shared day (ms)':>21}")
    results = []
    for kept in args.kept:
        # Median of three runs, each on a fresh store: single sweeps take milliseconds.
        drop = statistics.median(measure(workdir, kept, args.per_day, False, template, r) for r in range(3))
        trim = statistics.median(measure(workdir, kept, args.per_day, True, template, r) for r in range(3))
        results.append((drop, trim))
        print(f"{kept:>9} {kept * args.per_day:>12,}  {drop * 1000:>14.1f}  {trim * 1000:>21.1f}")
    (drop_small, trim_small), (drop_big, trim_big) = results[0], results[-1]
    print(
        f"largest / smallest store: drop {drop_big / drop_small:.2f}x, trim {trim_big / trim_small:.2f}x "
        f"(kept data grew {args.kept[-1] / args.kept[0]:.0f}x)"
    )


if __name__ == "__main__":
    main()
