-- What CloudWatch Logs attaches to a log group besides its events: the class and deletion
-- protection chosen at creation, metric filters, a data protection policy; and the
-- parameters of saved queries.
ALTER TABLE log_groups ADD COLUMN log_group_class VARCHAR DEFAULT 'STANDARD';
-- No DEFAULT: DuckDB 1.5 refuses a constant BOOLEAN default in ALTER once configuration is
-- locked. NULL reads as false.
ALTER TABLE log_groups ADD COLUMN deletion_protection BOOLEAN;

-- One row per (group, filter name); transformations and options are JSON documents.
CREATE TABLE metric_filters (
    group_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    pattern VARCHAR NOT NULL,
    transformations VARCHAR NOT NULL,
    options VARCHAR NOT NULL DEFAULT '{}',
    created_ms BIGINT NOT NULL
);

-- A group's data protection policy document; a NULL document marks a deleted policy (the
-- group then reports dataProtectionStatus DELETED).
CREATE TABLE data_protection_policies (
    group_id INTEGER NOT NULL,
    document VARCHAR,
    updated_ms BIGINT NOT NULL
);

ALTER TABLE query_definitions ADD COLUMN parameters VARCHAR DEFAULT '[]';
