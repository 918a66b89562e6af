-- Saved queries (CloudWatch's query definitions): a name, the Logs Insights text, and the
-- log groups it runs on by default.
CREATE TABLE query_definitions (
    id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    query VARCHAR NOT NULL,
    log_groups VARCHAR NOT NULL DEFAULT '[]',
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
