-- PII audit: how many findings of each identifier type each group had in each minute.
-- Counts only, never the values.
CREATE TABLE pii_findings (
    minute BIGINT NOT NULL,      -- ms since the epoch, floored to the minute
    group_name VARCHAR NOT NULL,
    identifier VARCHAR NOT NULL,
    count BIGINT NOT NULL
);
