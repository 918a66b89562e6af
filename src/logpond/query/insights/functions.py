"""The functions of Logs Insights: canonical spelling, kind and number of arguments.

Names are matched without regard to case and written back in their canonical spelling.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["FUNCTIONS", "UNSUPPORTED_FUNCTIONS", "Function", "lookup", "suggest"]


@dataclass(frozen=True)
class Function:
    """A function: aggregate or scalar, and how many arguments it takes."""

    name: str
    aggregate: bool
    min_args: int
    max_args: int | None  # None: any number


def _f(name: str, low: int, high: int | None, aggregate: bool = False) -> Function:
    return Function(name, aggregate, low, high)


FUNCTIONS: dict[str, Function] = {
    f.name.lower(): f
    for f in (
        # numeric
        _f("abs", 1, 1), _f("ceil", 1, 1), _f("floor", 1, 1), _f("greatest", 1, None),
        _f("least", 1, None), _f("log", 1, 1), _f("sqrt", 1, 1),
        # general
        _f("ispresent", 1, 1), _f("coalesce", 1, None), _f("unmask", 1, 1),
        # string
        _f("isempty", 1, 1), _f("isblank", 1, 1), _f("concat", 1, None), _f("ltrim", 1, 2),
        _f("rtrim", 1, 2), _f("trim", 1, 2), _f("strlen", 1, 1), _f("toupper", 1, 1),
        _f("tolower", 1, 1), _f("substr", 2, 3), _f("replace", 3, 3), _f("strcontains", 2, 2),
        # datetime
        _f("bin", 1, 1), _f("datefloor", 2, 2), _f("dateceil", 2, 2), _f("fromMillis", 1, 1),
        _f("toMillis", 1, 1), _f("now", 0, 0),
        # IP addresses
        _f("isValidIp", 1, 1), _f("isValidIpV4", 1, 1), _f("isValidIpV6", 1, 1),
        _f("isIpInSubnet", 2, 2), _f("isIpv4InSubnet", 2, 2), _f("isIpv6InSubnet", 2, 2),
        # aggregates
        _f("avg", 1, 1, True), _f("count", 0, 1, True), _f("count_distinct", 1, 1, True),
        _f("max", 1, 1, True), _f("min", 1, 1, True), _f("pct", 2, 2, True),
        _f("percentile", 2, 2, True), _f("stddev", 1, 1, True), _f("sum", 1, 1, True),
        _f("earliest", 1, 1, True), _f("latest", 1, 1, True), _f("sortsFirst", 1, 1, True),
        _f("sortsLast", 1, 1, True),
    )
}  # fmt: skip

# Functions of newer CloudWatch releases that logpond does not run yet.
UNSUPPORTED_FUNCTIONS = frozenset(
    {"jsonparse", "jsonstringify", "rate", "count_over_time", "sum_over_time", "histogram"}
)


def lookup(name: str) -> Function | None:
    """The function called ``name`` (any case), or None."""
    return FUNCTIONS.get(name.lower())


def suggest(name: str) -> str | None:
    """The closest known function name, for "did you mean" in errors."""
    close = difflib.get_close_matches(name.lower(), list(FUNCTIONS), n=1, cutoff=0.75)
    return FUNCTIONS[close[0]].name if close else None
