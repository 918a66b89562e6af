-- How many of a group's rows in a day table may hold a promoted field (level, trace_id,
-- span_id, tenant_id, service) in their JSON document rather than in its column. NULL:
-- not known (rows written before this column existed), which counts as "some".
ALTER TABLE partition_groups ADD COLUMN loose_rows BIGINT;
