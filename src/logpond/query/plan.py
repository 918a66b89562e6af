"""The engine-neutral logical plan of a Logs Insights query.

A :class:`Plan` is a pipeline of steps over the ``events`` relation: ``Compute`` adds
columns, ``Where`` keeps rows, ``Aggregate`` groups, ``Take`` limits, ``Dedup`` keeps the
first row per key, ``Cluster`` groups values into patterns. Expressions are typed
(:class:`Kind`) trees of :class:`Op` nodes named by their semantics; the SQL renderers
(:mod:`logpond.query.sql.render`) spell them per engine. Columns get generated ids
(``__c1``...), so user-given names never reach SQL.

:func:`plan_query` builds a plan from a parsed query (:mod:`.planner`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .record import is_number_text

__all__ = [
    "DEFAULT_QUERY_LIMIT",
    "MAX_QUERY_LIMIT",
    "Aggregate",
    "Cluster",
    "Compute",
    "Const",
    "Dedup",
    "Kind",
    "Op",
    "OrderKey",
    "Output",
    "PExpr",
    "Plan",
    "PlanOptions",
    "RecordField",
    "Ref",
    "Step",
    "System",
    "Take",
    "Where",
]

# Rows a query returns unless the caller asks for more; and the most it may ask for.
DEFAULT_QUERY_LIMIT = 10_000
MAX_QUERY_LIMIT = 100_000


class Kind(enum.Enum):
    """The type of a plan expression."""

    STRING = "string"  # text; discovered fields are strings that may hold numbers
    NUMBER = "number"  # double
    BOOL = "bool"
    TIME = "time"  # epoch milliseconds, shown as YYYY-MM-DD HH:MM:SS.mmm


@dataclass(frozen=True)
class Ref:
    """A column of the current relation, by generated id."""

    column: str
    kind: Kind


@dataclass(frozen=True)
class RecordField:
    """A field discovered in the event (promoted column, ``timestamp`` or JSON leaf)."""

    path: tuple[str, ...]
    kind: Kind = Kind.STRING


@dataclass(frozen=True)
class System:
    """A system field: ``@timestamp @message @logStream @log @ingestionTime @ptr``."""

    name: str
    kind: Kind


@dataclass(frozen=True)
class Const:
    """A constant: user values are bound as parameters when rendered."""

    value: str | float | int | bool | None
    kind: Kind


@dataclass(frozen=True)
class Op:
    """An operation by semantic name (``cmp``, ``add``, ``strlen``, ``agg_avg``...).

    ``args`` are operand expressions; ``extra`` holds constant settings of the operation
    (a comparison operator, a period in milliseconds, a regex and group index...).
    """

    name: str
    args: tuple[PExpr, ...]
    kind: Kind
    extra: tuple[str | int | float, ...] = ()

    @property
    def aggregate(self) -> bool:
        return self.name.startswith("agg_")


PExpr = Ref | RecordField | System | Const | Op


@dataclass(frozen=True)
class OrderKey:
    """One ORDER BY key."""

    expr: PExpr
    descending: bool


@dataclass(frozen=True)
class Compute:
    """Add columns: ``(id, expression)`` pairs evaluated per row."""

    columns: tuple[tuple[str, PExpr], ...]


@dataclass(frozen=True)
class Where:
    """Keep the rows where the predicate is true."""

    predicate: PExpr


@dataclass(frozen=True)
class Aggregate:
    """Group by the keys and compute the aggregates; the relation becomes their columns."""

    keys: tuple[tuple[str, PExpr], ...]
    aggregates: tuple[tuple[str, PExpr], ...]


@dataclass(frozen=True)
class Take:
    """The first ``count`` rows in ``order``."""

    count: int
    order: tuple[OrderKey, ...]


@dataclass(frozen=True)
class Dedup:
    """The first row in ``order`` of each combination of ``keys``; rows with a null key stay."""

    keys: tuple[str, ...]
    order: tuple[OrderKey, ...]
    rank_column: str


@dataclass(frozen=True)
class Cluster:
    """Group the text of ``source`` by its pattern (variable tokens masked as ``<*>``).

    The relation becomes ``pattern``, ``count``, ``ratio`` and ``severity`` columns.
    """

    source: PExpr
    pattern: str
    count: str
    ratio: str
    severity: str


Step = Compute | Where | Aggregate | Take | Dedup | Cluster


@dataclass(frozen=True)
class Output:
    """A result column: its name as the user sees it, and its expression."""

    name: str
    expr: PExpr


def _pinned(expr: PExpr, path: tuple[str, ...]) -> frozenset[str] | None:
    """The texts ``expr`` being true pins the field at ``path`` to, if it does."""
    if not isinstance(expr, Op):
        return None
    if expr.name == "and":
        pins = [p for p in (_pinned(arg, path) for arg in expr.args) if p is not None]
        return frozenset.intersection(*pins) if pins else None
    if expr.name == "or":
        alternatives = [_pinned(arg, path) for arg in expr.args]
        if not alternatives or any(a is None for a in alternatives):
            return None
        return frozenset().union(*(a for a in alternatives if a is not None))
    if expr.name == "cmp" and expr.extra == ("=",):
        for field_side, value in (expr.args, expr.args[::-1]):
            if (
                isinstance(field_side, RecordField)
                and field_side.path == path
                and isinstance(value, Const)
                and isinstance(value.value, str)
                and not is_number_text(value.value)
            ):
                return frozenset({value.value})
    return None


@dataclass(frozen=True)
class PlanOptions:
    """What the caller decides about a query: row cap, identity and permissions."""

    limit: int = DEFAULT_QUERY_LIMIT
    account_id: str = "000000000000"
    allow_unmask: bool = False
    now_ms: int = 0  # the value of now(); the executor fills in the start time


@dataclass(frozen=True)
class Plan:
    """A query ready to render: steps, outputs, final order and row cap."""

    steps: tuple[Step, ...]
    outputs: tuple[Output, ...]
    order: tuple[OrderKey, ...]
    limit: int | None  # None: every row (exports only; queries are capped by the planner)
    aggregated: bool  # rows are groups (stats or pattern): no @ptr
    matched_after: int  # the steps before this index decide which events "matched"
    uses_record_fields: bool
    options: PlanOptions = field(default_factory=PlanOptions)

    @property
    def fields(self) -> list[str]:
        """The result column names, in order."""
        return [output.name for output in self.outputs]

    def required_texts(self, path: tuple[str, ...]) -> frozenset[str] | None:
        """The texts a field must equal for an event to match, when the filters say so.

        From the filters before any ``limit``, ``stats``, ``dedup`` or ``pattern``: a
        conjunct ``field = "text"`` or ``field in ["a", "b"]`` (text that is not a number,
        which would also match as a number). None when the filters do not pin the field.
        """
        found: frozenset[str] | None = None
        for step in self.steps[: self.matched_after]:
            if isinstance(step, Where):
                texts = _pinned(step.predicate, path)
                if texts is not None:
                    found = texts if found is None else found & texts
        return found

    def system_fields(self) -> frozenset[str]:
        """The system fields (``@logStream``, ``@ptr``...) any step or output reads."""
        found: set[str] = set()
        pending: list[PExpr] = [output.expr for output in self.outputs]
        pending += [key.expr for key in self.order]
        for step in self.steps:
            if isinstance(step, Compute):
                pending += [expr for _, expr in step.columns]
            elif isinstance(step, Where):
                pending.append(step.predicate)
            elif isinstance(step, Aggregate):
                pending += [expr for _, expr in step.keys + step.aggregates]
            elif isinstance(step, Take | Dedup):
                pending += [key.expr for key in step.order]
            else:
                pending.append(step.source)
        while pending:
            expr = pending.pop()
            if isinstance(expr, System):
                found.add(expr.name)
            elif isinstance(expr, Op):
                pending.extend(expr.args)
        return frozenset(found)
