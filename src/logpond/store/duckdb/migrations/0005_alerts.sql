-- Alerting: metric datapoints made by metric filters, alarms with their state and history,
-- notification channels, and the notifications sent on alarm transitions with each
-- delivery attempt. No unique constraints: DuckDB refuses a delete and re-insert of the
-- same key in one transaction, and every write here goes through the one writer thread.

-- One row per series, minute and flush; a minute's rows are added up when read.
CREATE TABLE metric_datapoints (
    namespace VARCHAR NOT NULL,
    metric_name VARCHAR NOT NULL,
    dimensions VARCHAR NOT NULL,   -- JSON object, keys sorted ('{}' without dimensions)
    minute_ms BIGINT NOT NULL,     -- ms since the epoch, floored to the minute
    sample_count DOUBLE NOT NULL,
    sum DOUBLE NOT NULL,
    minimum DOUBLE NOT NULL,
    maximum DOUBLE NOT NULL,
    unit VARCHAR,
    histogram VARCHAR NOT NULL     -- JSON [[value, count], ...]: the values, for percentiles
);

-- An alarm: its definition in CloudWatch's PutMetricAlarm shape, and its state.
CREATE TABLE alarms (
    name VARCHAR NOT NULL,
    definition VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE alarm_history (
    alarm VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,
    kind VARCHAR NOT NULL,         -- ConfigurationUpdate | StateUpdate | Action
    summary VARCHAR NOT NULL,
    data VARCHAR NOT NULL
);

-- A channel's settings; its secrets (webhook URL, signing key, SMTP password) sealed.
CREATE TABLE notification_channels (
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    settings VARCHAR NOT NULL,
    secrets BLOB,
    updated_ms BIGINT NOT NULL
);

-- The outbox: written with the transition that causes it, delivered in the background.
CREATE TABLE notifications (
    id BIGINT NOT NULL,
    alarm VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    created_ms BIGINT NOT NULL,
    payload VARCHAR NOT NULL,
    status VARCHAR NOT NULL,       -- pending | delivered | failed
    attempts INTEGER NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE delivery_attempts (
    notification_id BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    ts_ms BIGINT NOT NULL,
    ok BOOLEAN NOT NULL,
    detail VARCHAR NOT NULL
);
