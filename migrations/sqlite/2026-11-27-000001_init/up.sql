-- Gateway-wide values shared by every instance (e.g. the key that signs $skiptoken values).
CREATE TABLE gateway_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- One row per tenant that has used the gateway; writes lock it to serialise per-tenant rules.
CREATE TABLE tenants (
    tenant_id TEXT PRIMARY KEY NOT NULL,
    created_ticks BIGINT NOT NULL
);

-- One row per Apple server token (Graph depOnboardingSetting). Times are 100 ns ticks since 1970 UTC.
CREATE TABLE dep_onboarding_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    id TEXT NOT NULL,
    apple_identifier TEXT,
    data_sharing_consent_granted BOOLEAN NOT NULL,
    last_modified_date_time BIGINT NOT NULL,
    last_successful_sync_date_time BIGINT NOT NULL,
    last_sync_error_code INTEGER NOT NULL,
    last_sync_triggered_date_time BIGINT NOT NULL,
    role_scope_tag_ids TEXT NOT NULL,
    share_token_with_school_data_sync_service BOOLEAN NOT NULL,
    synced_device_count INTEGER NOT NULL,
    token_expiration_date_time BIGINT NOT NULL,
    token_name TEXT,
    token_type TEXT NOT NULL,
    created_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
