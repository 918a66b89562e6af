"""Query benchmark: Logs Insights through logpond's API, beside the same questions in
hand-written DuckDB SQL on the same database file and grep/rg over an NDJSON export.

    python bench/query.py                                      # 10,000,000 events, and 1,000,000
    python bench/query.py --events 1000000 --small-events 100000   # quicker

The seeded corpus (bench/corpus.py) arrives at about 20 events a second, so its size sets
how far back it reaches: 10,000,000 events span about six days (one DuckDB table per UTC
day), 1,000,000 about fourteen hours, and the last hour holds about 72,000 events either
way. It is ingested through a real server in ~1 MiB NDJSON batches over 8 connections, in
time order as shippers send it; the server is then restarted and the questions are asked
over the API (a warm-up run, then the median of ``--repeat``). The server is stopped and the
same questions run as hand-written SQL on the database file opened read-only, with the
server's memory limit and thread count: the engine's floor. Last, every event is exported
through the API as NDJSON, one ``@message`` per line in time order (what a service's log
file holds), and each question's filter is counted with ``grep -c`` and ``rg -c``.

The "last hour" question runs again on a second corpus of ``--small-events`` events that
ends at the same time: with time pruning its cost does not depend on how much is stored.

Targets (2-core machine): median logpond / SQL <= 1.3; trace_id lookup <= 50 ms; each of
the source story's five queries <= 1 s; last hour at 10M / at 1M about 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))

from _harness import AUTH, Server, dir_bytes, post_request, run_server, stream_load
from corpus import GROUPS, generate
from logpond.store.registry import DEFAULT_MEMORY_LIMIT

MIB = 1 << 20
MEAN_GAP_MS = 50  # about 20 events a second
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
TERM = "retrying task"
REGEX = r"reports/[0-9]+"


@dataclass(frozen=True)
class Corpus:
    """What the benchmark needs to know about an ingested corpus."""

    events: int
    first_ms: int
    end_ms: int  # one past the last event
    trace_id: str  # a trace from the middle of the corpus
    ingest_seconds: float
    disk_bytes: int


@dataclass(frozen=True)
class Question:
    """One question asked three ways."""

    name: str
    insights: str
    span: str  # "all", "24h" or "1h": the time range, ending at the corpus end
    sql: str  # over a relation called ``ev``; {trace} is filled in
    grep: str  # a shell pipeline over the export ({tool}, {regex} and {file} filled in); "" for none
    key: tuple[str, str]  # the result column whose values both answers must share (API, SQL)
    seed: bool = False


QUESTIONS = [
    Question(
        "seed: errors",
        'fields @timestamp, @message, trace_id, tenant_id | filter level = "error" '
        "| sort @timestamp desc | limit 100",
        "all",
        "SELECT ts, message, fields, trace_id, tenant_id FROM ev WHERE level = 'error' "
        "ORDER BY ts DESC LIMIT 100",
        '{tool} -c -F \'"level":"error"\' {file}',
        ("@timestamp", "ts"),
        seed=True,
    ),
    Question(
        "seed: trace abc-123-def",
        'fields @timestamp, @message, level | filter trace_id = "abc-123-def" | sort @timestamp asc',
        "all",
        "SELECT ts, message, fields, level FROM ev WHERE trace_id = 'abc-123-def' ORDER BY ts",
        "{tool} -c -F 'abc-123-def' {file}",
        ("@timestamp", "ts"),
        seed=True,
    ),
    Question(
        "seed: latency > 500 ms",
        "fields @timestamp, method, path, duration_ms | filter duration_ms > 500 "
        "| sort duration_ms desc | limit 50",
        "all",
        "SELECT ts, fields->>'method', fields->>'path', d FROM "
        "(SELECT *, TRY_CAST(fields->>'duration_ms' AS DOUBLE) AS d FROM ev) WHERE d > 500 "
        "ORDER BY d DESC LIMIT 50",
        "{tool} -c {regex} "
        "'\"duration_ms\":(50[1-9]|5[1-9][0-9]|[6-9][0-9]{{2}}|[1-9][0-9]{{3,}})[,}}]' {file}",
        ("duration_ms", "d"),
        seed=True,
    ),
    Question(
        "seed: errors by tenant",
        'fields tenant_id | filter level = "error" | stats count() as error_count by tenant_id '
        "| sort error_count desc",
        "all",
        "SELECT tenant_id, count(*) AS error_count FROM ev WHERE level = 'error' "
        "GROUP BY tenant_id ORDER BY error_count DESC",
        '{tool} -F \'"level":"error"\' {file} | {tool} -o {regex} \'"tenant_id":"[^"]*"\' | sort | uniq -c',
        ("error_count", "error_count"),
        seed=True,
    ),
    Question(
        "seed: 5xx",
        "fields @timestamp, method, path, status, trace_id | filter status >= 500 "
        "| sort @timestamp desc | limit 100",
        "all",
        "SELECT ts, fields->>'method', fields->>'path', fields->>'status', trace_id FROM ev "
        "WHERE TRY_CAST(fields->>'status' AS DOUBLE) >= 500 ORDER BY ts DESC LIMIT 100",
        "{tool} -c {regex} '\"status\":5[0-9]{{2}}[,}}]' {file}",
        ("@timestamp", "ts"),
        seed=True,
    ),
    Question(
        "trace_id needle",
        'fields @timestamp, @message, level | filter trace_id = "{trace}" | sort @timestamp asc',
        "all",
        "SELECT ts, message, fields, level FROM ev WHERE trace_id = '{trace}' ORDER BY ts",
        "{tool} -c -F '{trace}' {file}",
        ("@timestamp", "ts"),
    ),
    Question(
        "full-text term count",
        f'filter @message like "{TERM}" | stats count(*) as events',
        "all",
        f"SELECT count(*) AS events FROM ev WHERE contains(message, '{TERM}') OR contains(fields, '{TERM}')",
        f"{{tool}} -c -F '{TERM}' {{file}}",
        ("events", "events"),
    ),
    Question(
        "regex filter count",
        f"filter @message like /{REGEX.replace('/', chr(92) + '/')}/ | stats count(*) as events",
        "all",
        f"SELECT count(*) AS events FROM ev WHERE regexp_matches(message, '{REGEX}') "
        f"OR regexp_matches(fields, '{REGEX}')",
        f"{{tool}} -c {{regex}} '{REGEX}' {{file}}",
        ("events", "events"),
    ),
    Question(
        "stats by tenant",
        "stats count(*) as events by tenant_id | sort events desc",
        "all",
        "SELECT tenant_id, count(*) AS events FROM ev GROUP BY tenant_id ORDER BY events DESC",
        '{tool} -o {regex} \'"tenant_id":"[^"]*"\' {file} | sort | uniq -c',
        ("events", "events"),
    ),
    Question(
        "24 h histogram bin(1m)",
        "stats count(*) as events by bin(1m)",
        "24h",
        "SELECT ts // 60000 * 60000 AS minute, count(*) AS events FROM ev "
        "GROUP BY minute ORDER BY minute DESC",
        '{tool} -o {regex} \'"timestamp":"[0-9-]{{10}}T[0-9]{{2}}:[0-9]{{2}}\' {file} | uniq -c',
        ("events", "events"),
    ),
    Question(
        "last hour: errors",
        'fields @timestamp, @message, trace_id, tenant_id | filter level = "error" '
        "| sort @timestamp desc | limit 100",
        "1h",
        "SELECT ts, message, fields, trace_id, tenant_id FROM ev WHERE level = 'error' "
        "ORDER BY ts DESC LIMIT 100",
        "",
        ("@timestamp", "ts"),
    ),
]


@dataclass
class Measured:
    """Timings of one question one way, and what it answered."""

    seconds: list[float] = field(default_factory=list)
    rows: int = 0
    check: Any = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000 if self.seconds else float("nan")


# Ingest ------------------------------------------------------------------------------------


def corpus_requests(port: int, count: int, seed: int, end_ms: int, found: dict[str, Any]) -> Iterator[bytes]:
    """~1 MiB NDJSON bodies, one group each, in time order as shippers send them.

    Fills ``found`` with the first and last event times and a trace id from the middle.
    """
    start_ms = end_ms - count * MEAN_GAP_MS
    buffers: dict[str, list[bytes]] = {kind: [] for kind in GROUPS}
    sizes = dict.fromkeys(GROUPS, 0)
    numbers = dict.fromkeys(GROUPS, 0)

    def body(kind: str) -> bytes:
        lines = buffers[kind]
        buffers[kind] = []
        sizes[kind] = 0
        numbers[kind] += 1
        path = f"/api/v1/ingest?group={GROUPS[kind]}&stream={kind}-pod-{numbers[kind] % 4}"
        return post_request(port, path, b"\n".join(lines))

    for index, event in enumerate(generate(count, seed, start_ms, MEAN_GAP_MS)):
        if index == 0 or index == count - 1 or (index >= count // 2 and "trace_id" not in found):
            record = orjson.loads(event.line)
            ms = int(datetime.fromisoformat(record["timestamp"]).timestamp() * 1000)
            found.setdefault("first_ms", ms)
            found["last_ms"] = ms
            if index >= count // 2 and "trace_id" in record:
                found["trace_id"] = record["trace_id"]
        buffers[event.kind].append(event.line)
        sizes[event.kind] += len(event.line) + 1
        if sizes[event.kind] >= MIB:
            yield body(event.kind)
    for kind in GROUPS:
        if buffers[kind]:
            yield body(kind)


def ingest(data_dir: Path, count: int, seed: int, end_ms: int, reuse: bool) -> Corpus:
    """Ingest the corpus through a server, which then stops (and checkpoints).

    With ``reuse``, a corpus kept by an earlier run (``--keep``) is taken as it is.
    """
    saved = data_dir.parent / "corpus.json"
    if reuse and saved.exists():
        return Corpus(**json.loads(saved.read_text()))
    found: dict[str, Any] = {}
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with run_server(data_dir) as server:
        with server.client() as http:
            for group in GROUPS.values():
                http.post("/api/v1/groups", json={"name": group, "retention_days": 90}).raise_for_status()
        load = stream_load(server.port, corpus_requests(server.port, count, seed, end_ms, found), 8)
    failures = {k: v for k, v in load.statuses.items() if k != 200}
    if failures or load.accepted != count:
        raise SystemExit(f"ingest: {failures} non-200 answers, {load.accepted}/{count} accepted")
    corpus = Corpus(
        count, found["first_ms"], found["last_ms"] + 1, found["trace_id"], load.seconds, dir_bytes(data_dir)
    )
    saved.write_text(json.dumps(dataclasses.asdict(corpus)))
    return corpus


# Asking --------------------------------------------------------------------------------------


def time_range(corpus: Corpus, span: str) -> tuple[int, int]:
    if span == "1h":
        return corpus.end_ms - HOUR_MS, corpus.end_ms
    if span == "24h":
        return corpus.end_ms - DAY_MS, corpus.end_ms
    return corpus.first_ms, corpus.end_ms


def repeat(runs: int, ask: Callable[[], tuple[int, Any]]) -> Measured:
    """A warm-up run, then ``runs`` timed ones."""
    measured = Measured()
    measured.rows, measured.check = ask()
    for _ in range(runs):
        started = time.perf_counter()
        rows, check = ask()
        measured.seconds.append(time.perf_counter() - started)
        if (rows, check) != (measured.rows, measured.check):
            raise SystemExit(f"the answer changed between runs: {(rows, check)} != {measured.check}")
    return measured


def api_values(question: Question, records: list[dict[str, str]]) -> list[str]:
    """The values of the question's key column, sorted: both answers must have the same."""
    return sorted(_canonical(r.get(question.key[0])) for r in records)


def sql_values(question: Question, rows: list[tuple[Any, ...]], names: list[str]) -> list[str]:
    index = names.index(question.key[1])
    if question.key[1] == "ts":
        return sorted(_time_text(int(r[index])) for r in rows)
    return sorted(_canonical(r[index]) for r in rows)


def _time_text(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def _canonical(value: Any) -> str:
    """Numbers as the API writes them (``600``, not ``600.0``); other values as text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def ask_api(server: Server, corpus: Corpus, question: Question, runs: int) -> Measured:
    start, end = time_range(corpus, question.span)
    body = {
        "query": question.insights.replace("{trace}", corpus.trace_id),
        "groups": list(GROUPS.values()),
        "start": start,
        "end": end,
    }
    with server.client() as http:

        def ask() -> tuple[int, Any]:
            response = http.post("/api/v1/query", json=body)
            response.raise_for_status()
            records = response.json()["records"]
            return len(records), api_values(question, records)

        return repeat(runs, ask)


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The database file as the server sees it: same memory limit, read-only."""
    con = duckdb.connect(":memory:", config={"memory_limit": DEFAULT_MEMORY_LIMIT})
    con.execute(f"ATTACH '{path}' AS lp (READ_ONLY)")
    con.execute("USE lp")
    return con


def ask_sql(con: duckdb.DuckDBPyConnection, corpus: Corpus, question: Question, runs: int) -> Measured:
    """The question hand-written over the day tables its range touches."""
    start, end = time_range(corpus, question.span)
    days = range(start // DAY_MS, (end - 1) // DAY_MS + 1)
    existing = {row[0] for row in con.execute("SELECT table_name FROM partitions").fetchall()}
    tables = [
        t for d in days if (t := f"events_{datetime.fromtimestamp(d * 86_400, UTC):%Y%m%d}") in existing
    ]
    union = " UNION ALL ".join(f"SELECT * FROM {t} WHERE ts >= {start} AND ts < {end}" for t in tables)
    sql = f"WITH ev AS ({union}) " + question.sql.replace("{trace}", corpus.trace_id)

    def ask() -> tuple[int, Any]:
        cursor = con.execute(sql)
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description or []]
        return len(rows), sql_values(question, rows, names)

    return repeat(runs, ask)


def export(server: Server, corpus: Corpus, path: Path) -> float:
    """Every event through the export API, written one @message per line; events/s."""
    body = {
        "query": "fields @message | sort @timestamp asc",
        "groups": list(GROUPS.values()),
        "start": corpus.first_ms,
        "end": corpus.end_ms,
    }
    started = time.perf_counter()
    lines = 0
    partial = path.with_suffix(".partial")
    with (
        httpx.Client(base_url=server.url, headers={"authorization": AUTH}, timeout=3600) as http,
        http.stream("POST", "/api/v1/query/export", json=body) as response,
        partial.open("wb") as out,
    ):
        response.raise_for_status()
        for line in response.iter_lines():
            if line:
                out.write(orjson.loads(line)["@message"].encode() + b"\n")
                lines += 1
    seconds = time.perf_counter() - started
    if lines != corpus.events:
        raise SystemExit(f"export: {lines} lines for {corpus.events} events")
    partial.rename(path)
    return corpus.events / seconds


def ask_grep(tool: str, path: Path, corpus: Corpus, question: Question, runs: int) -> Measured | None:
    if not question.grep:
        return None
    regex = "-E" if tool == "grep" else ""  # rg's patterns are regular expressions already
    command = question.grep.replace("{trace}", corpus.trace_id).format(tool=tool, file=path, regex=regex)
    env = {"LC_ALL": "C", "PATH": "/usr/local/bin:/usr/bin:/bin"}

    def ask() -> tuple[int, Any]:
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, check=False)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command}: {done.stderr.decode()}")
        return len(done.stdout.splitlines()), None

    return repeat(runs, ask)


# Report ------------------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--small-events", type=int, default=1_000_000, help="the second corpus (0: skip)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per question (median)")
    parser.add_argument("--grep-repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260124)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the databases and the export")
    parser.add_argument("--reuse", action="store_true", help="ask again on corpora kept in --workdir")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="logpond-querybench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    end_ms = (int(time.time()) // 60 - 5) * 60_000
    try:
        print(f"ingesting {args.events:,} events ...", flush=True)
        big = ingest(workdir / "big" / "data", args.events, args.seed, end_ms, args.reuse)
        rate, size = big.events / big.ingest_seconds, big.disk_bytes / big.events
        print(f"  {rate:,.0f} events/s, {size:.1f} bytes/event")
        api: dict[str, Measured] = {}
        export_path = workdir / "events.ndjson"
        with run_server(workdir / "big" / "data") as server:
            for question in QUESTIONS:
                print(f"API: {question.name} ...", flush=True)
                api[question.name] = ask_api(server, big, question, args.repeat)
            export_rate = None
            if not (args.reuse and export_path.exists()):
                print("export ...", flush=True)
                export_rate = export(server, big, export_path)
        sql: dict[str, Measured] = {}
        con = open_read_only(workdir / "big" / "data" / "logpond.duckdb")
        for question in QUESTIONS:
            print(f"SQL: {question.name} ...", flush=True)
            sql[question.name] = ask_sql(con, big, question, args.repeat)
        con.close()
        tools = [t for t in ("grep", "rg") if shutil.which(t)]
        greps: dict[str, dict[str, Measured | None]] = {t: {} for t in ("grep", "rg")}
        for tool in tools:
            for question in QUESTIONS:
                print(f"{tool}: {question.name} ...", flush=True)
                greps[tool][question.name] = ask_grep(tool, export_path, big, question, args.grep_repeat)
        small_api = None
        if args.small_events:
            print(f"ingesting {args.small_events:,} events (the same last hour) ...", flush=True)
            small = ingest(workdir / "small" / "data", args.small_events, args.seed + 1, end_ms, args.reuse)
            last_hour = QUESTIONS[-1]
            with run_server(workdir / "small" / "data") as server:
                small_api = ask_api(server, small, last_hour, args.repeat)
    finally:
        if not args.keep and not args.reuse:
            shutil.rmtree(workdir, ignore_errors=True)

    report(args, big, api, sql, greps, export_rate, small_api, "rg" in tools)


def report(
    args: argparse.Namespace,
    big: Corpus,
    api: dict[str, Measured],
    sql: dict[str, Measured],
    greps: dict[str, dict[str, Measured | None]],
    export_rate: float | None,
    small_api: Measured | None,
    have_rg: bool,
) -> None:
    print()
    days = (big.end_ms - big.first_ms) / DAY_MS
    print(f"{big.events:,} events over {days:.1f} days; median of {args.repeat} runs")
    header = f"{'question':26} {'range':>5} {'rows':>5} {'logpond ms':>11} {'SQL ms':>9} {'ratio':>6}"
    print(header + f" {'grep ms':>9} {'rg ms':>9}  same answer")
    ratios = []
    results = {}
    for question in QUESTIONS:
        a, s = api[question.name], sql[question.name]
        ratio = a.median_ms / s.median_ms
        ratios.append(ratio)
        g, r = greps["grep"].get(question.name), greps["rg"].get(question.name)
        same = "yes" if (a.rows, a.check) == (s.rows, s.check) else f"NO: {a.rows} vs {s.rows} rows"
        print(
            f"{question.name:26} {question.span:>5} {a.rows:>5} {fmt_ms(a.median_ms):>11} "
            f"{fmt_ms(s.median_ms):>9} {ratio:>6.2f} {fmt_ms(g.median_ms if g else None):>9} "
            f"{fmt_ms(r.median_ms if r else None):>9}  {same}"
        )
        results[question.name] = {
            "logpond_ms": a.median_ms, "sql_ms": s.median_ms, "ratio": ratio, "rows": a.rows,
            "grep_ms": g.median_ms if g else None, "rg_ms": r.median_ms if r else None,
        }  # fmt: skip
    if not have_rg:
        print("(rg is not installed: its column is empty; apt-get install ripgrep)")
    median_ratio = statistics.median(ratios)
    trace_ms = api["trace_id needle"].median_ms
    seeds = [api[q.name].median_ms for q in QUESTIONS if q.seed]
    print()
    print(f"{'target':44} {'value':>12}  ok")
    rows: list[tuple[str, str, bool | None]] = [
        ("median logpond / SQL <= 1.3", f"{median_ratio:.2f}", median_ratio <= 1.3),
        ("trace_id lookup <= 50 ms", f"{trace_ms:.1f} ms", trace_ms <= 50),
        ("slowest seed query <= 1 s", f"{max(seeds):,.0f} ms", max(seeds) <= 1000),
    ]
    if small_api is not None:
        big_hour = api["last hour: errors"].median_ms
        scale = big_hour / small_api.median_ms
        rows.append((f"last hour at {big.events:,} / at {args.small_events:,}", f"{scale:.2f}", scale <= 1.5))
        rows.append((f"  (last hour: {fmt_ms(big_hour)} ms vs {fmt_ms(small_api.median_ms)} ms)", "", None))
    if export_rate is not None:
        rows.append(("export through the API, events/s", f"{export_rate:,.0f}", None))
    rows.append(("ingest, events/s (8 x 1 MiB)", f"{big.events / big.ingest_seconds:,.0f}", None))
    for label, value, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{label:44} {value:>12}  {mark}")
    if args.json:
        summary = {
            "events": big.events, "questions": results, "median_ratio": median_ratio,
            "trace_ms": trace_ms, "export_events_per_s": export_rate,
            "last_hour_small_ms": small_api.median_ms if small_api else None,
        }  # fmt: skip
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
