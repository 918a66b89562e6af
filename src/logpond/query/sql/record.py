"""The event record in SQL: ``@message``, system fields and JSON members over ``events``.

The rules are those of :mod:`logpond.query.record`; this module writes them with a
dialect's primitives. Column names are those of the ``events`` relation.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from logpond.model.schema import PROMOTED_COLUMNS

from .base import JSON_SCALARS, JsonKind, RenderContext, col, lit

__all__ = ["RecordSQL"]

_BLANKS = " \t\n\r"
# Members of a rebuilt record that come from columns, in @message order.
_HEAD = ("timestamp", *PROMOTED_COLUMNS, "message")
# Characters that change in a JSON string, or that delimit members in a rebuilt record.
_UNSPLITTABLE = frozenset('"\\{}\u2028\u2029') | frozenset(map(chr, range(0x20)))
_ISO_CHARACTERS = frozenset("0123456789-T:.Z")
# The text after the backslash of each escape ``record.json_string`` writes.
_ESCAPE_TAILS = {
    chr(code): {"\b": "b", "\t": "t", "\n": "n", "\f": "f", "\r": "r"}.get(chr(code), f"u{code:04X}")
    for code in range(0x20)
} | {"\u2028": "u2028", "\u2029": "u2029"}


def _is_null(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value, expression=exp.null())


def _not_null(value: exp.Expr) -> exp.Expr:
    return exp.Not(this=_is_null(value))


def _case(condition: exp.Expr, then: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=otherwise)


class RecordSQL:
    """Record expressions for one statement; ``doc`` names a precomputed document column."""

    def __init__(
        self,
        ctx: RenderContext,
        doc: exp.Expr | None = None,
        message_doc: exp.Expr | None = None,
    ) -> None:
        self.ctx = ctx
        self.dialect = ctx.dialect
        self._doc = doc
        self._message_doc = message_doc

    # documents ------------------------------------------------------------------------------

    def message_doc(self) -> exp.Expr:
        """``message`` when it is a JSON object, else NULL."""
        if self._message_doc is not None:
            return self._message_doc.copy()
        return self.dialect.json_object_text(col("message"))

    def document(self) -> exp.Expr:
        """The JSON object fields are read from: ``fields``, else a JSON ``message``."""
        if self._doc is not None:
            return self._doc.copy()
        return exp.func("coalesce", col("fields"), self.message_doc())

    def is_object(self) -> exp.Expr:
        """Whether the event's ``@message`` is a JSON object."""
        return _not_null(self.document())

    # @message ---------------------------------------------------------------------------------

    def at_message(self, *, many: bool = True) -> exp.Expr:
        """``@message``: the message, or the record rebuilt as JSON when it has fields.

        The members from columns are quoted without escaping U+2028 and U+2029, which are
        then escaped once over all of them (``fields`` is kept as stored). ``many`` False
        writes it shorter and slower, for the few rows of a result.
        """
        d = self.dialect
        parts: list[exp.Expr] = [
            lit('{"timestamp":"'),
            d.iso_timestamp(col("ts")),
            lit('"'),
        ]
        for name in (*PROMOTED_COLUMNS, "message"):
            member = d.concat(lit(f',"{name}":'), d.json_quote(col(name), separators=False))
            parts.append(exp.func("coalesce", member, lit("")))
        head = d.escape_separators(d.concat(*parts), many=many)
        # The rebuilt text is NULL exactly when fields is. Not a CASE: DuckDB computes the
        # repeated parts of an expression once, but not inside the branches of a CASE.
        tail = self.fields_tail(many=many)
        return exp.func("coalesce", d.concat(head, tail), col("message"))

    def fields_tail(self, *, many: bool = True) -> exp.Expr:
        """What follows the columns in a rebuilt @message: ``,`` and the members of
        ``fields`` (its text between the braces, blanks around trimmed), then ``}``.

        ``fields`` as ingest writes it (``{"...}``, no blanks) needs no trimming, which
        costs more than the rest of the rebuild: it only loses its ``{``. For a few rows
        (not ``many``) every text is trimmed, in a shorter statement.
        """
        d = self.dialect
        fields = col("fields")
        tight: list[exp.Expr] = [d.starts_with(fields, "{"), d.ends_with(fields.copy(), "}")]
        for blank in _BLANKS:
            tight.append(exp.Not(this=d.starts_with(fields.copy(), "{" + blank)))
            tight.append(exp.Not(this=d.ends_with(fields.copy(), blank + "}")))
        cut = _case(
            exp.EQ(this=fields.copy(), expression=lit("{}")),
            lit("}"),
            d.concat(lit(","), d.substring(fields.copy(), lit(2), None)),
        )
        trimmed = d.trim(fields.copy(), lit(_BLANKS), "both")
        inner = d.trim(
            d.substring(
                trimmed,
                lit(2),
                exp.Sub(this=d.length(trimmed.copy()), expression=lit(2)),
            ),
            lit(_BLANKS),
            "both",
        )
        loose = _case(
            exp.EQ(this=inner, expression=lit("")),
            lit("}"),
            d.concat(lit(","), inner.copy(), lit("}")),
        )
        return _case(exp.and_(*tight), cut, loose) if many else loose

    def message_contains(self, needle: str) -> exp.Expr | None:
        """Whether ``@message`` contains ``needle``, without rebuilding it; None if not exact.

        A rebuilt ``@message`` is ``{"timestamp":"<iso>"``, then ``,"<name>":<quoted value>``
        for each column that is not NULL, then ``,`` and the members of ``fields`` as stored,
        then ``}``. A needle with no quote, backslash, brace or control character, and no
        blank at either end, lies inside one piece of it: the ISO time, a member name, a
        column's quoted value, or the text of ``fields``. In a quoted value it is found in the
        column itself, except where it starts inside an escape sequence (``n`` after the
        backslash of ``\\n``): those cases are tested as the escaped character (followed by
        the rest of the needle). Single ``,`` and ``:`` are member separators: not handled.
        """
        if (
            not needle
            or needle in (",", ":")
            or any(char in _UNSPLITTABLE for char in needle)
            or needle[0] == " "
            or needle[-1] == " "
        ):
            return None
        d = self.dialect
        bound: dict[str, exp.Expr] = {}

        def has(column: exp.Expr, text: str) -> exp.Expr:
            if text not in bound:
                bound[text] = self.ctx.value(text)
            return d.contains(column, bound[text].copy())

        columns = (*PROMOTED_COLUMNS, "message")
        parts: list[exp.Expr] = [has(col("fields"), needle)]
        parts.extend(has(col(name), needle) for name in PROMOTED_COLUMNS)
        for char, tail in _ESCAPE_TAILS.items():
            # Inside the escape of ``char``, or starting in it and going on after it.
            if needle in tail:
                parts.extend(has(col(name), char) for name in columns)
            for size in range(1, min(len(tail), len(needle) - 1) + 1):
                if tail.endswith(needle[:size]):
                    parts.extend(has(col(name), char + needle[size:]) for name in columns)
        if all(char in _ISO_CHARACTERS for char in needle):
            parts.append(has(d.iso_timestamp(col("ts")), needle))
        for name in _HEAD:
            if needle in name:
                parts.append(exp.true() if name == "timestamp" else _not_null(col(name)))
        structured = exp.and_(_not_null(col("fields")), exp.Paren(this=exp.or_(*parts)))
        return exp.or_(has(col("message"), needle), structured)

    # system fields ----------------------------------------------------------------------------

    def ptr(self) -> exp.Expr:
        """``@ptr``: ``record.encode_ptr(group_name, seq)``."""
        d = self.dialect
        return d.base64url(d.concat(col("group_name"), lit(":"), d.to_text(col("seq"))))

    def log(self, account_id: str) -> exp.Expr:
        """``@log``: ``<account-id>:<group>``."""
        return self.dialect.concat(self.ctx.value(account_id + ":"), col("group_name"))

    # filter-pattern members -----------------------------------------------------------------

    def _head(self, path: Sequence[str | int]) -> str | None:
        first = path[0]
        return first if isinstance(first, str) and first in _HEAD else None

    def member_kind_in(self, path: Sequence[str | int], kinds: Sequence[JsonKind]) -> exp.Expr:
        """Whether the record member at ``path`` is one of ``kinds`` (record is an object)."""
        d, ctx = self.dialect, self.ctx
        unstructured = d.json_kind_in(ctx, self.message_doc(), path, kinds)
        from_fields = d.json_kind_in(ctx, col("fields"), path, kinds)
        head = self._head(path)
        if head is None:
            structured = from_fields
        else:
            column_kind = "string" if len(path) == 1 else "missing"
            constant = lit(column_kind in kinds)
            if head == "timestamp":
                structured = constant
            else:
                structured = _case(_not_null(col(head)), constant, from_fields)
        return _case(_not_null(col("fields")), structured, unstructured)

    def member_text(self, path: Sequence[str | int]) -> exp.Expr:
        """The text of the scalar record member at ``path`` (NULL otherwise)."""
        d, ctx = self.dialect, self.ctx
        unstructured = d.json_text(ctx, self.message_doc(), path)
        from_fields = d.json_text(ctx, col("fields"), path)
        head = self._head(path)
        if head is None:
            structured = from_fields
        else:
            value = (
                (d.iso_timestamp(col("ts")) if head == "timestamp" else col(head))
                if len(path) == 1
                else exp.null()
            )
            structured = value if head == "timestamp" else _case(_not_null(col(head)), value, from_fields)
        return _case(_not_null(col("fields")), structured, unstructured)

    def member_number(self, path: Sequence[str | int]) -> exp.Expr:
        """The record member at ``path`` as DOUBLE when it is a JSON number (NULL otherwise)."""
        d, ctx = self.dialect, self.ctx
        unstructured = d.json_number(ctx, self.message_doc(), path)
        from_fields = d.json_number(ctx, col("fields"), path)
        head = self._head(path)
        if head is None:
            structured = from_fields
        elif head == "timestamp":
            structured = exp.null()
        else:
            structured = _case(_not_null(col(head)), exp.null(), from_fields)
        return _case(_not_null(col("fields")), structured, unstructured)

    def member_scalar(self, path: Sequence[str | int]) -> exp.Expr:
        """Whether the record member at ``path`` is a string, number or boolean."""
        return self.member_kind_in(path, JSON_SCALARS)

    # Insights fields ---------------------------------------------------------------------------

    def field_text(self, path: Sequence[str]) -> exp.Expr:
        """A discovered field's text: promoted columns, ``timestamp``, else a JSON leaf."""
        d, ctx = self.dialect, self.ctx
        first = path[0]
        if len(path) == 1 and first == "message":
            return col("message")
        if len(path) == 1 and first in PROMOTED_COLUMNS:
            if ctx.facts.promoted_complete:
                return col(first)
            return exp.func("coalesce", col(first), d.json_text(ctx, self.document(), path))
        if len(path) == 1 and first == "timestamp":
            return _case(
                _not_null(col("fields")),
                d.iso_timestamp(col("ts")),
                d.json_text(ctx, self.message_doc(), path),
            )
        return d.json_text(ctx, self.document(), path)
