"""Every limit logpond enforces, each a named constant with what it bounds."""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

# Names (CloudWatch Logs rules).
MAX_GROUP_NAME_CHARS = 512
MAX_STREAM_NAME_CHARS = 512

# One event's message, in UTF-8 bytes (CloudWatch raised its cap from 256 KiB to 1 MiB).
MAX_EVENT_BYTES = 1 * MIB

# One native ingest request body after decompression; a gzip bomb stops here.
MAX_INGEST_BODY_BYTES = 64 * MIB

# Reasons listed in one ingest response; the count of rejections is always exact.
MAX_REJECTIONS_REPORTED = 1000

# Tags on one log group, and the size of each key and value (CloudWatch rules).
MAX_TAGS_PER_GROUP = 50
MAX_TAG_KEY_CHARS = 128
MAX_TAG_VALUE_CHARS = 256

# Events one search page may return.
MAX_SEARCH_LIMIT = 10_000
DEFAULT_SEARCH_LIMIT = 100

# Items one listing page (groups, streams, keys) may return.
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 50

# Group commit: the most rows and message bytes one writer transaction coalesces.
WRITER_MAX_BATCH_ROWS = 500_000
WRITER_MAX_BATCH_BYTES = 64 * MIB

# Ingest requests waiting for the writer; past this, ingest answers 503 with Retry-After.
WRITER_MAX_PENDING_BYTES = 256 * MIB

# Length of a substring filter in a native search.
MAX_SEARCH_TEXT_CHARS = 1024

# Shipper protocol bodies after decompression: Elasticsearch's own http.max_content_length,
# the OTLP specification's recommendation, and the rest (Loki push, Fluent Bit http).
MAX_ES_BODY_BYTES = 100 * MIB
MAX_OTLP_BODY_BYTES = 64 * MIB
MAX_SHIPPER_BODY_BYTES = 32 * MIB

# One Fluentd forward message (a whole PackedForward chunk) before and after gzip.
MAX_FORWARD_MESSAGE_BYTES = 64 * MIB

# One syslog message; longer ones are cut here (RFC 5425 asks receivers for at least 2 KiB).
MAX_SYSLOG_MESSAGE_BYTES = 64 * KIB

# Events a TCP/UDP listener gathers before handing a batch to the pipeline, and how long it
# waits for more (a batch is also sent when the connection goes quiet).
LISTENER_BATCH_EVENTS = 5000
LISTENER_BATCH_SECONDS = 0.2

# Metric filters on one log group (CloudWatch's quota).
MAX_METRIC_FILTERS_PER_GROUP = 100
