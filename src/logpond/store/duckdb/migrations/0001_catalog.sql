-- The catalog: groups, streams, event partitions, API keys and store metadata.
-- Uniqueness of live names is enforced by the single writer, not by constraints: DuckDB
-- checks unique indexes eagerly inside a transaction, which breaks update-in-place.

CREATE TABLE meta (
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
-- flushed_seq: every event below it is reflected in the stored statistics (see commit.py).
INSERT INTO meta VALUES ('flushed_seq', '1'), ('next_group_id', '1');

CREATE TABLE log_groups (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    created_ms BIGINT NOT NULL,
    retention_days INTEGER,
    tags VARCHAR NOT NULL DEFAULT '{}',
    kms_key_id VARCHAR,
    deleted_ms BIGINT
);

CREATE TABLE log_streams (
    id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    created_ms BIGINT NOT NULL,
    first_event_ms BIGINT,
    last_event_ms BIGINT,
    last_ingestion_ms BIGINT,
    deleted_ms BIGINT
);

-- One row per UTC day that has an events table (events_YYYYMMDD).
CREATE TABLE partitions (
    day INTEGER NOT NULL,
    table_name VARCHAR NOT NULL
);

-- What each group holds in each day's table: decides what retention can drop.
CREATE TABLE partition_groups (
    day INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    row_count BIGINT NOT NULL,
    byte_count BIGINT NOT NULL,
    min_ts BIGINT NOT NULL,
    max_ts BIGINT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id VARCHAR NOT NULL,
    encrypted_secret BLOB NOT NULL,
    policy VARCHAR NOT NULL,
    description VARCHAR NOT NULL DEFAULT '',
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
