"""The one Arrow schema of an event batch, from decoders through the pipeline to the writer.

A decoder turns a request body into a batch with :data:`EVENT_SCHEMA`; the pipeline
normalizes, validates and redacts it; the writer adds what only it knows (the event id,
the ingestion time, the group and stream ids) as it commits.

``timestamp`` is the event time in milliseconds since the Unix epoch (UTC). ``message`` is
the event's text. The promoted columns hold the well-known fields of structured logs so
they can be filtered without parsing JSON; ``fields`` holds every other key of a structured
record as one JSON object, or null for a plain-text event.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["EVENT_SCHEMA", "PROMOTED_COLUMNS", "empty_batch"]

# Columns lifted out of structured records; the order is the column order of the schema.
PROMOTED_COLUMNS: tuple[str, ...] = ("level", "trace_id", "span_id", "tenant_id", "service")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("log_group", pa.string(), nullable=False),
        pa.field("log_stream", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("message", pa.string()),
        *(pa.field(name, pa.string()) for name in PROMOTED_COLUMNS),
        pa.field("fields", pa.string()),
    ]
)


def empty_batch() -> pa.RecordBatch:
    """A batch with no rows and the event schema."""
    return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
