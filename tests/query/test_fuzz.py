"""Generated queries and patterns: a clean error or a result, the same on every engine.

Text never reaches SQL except as a bound parameter or a quoted literal, so quotes,
backslashes, unicode and SQL keywords in values, names and patterns change results only as
data. Engines agree with each other (and filter-pattern engines with the Arrow matcher).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from logpond.model.errors import AccessDeniedError, InvalidParameterError, MalformedQueryError
from logpond.query.execute import run_query
from logpond.query.filter_pattern import parse_filter_pattern
from logpond.query.insights.ast import render_name, render_string
from logpond.query.insights.parser import parse_query
from logpond.query.matcher import FilterPatternMatcher
from logpond.query.plan import PlanOptions
from logpond.query.sql.filter_pattern import filter_statement

from .querycases import DIALECTS, EngineTables, event_batch, event_row, events_table

NASTY = [
    "'",
    '"',
    "\\",
    "\\'",
    "'; DROP TABLE events; --",
    '" OR 1=1 --',
    "$p0",
    "{p0:String}",
    "?",
    "%",
    "_",
    "*",
    "é ü 中文 😀",
    "\u2028",
    "a\nb",
    "\t",
    "SELECT * FROM events",
    "UNION ALL SELECT 1",
    "/* comment */",
    "`backtick`",
    "NULL",
    "",
]
WORDS = ["ERROR", "timeout", "user", "42", "GET", "/api/v1", "x"]
MESSAGES = [*NASTY, "ERROR timeout for user 42", "GET /api/v1 200", "plain"]
EVENTS: list[dict[str, Any]] = [
    {
        "time": 1_700_000_000_000 + i * 1000,
        "message": message,
        "level": "error" if i % 2 else "info",
        "fields": {"k": message, "n": i, "ok": i % 3 == 0, "list": [i, message]} if i % 2 else None,
    }
    for i, message in enumerate(MESSAGES)
]
ROWS = [event_row(e) for e in EVENTS]
SUITE = "fuzz"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLEAN_ERRORS = (MalformedQueryError, InvalidParameterError, AccessDeniedError)

# Query text may not hold NUL or lone surrogates (refused up front); anything else goes.
text = st.one_of(
    st.sampled_from(NASTY),
    st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
        max_size=30,
    ),
)


@pytest.fixture(scope="module")
def fuzz_tables(engine_tables: EngineTables) -> EngineTables:
    """The fuzz events as ``fuzz.events`` on both engines."""
    engine_tables.create(SUITE, events_table(ROWS))
    return engine_tables


def _run(query: str, engine: str, tables: EngineTables) -> list[dict[str, str]]:
    result = run_query(
        query,
        dialect=engine,
        connection=tables.connection(engine),
        source=exp.to_table(f"{SUITE}.events"),
        options=PlanOptions(now_ms=1_700_000_100_000),
    )
    return result.records()


def _both(query: str, tables: EngineTables) -> list[dict[str, str]] | None:
    """The rows on DuckDB, after checking chdb returns the same; None for a clean error."""
    try:
        duck = _run(query, "duckdb", tables)
    except CLEAN_ERRORS:
        with pytest.raises(CLEAN_ERRORS):
            _run(query, "clickhouse", tables)
        return None
    assert _run(query, "clickhouse", tables) == duck
    return duck


# --- Insights -------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    ["fields", "filter", "stats", "sort", "limit", "parse", "dedup", "display", "pattern", "|",
     "(", ")", "[", "]", ",", "=", "!=", "<", ">=", "=~", "like", "not", "in", "and", "or", "as",
     "by", "asc", "desc", "count(*)", "bin(5m)", "@timestamp", "@message", "level", "k", "n",
     "`a b`", "1", "2.5", "5m", "/x/", '"s"', "'t'", "#", "\n", "*", "+", "-", "^", "%", "@",
     "unmask(k)", "abs(n)", "strlen(k)", "pct(n, 50)", "earliest(k)"]
)  # fmt: skip


@SETTINGS
@given(parts=st.lists(st.one_of(FRAGMENTS, text), min_size=1, max_size=12))
def test_random_query_text_is_an_error_or_a_result(parts: list[str], fuzz_tables: EngineTables) -> None:
    """Any text is either a clean MalformedQuery-style error or runs alike on both engines."""
    _both(" ".join(parts), fuzz_tables)


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(["k", "message", "level", "n", "@message", "nope", "list.1"]))
    value = draw(text)
    operator = draw(st.sampled_from(["=", "!=", "<", ">=", "like", "not like"]))
    return f"{render_name(field)} {operator} {render_string(value)}"


@st.composite
def queries(draw: st.DrawFn) -> str:
    commands = [f"filter {draw(comparisons())}"]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["fields", "filter", "stats", "sort", "limit", "parse"]))
        if kind == "fields":
            name = draw(text.filter(lambda t: "`" not in t and "\n" not in t))
            alias = render_name(name or "a")
            commands.append(f"fields concat(k, {render_string(draw(text))}) as {alias}, n")
        elif kind == "filter":
            commands.append(f"filter {draw(comparisons())}")
        elif kind == "stats":
            commands.append("stats count(*) as c, count_distinct(k) as d by level")
        elif kind == "sort":
            commands.append(f"sort {draw(st.sampled_from(['k', 'n', 'level', '@timestamp']))} asc")
        elif kind == "limit":
            commands.append(f"limit {draw(st.integers(1, 5))}")
        else:
            glob = draw(text).replace("*", "") + "*"
            commands.append(f"parse message {render_string(glob)} as {render_name('p')}")
    return " | ".join(commands)


@SETTINGS
@given(query=queries())
def test_generated_queries_run_alike_on_both_engines(query: str, fuzz_tables: EngineTables) -> None:
    """Valid queries with hostile literals and names run, with equal rows on both engines."""
    assert _both(query, fuzz_tables) is not None


@SETTINGS
@given(value=text)
def test_equality_and_substring_filters_treat_text_as_data(value: str, fuzz_tables: EngineTables) -> None:
    """Filtering on any text counts exactly the events whose message equals or contains it."""
    literal = render_string(value)
    equal = _both(f"filter message = {literal} | stats count(*) as n", fuzz_tables)
    contains = _both(f"filter message like {literal} | stats count(*) as n", fuzz_tables)
    assert equal == [{"n": str(sum(r["message"] == value for r in ROWS))}]
    assert contains == [{"n": str(sum(r["message"] is not None and value in r["message"] for r in ROWS))}]


@SETTINGS
@given(value=text)
def test_regex_filters_treat_text_as_data(value: str, fuzz_tables: EngineTables) -> None:
    """A regex made of escaped text finds exactly the messages that contain the text."""
    escaped = re.sub(r"([\\.+*?()|\[\]{}^$/])", r"\\\1", value)
    if "\n" in escaped:
        escaped = escaped.replace("\n", "\\n")
    rows = _both(f"filter message =~ /{escaped}/ | stats count(*) as n", fuzz_tables)
    assert rows == [{"n": str(sum(r["message"] is not None and value in r["message"] for r in ROWS))}]


def test_deeply_nested_query_is_refused_cleanly() -> None:
    """Nesting past the limit is a MalformedQueryError, not a crash."""
    for query in (
        "filter " + "(" * 500 + "a" + ")" * 500,
        "filter " + "not " * 500 + "a",
        "fields " + " + ".join(["n"] * 3000),
        "fields " + "-" * 500 + "n",
    ):
        with pytest.raises(MalformedQueryError):
            parse_query(query)


def test_longest_query_runs(fuzz_tables: EngineTables) -> None:
    """A query of the full 10,000 characters parses and runs."""
    query = "fields " + ", ".join(f"`f{i:04d}`" for i in range(1200))
    query = query[: 10_000 - len(" | limit 1")].rsplit(",", 1)[0] + " | limit 1"
    assert len(query) <= 10_000
    rows = _both(query, fuzz_tables)
    assert rows is not None
    assert len(rows) == 1


@pytest.mark.parametrize("char", ["\x00", "\ud800"])
def test_nul_or_surrogate_in_a_query_is_refused_where_it_is(char: str) -> None:
    """A NUL or lone surrogate in a query or pattern is a clean error at its position."""
    with pytest.raises(MalformedQueryError) as caught:
        parse_query(f'filter message = "a{char}b"')
    assert caught.value.column == 20
    with pytest.raises(InvalidParameterError) as refused:
        parse_filter_pattern(f"ERROR a{char}b")
    assert refused.value.details["column"] == 8


def test_query_over_10000_characters_is_refused() -> None:
    """A query over CloudWatch's 10,000-character limit is refused where the limit is passed."""
    with pytest.raises(MalformedQueryError) as caught:
        parse_query("fields a" + " " * 10_000)
    assert caught.value.offset == 10_000


# --- filter patterns --------------------------------------------------------------------------


@st.composite
def patterns(draw: st.DrawFn) -> str:
    family = draw(st.sampled_from(["terms", "json", "delimited", "text"]))
    if family == "terms":
        terms = draw(st.lists(st.one_of(st.sampled_from(WORDS), text), min_size=1, max_size=4))
        modifiers = draw(st.lists(st.sampled_from(["", "?", "-"]), min_size=len(terms), max_size=len(terms)))
        return " ".join(
            m + '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
            for m, t in zip(modifiers, terms, strict=True)
        )
    if family == "json":
        selector = draw(st.sampled_from(["$.k", "$.n", "$.ok", "$.list[1]", "$.level", "$.missing"]))
        value = draw(st.one_of(st.sampled_from(["*", "ERROR*", "*4*"]), text))
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        check = draw(
            st.sampled_from([f"= {quoted}", f"!= {quoted}", "> 3", "IS TRUE", "NOT EXISTS", "IS NULL"])
        )
        return "{ " + selector + " " + check + " }"
    if family == "delimited":
        value = draw(st.one_of(st.sampled_from(WORDS), text)).replace("\\", "\\\\").replace('"', '\\"')
        return draw(st.sampled_from(["[a, b]", "[a, ...]", "[..., b]", "[a, b, c]"])).replace(
            "a", f'a = "{value}*"', 1
        )
    return draw(text)


@SETTINGS
@given(pattern=patterns())
def test_filter_patterns_agree_on_every_engine(pattern: str, fuzz_tables: EngineTables) -> None:
    """A pattern is refused cleanly, or DuckDB, chdb and the Arrow matcher match the same events."""
    try:
        parsed = parse_filter_pattern(pattern)
    except InvalidParameterError:
        return
    arrow = FilterPatternMatcher(parsed).mask(event_batch(ROWS)).to_pylist()
    expected = [seq for seq, hit in enumerate(arrow, start=1) if hit]
    for name, dialect in DIALECTS.items():
        rendered = filter_statement(parsed, dialect, exp.to_table(f"{SUITE}.events"))
        table = dialect.run(fuzz_tables.connection(name), rendered)
        assert table.column("seq").to_pylist() == expected, name


@SETTINGS
@given(pattern=st.text(max_size=1100))
def test_any_pattern_text_is_refused_cleanly_or_parsed(pattern: str) -> None:
    """Any text is a clean InvalidParameterError or a pattern whose canonical text round-trips."""
    refused: InvalidParameterError | None = None
    try:
        parsed = parse_filter_pattern(pattern)
    except InvalidParameterError as error:
        refused = error
    if refused is not None:
        assert {"line", "column", "offset", "snippet"} <= set(refused.details)
        return
    assert parse_filter_pattern(parsed.render()) == parsed
