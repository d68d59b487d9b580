-- The Graph-shaped audit trail (deviceManagement/auditEvents): one row per accepted write (or
-- background outcome), inserted in the same transaction as the change it describes. The actor
-- and resources are kept as JSON for rendering; the columns beside them serve `$filter`:
-- `actor_upn`/`actor_app_id` for `actor/…`, and `resource_ids`/`resource_types` hold every
-- resource's id and type between `|` delimiters for `resources/any(…)`.
CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    activity_date_time BIGINT NOT NULL,
    display_name TEXT NOT NULL,
    component_name TEXT NOT NULL,
    activity TEXT,
    activity_type TEXT NOT NULL,
    activity_operation_type TEXT NOT NULL,
    activity_result TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    category TEXT NOT NULL,
    actor_upn TEXT,
    actor_app_id TEXT,
    actor_json TEXT NOT NULL,
    resource_ids TEXT NOT NULL,
    resource_types TEXT NOT NULL,
    resources_json TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Newest first per tenant (the default order and the retention pruner's range).
CREATE INDEX audit_events_by_time ON audit_events (tenant_id, activity_date_time, id);
CREATE INDEX audit_events_by_time_all ON audit_events (activity_date_time);
