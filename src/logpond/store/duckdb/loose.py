"""Loose rows: events whose promoted columns may not hold all of their promoted fields.

A query reads a promoted field (``level``, ``trace_id``, ``span_id``, ``tenant_id``,
``service``) from its column and, where the column is NULL, from the event's JSON document:
``fields``, or the message when ``fields`` is NULL and the message is a JSON object. Ingest
promotes every such key whose value is a string or a number, so the document rarely has
anything to add; the store counts, per day and group, the rows where it might, and a query
over none of them reads the columns alone (``SourceFacts.promoted_complete``).

The test is conservative: ``fields`` names a promoted key anywhere (or holds a ``\\u00``
escape, which could spell one), or ``fields`` is NULL and the message starts with ``{``.
It is written twice, for Arrow batches at commit and in SQL for recounts; both use RE2.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.schema import PROMOTED_COLUMNS

__all__ = ["LOOSE_SQL", "loose_mask"]

_BLANKS = " \t\n\r"
_FIELDS_REGEX = '"(?:' + "|".join(PROMOTED_COLUMNS) + ')"|\\\\u00'

# The same test over a day table's columns (the pattern holds no quote to escape).
LOOSE_SQL = (
    f"coalesce((fields IS NULL AND starts_with(ltrim(message, '{_BLANKS}'), '{{')) "
    f"OR regexp_matches(fields, '{_FIELDS_REGEX}'), false)"
)


def loose_mask(table: pa.Table) -> pa.ChunkedArray:
    """True for each row of ``table`` (with ``message`` and ``fields``) that may be loose."""
    fields, message = table.column("fields"), table.column("message")
    in_fields = pc.match_substring_regex(fields, _FIELDS_REGEX)
    json_message = pc.and_(
        pc.is_null(fields), pc.starts_with(pc.utf8_ltrim(message, characters=_BLANKS), "{")
    )
    return pc.fill_null(pc.or_kleene(in_fields, json_message), False)
