"""Parsed Logs Insights query -> :class:`~logpond.query.plan.Plan`.

Names are resolved command by command, in pipeline order: a name defined by ``fields``,
``parse`` or ``stats`` refers to that column from then on; any other name is a system
field or a field discovered in the event, until ``stats`` or ``pattern`` replaces the rows
by groups. Semantic errors (unknown arity, aggregates outside ``stats``, a bad period)
are ``MalformedQueryError`` pointing at the offending text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from logpond.model.errors import AccessDeniedError, MalformedQueryError

from ._source import malformed
from .insights import ast
from .insights.functions import lookup
from .insights.parser import count_groups, named_groups, parse_query
from .plan import (
    MAX_QUERY_LIMIT,
    Aggregate,
    Cluster,
    Compute,
    Const,
    Dedup,
    Kind,
    Op,
    OrderKey,
    Output,
    PExpr,
    Plan,
    PlanOptions,
    RecordField,
    Ref,
    Step,
    System,
    Take,
    Where,
)

__all__ = ["PERIOD_MS", "plan_query"]

_SYSTEM_KINDS = {
    "@timestamp": Kind.TIME,
    "@ingestionTime": Kind.TIME,
    "@message": Kind.STRING,
    "@logStream": Kind.STRING,
    "@log": Kind.STRING,
    "@ptr": Kind.STRING,
}

# Fixed-length periods in milliseconds; months, quarters and years follow the calendar.
PERIOD_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_MONTHS = {"mo": 1, "q": 3, "y": 12}

_NUMERIC_FUNCTIONS = {"abs", "ceil", "floor", "log", "sqrt"}
_STRING_FUNCTIONS = {"toupper", "tolower"}


def plan_query(query: ast.Query | str, options: PlanOptions | None = None) -> Plan:
    """The plan of a query (text or parsed); raises ``MalformedQueryError`` on bad semantics."""
    parsed = parse_query(query) if isinstance(query, str) else query
    return _Planner(parsed, options or PlanOptions()).plan()


@dataclass
class _Scope:
    columns: dict[str, Ref] = field(default_factory=dict)
    record: bool = True  # rows are events (not groups)


class _Planner:
    def __init__(self, query: ast.Query, options: PlanOptions) -> None:
        self.query = query
        self.text = query.text
        self.options = options
        self.scope = _Scope()
        self.steps: list[Step] = []
        self.ids: Iterator[int] = iter(range(1, 1_000_000))
        self.order: tuple[OrderKey, ...] | None = None
        self.group_order: tuple[OrderKey, ...] = ()  # the group keys, ties' last resort
        self.field_outputs: list[str] = []
        self.display: tuple[ast.Field, ...] | None = None
        self.aggregated = False
        self.matched_after: int | None = None
        self.uses_record = False
        self.in_stats = False
        self.in_aggregate = False

    # helpers ---------------------------------------------------------------------------------

    def error(self, message: str, node: object) -> MalformedQueryError:
        span = getattr(node, "span", (0, 0))
        return malformed(message, self.text, span[0], span[1])

    def new_id(self) -> str:
        return f"__c{next(self.ids)}"

    def compute(self, expr: PExpr) -> Ref:
        """A column holding ``expr`` (an existing column is reused)."""
        if isinstance(expr, Ref):
            return expr
        column = self.new_id()
        self.steps.append(Compute(((column, expr),)))
        return Ref(column, expr.kind)

    def mark_matched(self) -> None:
        if self.matched_after is None:
            self.matched_after = len(self.steps)

    def default_order(self) -> tuple[OrderKey, ...]:
        if self.scope.record:
            return (
                OrderKey(System("@timestamp", Kind.TIME), True),
                OrderKey(System("@seq", Kind.NUMBER), True),
            )
        return self.group_order

    def current_order(self) -> tuple[OrderKey, ...]:
        return self.order if self.order is not None else self.default_order()

    def tiebreak(self, keys: tuple[OrderKey, ...]) -> tuple[OrderKey, ...]:
        """``keys`` followed by the default order, so that equal keys come out the same way."""
        return keys + tuple(k for k in self.default_order() if k not in keys)

    # the pipeline ----------------------------------------------------------------------------

    def plan(self) -> Plan:
        for command in self.query.commands:
            if isinstance(command, ast.Fields):
                self.fields(command)
            elif isinstance(command, ast.Display):
                self.display = command.items
            elif isinstance(command, ast.Filter):
                self.steps.append(Where(self.predicate(command.expr)))
            elif isinstance(command, ast.Stats):
                self.stats(command)
            elif isinstance(command, ast.Sort):
                self.sort(command)
            elif isinstance(command, ast.Limit):
                self.mark_matched()
                self.steps.append(Take(command.count, self.current_order()))
            elif isinstance(command, ast.Parse):
                self.parse(command)
            elif isinstance(command, ast.Dedup):
                self.dedup(command)
            else:
                self.pattern(command)
        self.mark_matched()
        outputs = self.outputs()
        order = self.current_order()
        limit = max(1, min(self.options.limit, MAX_QUERY_LIMIT))
        assert self.matched_after is not None
        return Plan(
            steps=tuple(self.steps),
            outputs=tuple(outputs),
            order=order,
            limit=limit,
            aggregated=self.aggregated,
            matched_after=self.matched_after,
            uses_record_fields=self.uses_record,
            options=self.options,
        )

    def outputs(self) -> list[Output]:
        if self.display is not None:
            names = [f.name for f in self.display]
        elif self.field_outputs:
            names = list(self.field_outputs)
        else:
            names = ["@timestamp", "@message"]
        outputs = []
        seen: set[str] = set()
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            outputs.append(Output(name, self.resolve(name)))
        if self.scope.record and "@ptr" not in seen:
            outputs.append(Output("@ptr", System("@ptr", Kind.STRING)))
        return outputs

    def fields(self, command: ast.Fields) -> None:
        columns: list[tuple[str, PExpr]] = []
        for item in command.items:
            expr = self.expr(item.expr)
            name = item.name
            if isinstance(expr, Ref | System) or (isinstance(expr, RecordField) and item.alias is None):
                # A plain field: no column needed unless it is renamed.
                if item.alias is not None:
                    column = self.new_id()
                    columns.append((column, expr))
                    self.scope.columns[name] = Ref(column, expr.kind)
            else:
                column = self.new_id()
                columns.append((column, expr))
                self.scope.columns[name] = Ref(column, expr.kind)
            if name not in self.field_outputs:
                self.field_outputs.append(name)
        if columns:
            self.steps.append(Compute(tuple(columns)))

    def sort(self, command: ast.Sort) -> None:
        keys = []
        for key in command.keys:
            expr = self.expr(key.expr)
            if not isinstance(expr, Ref | System):
                expr = self.compute(expr)
            keys.append(OrderKey(expr, key.descending is not False))
        self.order = self.tiebreak(tuple(keys))

    def dedup(self, command: ast.Dedup) -> None:
        self.mark_matched()
        keys = tuple(self.compute(self.expr(item)).column for item in command.items)
        self.steps.append(Dedup(keys, self.current_order(), self.new_id()))

    def parse(self, command: ast.Parse) -> None:
        source = self.text_of(self.expr(command.source))
        if isinstance(command.pattern, ast.String):
            regex = glob_regex(command.pattern.value)
            groups = [(i + 1, name) for i, name in enumerate(command.names)]
        else:
            regex, groups = named_groups(command.pattern.pattern)
        count = count_groups(regex)
        columns = []
        for index, name in groups:
            column = self.new_id()
            columns.append((column, Op("regex_group", (source,), Kind.STRING, (regex, index, count))))
            self.scope.columns[name] = Ref(column, Kind.STRING)
        self.steps.append(Compute(tuple(columns)))

    def pattern(self, command: ast.PatternCommand) -> None:
        self.mark_matched()
        source = self.text_of(self.expr(command.source))
        ids = [self.new_id() for _ in range(4)]
        self.steps.append(Cluster(source, *ids))
        self.scope = _Scope(
            {
                "@pattern": Ref(ids[0], Kind.STRING),
                "@sampleCount": Ref(ids[1], Kind.NUMBER),
                "@ratio": Ref(ids[2], Kind.NUMBER),
                "@severityLabel": Ref(ids[3], Kind.STRING),
            },
            record=False,
        )
        self.aggregated = True
        self.field_outputs = ["@pattern", "@ratio", "@sampleCount", "@severityLabel"]
        self.display = None
        self.group_order = (OrderKey(self.scope.columns["@pattern"], False),)
        self.order = (OrderKey(self.scope.columns["@sampleCount"], True), *self.group_order)

    def stats(self, command: ast.Stats) -> None:
        self.mark_matched()
        keys = []
        for item in command.by:
            expr = self.expr(item.expr)
            keys.append((item.name, self.new_id(), expr))
        aggregates = []
        self.in_stats = True
        try:
            for item in command.aggregates:
                expr = self.expr(item.expr)
                if not _has_aggregate(expr):
                    raise self.error("stats needs an aggregate function such as count(*)", item)
                aggregates.append((item.name, self.new_id(), expr))
        finally:
            self.in_stats = False
        self.steps.append(
            Aggregate(
                tuple((column, expr) for _, column, expr in keys),
                tuple((column, expr) for _, column, expr in aggregates),
            )
        )
        columns = {name: Ref(column, expr.kind) for name, column, expr in keys + aggregates}
        self.scope = _Scope(columns, record=False)
        self.aggregated = True
        self.field_outputs = [name for name, _, _ in keys + aggregates]
        self.display = None
        self.group_order = tuple(OrderKey(columns[name], expr.kind is Kind.TIME) for name, _, expr in keys)
        self.order = None

    # expressions ------------------------------------------------------------------------------

    def resolve(self, name: str) -> PExpr:
        """What a field name means at this point of the pipeline."""
        if name in self.scope.columns:
            return self.scope.columns[name]
        if not self.scope.record:
            return Const(None, Kind.STRING)
        if name in _SYSTEM_KINDS:
            return System(name, _SYSTEM_KINDS[name])
        if name.startswith("@@"):
            name = name[1:]
        elif name.startswith("@"):
            return Const(None, Kind.STRING)
        self.uses_record = True
        return RecordField(tuple(name.split(".")))

    def predicate(self, node: ast.Expr) -> PExpr:
        return truthy(self.expr(node))

    def text_of(self, expr: PExpr) -> PExpr:
        return expr if expr.kind is Kind.STRING else Op("text", (expr,), Kind.STRING)

    def expr(self, node: ast.Expr) -> PExpr:
        if isinstance(node, ast.Field):
            return self.resolve(node.name)
        if isinstance(node, ast.String):
            return Const(node.value, Kind.STRING)
        if isinstance(node, ast.Number):
            return Const(node.value, Kind.NUMBER)
        if isinstance(node, ast.Duration | ast.Regex | ast.ListLiteral | ast.Star):
            raise self.error(f"{node.render()} cannot be used here", node)
        if isinstance(node, ast.Unary):
            operand = self.expr(node.operand)
            if node.op == "not":
                return Op("not", (truthy(operand),), Kind.BOOL)
            return Op("neg", (operand,), Kind.NUMBER)
        if isinstance(node, ast.Binary):
            return self.binary(node)
        if isinstance(node, ast.Like):
            operand = self.text_of(self.expr(node.operand))
            if isinstance(node.pattern, ast.Regex):
                test = Op("regex", (operand,), Kind.BOOL, (node.pattern.pattern,))
            else:
                test = Op("contains", (operand, Const(node.pattern.value, Kind.STRING)), Kind.BOOL)
            if not node.negated:
                return test
            # like its positive form, "not like" needs the field: missing fields never pass
            return Op(
                "and",
                (Op("present", (operand,), Kind.BOOL), Op("not", (test,), Kind.BOOL)),
                Kind.BOOL,
            )
        if isinstance(node, ast.InList):
            operand = self.expr(node.operand)
            values = [self.literal(item) for item in node.values.items]
            tests = tuple(Op("cmp", (operand, value), Kind.BOOL, ("=",)) for value in values)
            found: PExpr = Op("or", tests, Kind.BOOL) if tests else Const(False, Kind.BOOL)
            if not node.negated:
                return found
            present = Op("present", (operand,), Kind.BOOL)
            return Op("and", (present, Op("not", (found,), Kind.BOOL)), Kind.BOOL)
        return self.call(node)

    def literal(self, node: ast.Expr) -> Const:
        if isinstance(node, ast.String):
            return Const(node.value, Kind.STRING)
        if isinstance(node, ast.Number):
            return Const(node.value, Kind.NUMBER)
        raise self.error("a list may hold only strings and numbers", node)

    def binary(self, node: ast.Binary) -> PExpr:
        left = self.expr(node.left)
        right = self.expr(node.right)
        if node.op in ("and", "or"):
            return Op(node.op, (truthy(left), truthy(right)), Kind.BOOL)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return Op("cmp", (left, right), Kind.BOOL, (node.op,))
        name = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "^": "pow"}[node.op]
        return Op(name, (left, right), Kind.NUMBER)

    def period(self, node: ast.Expr) -> tuple[str, int]:
        """A period argument: ("ms", milliseconds) or ("mo", months)."""
        if not isinstance(node, ast.Duration):
            raise self.error("expected a time period such as 5m or 1h", node)
        if node.unit in _MONTHS:
            return "mo", node.count * _MONTHS[node.unit]
        return "ms", node.count * PERIOD_MS[node.unit]

    def timestamp(self, node: ast.Call) -> PExpr:
        if not self.scope.record:
            raise self.error(f"{node.name}() needs @timestamp, which stats has grouped away", node)
        return System("@timestamp", Kind.TIME)

    def call(self, node: ast.Call) -> PExpr:
        function = lookup(node.name)
        assert function is not None  # the parser only builds calls of known functions
        count = len(node.args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            expected = (
                f"{function.min_args}"
                if function.min_args == function.max_args
                else f"{function.min_args} to {function.max_args or 'any number of'}"
            )
            raise self.error(f"{node.name}() takes {expected} arguments, not {count}", node)
        if function.aggregate:
            return self.aggregate(node)
        if any(isinstance(a, ast.Star) for a in node.args):
            raise self.error(f"{node.name}(*) is not allowed; only count(*)", node)
        name = node.name
        if name == "bin":
            unit, size = self.period(node.args[0])
            return Op("floor_time", (self.timestamp(node),), Kind.TIME, (unit, size))
        if name in ("datefloor", "dateceil"):
            unit, size = self.period(node.args[1])
            value = self.expr(node.args[0])
            operation = "floor_time" if name == "datefloor" else "ceil_time"
            return Op(operation, (as_time(value),), Kind.TIME, (unit, size))
        if name == "now":
            return Const(self.options.now_ms, Kind.TIME)
        if name == "unmask":
            if not self.options.allow_unmask:
                raise AccessDeniedError("unmask() needs the logs:Unmask permission")
            return self.expr(node.args[0])
        if name in ("isIpInSubnet", "isIpv4InSubnet", "isIpv6InSubnet"):
            return self.subnet(node)
        args = tuple(self.expr(arg) for arg in node.args)
        if name in _NUMERIC_FUNCTIONS or name in ("greatest", "least"):
            return Op(name, args, Kind.NUMBER)
        if name == "fromMillis":
            return Op("from_millis", args, Kind.TIME)
        if name == "toMillis":
            return Op("to_millis", args, Kind.NUMBER)
        if name == "ispresent":
            return Op("present", args, Kind.BOOL)
        if name == "coalesce":
            kinds = {a.kind for a in args}
            kind = kinds.pop() if len(kinds) == 1 else Kind.STRING
            converted = args if kind is not Kind.STRING else tuple(self.text_of(a) for a in args)
            return Op("coalesce", converted, kind)
        if name in ("isempty", "isblank", "strcontains", "isValidIp", "isValidIpV4", "isValidIpV6"):
            return Op(name, tuple(self.text_of(a) for a in args), Kind.BOOL)
        if name == "strlen":
            return Op("strlen", (self.text_of(args[0]),), Kind.NUMBER)
        if name in _STRING_FUNCTIONS or name in ("concat", "ltrim", "rtrim", "trim", "replace"):
            return Op(name, tuple(self.text_of(a) for a in args), Kind.STRING)
        if name == "substr":
            return Op("substr", (self.text_of(args[0]), *args[1:]), Kind.STRING)
        raise self.error(f"{node.name}() cannot be used here", node)  # pragma: no cover

    def subnet(self, node: ast.Call) -> PExpr:
        cidr_node = node.args[1]
        if not isinstance(cidr_node, ast.String):
            raise self.error('the subnet must be a string such as "10.0.0.0/8"', cidr_node)
        try:
            network = ipaddress.ip_network(cidr_node.value, strict=False)
        except ValueError:
            raise self.error(f"invalid subnet {cidr_node.value!r}", cidr_node) from None
        if node.name == "isIpv4InSubnet" and network.version != 4:
            raise self.error("isIpv4InSubnet() needs an IPv4 subnet", cidr_node)
        if node.name == "isIpv6InSubnet" and network.version != 6:
            raise self.error("isIpv6InSubnet() needs an IPv6 subnet", cidr_node)
        # The address is read many times by the test: give it a column of its own.
        address = self.compute(self.text_of(self.expr(node.args[0])))
        return Op(
            f"ipv{network.version}_in_subnet",
            (address,),
            Kind.BOOL,
            (int(network.network_address), network.prefixlen),
        )

    def aggregate(self, node: ast.Call) -> PExpr:
        if not self.in_stats:
            raise self.error(f"{node.name}() is an aggregate function; use it in stats", node)
        if self.in_aggregate:
            raise self.error("aggregate functions cannot be nested", node)
        self.in_aggregate = True
        try:
            return self._aggregate(node)
        finally:
            self.in_aggregate = False

    def _aggregate(self, node: ast.Call) -> PExpr:
        name = node.name
        args = node.args
        if name == "count":
            if not args or isinstance(args[0], ast.Star):
                return Op("agg_count_star", (), Kind.NUMBER)
            return Op("agg_count", (self.expr(args[0]),), Kind.NUMBER)
        if any(isinstance(a, ast.Star) for a in args):
            raise self.error(f"{name}(*) is not allowed; only count(*)", node)
        value = self.expr(args[0])
        if name == "count_distinct":
            return Op("agg_count_distinct", (self.text_of(value),), Kind.NUMBER)
        if name in ("avg", "sum", "stddev"):
            return Op(f"agg_{name}", (value,), Kind.NUMBER)
        if name in ("min", "max", "sortsFirst", "sortsLast"):
            which = "min" if name in ("min", "sortsFirst") else "max"
            return Op(f"agg_{which}", (value,), value.kind)
        if name in ("pct", "percentile"):
            level = args[1]
            if not isinstance(level, ast.Number) or not 0 <= level.value <= 100:
                raise self.error("the percentile must be a number from 0 to 100", level)
            kind = Kind.TIME if value.kind is Kind.TIME else Kind.NUMBER
            return Op("agg_pct", (value,), kind, (level.value / 100,))
        if name in ("earliest", "latest"):
            if not self.scope.record:
                raise self.error(f"{name}() needs @timestamp, which an earlier stats grouped away", node)
            return Op(f"agg_{name}", (value,), value.kind)
        raise self.error(f"{name}() cannot be used here", node)  # pragma: no cover


def truthy(expr: PExpr) -> PExpr:
    """``expr`` as a condition: booleans as they are, other values when present and non-zero."""
    if expr.kind is Kind.BOOL:
        return expr
    return Op("truthy", (expr,), Kind.BOOL)


def as_time(expr: PExpr) -> PExpr:
    """A time value: times as they are, numbers as epoch milliseconds."""
    return expr if expr.kind is Kind.TIME else Op("from_millis", (expr,), Kind.TIME)


def _has_aggregate(expr: PExpr) -> bool:
    if isinstance(expr, Op):
        return expr.aggregate or any(_has_aggregate(a) for a in expr.args)
    return False


# regexes of parse --------------------------------------------------------------------------

_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def glob_regex(glob: str) -> str:
    """The regex of a parse glob: literal text, ``*`` a lazy capture, a trailing ``*`` greedy."""
    parts = glob.split("*")
    out = []
    for index, part in enumerate(parts):
        out.append(_RE2_SPECIAL.sub(r"\\\1", part))
        if index < len(parts) - 1:
            out.append("(.*)" if index == len(parts) - 2 and parts[-1] == "" else "(.*?)")
    return "(?s)" + "".join(out)
