-- Apple VPP content tokens of a tenant (Graph vppToken). Times are 100 ns ticks since 1970 UTC.
CREATE TABLE vpp_tokens (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    id TEXT NOT NULL,
    organization_name TEXT NOT NULL,
    vpp_token_account_type TEXT NOT NULL,
    apple_id TEXT,
    expiration_date_time BIGINT NOT NULL,
    last_sync_date_time BIGINT NOT NULL,
    -- SECRET: the .vpptoken content as uploaded. Never returned or logged. Stored as given for
    -- now; encryption at rest comes later.
    token TEXT NOT NULL,
    -- SHA-256 (hex) of the inner Apple token, so that the same token is not uploaded twice.
    token_sha256 TEXT NOT NULL,
    last_modified_date_time BIGINT NOT NULL,
    last_sync_status TEXT NOT NULL,
    automatically_update_apps BOOLEAN NOT NULL,
    country_or_region TEXT,
    data_sharing_consent_granted BOOLEAN NOT NULL,
    display_name TEXT,
    location_name TEXT,
    claim_token_management_from_external_mdm BOOLEAN NOT NULL,
    role_scope_tag_ids TEXT NOT NULL,
    last_app_count INTEGER NOT NULL,
    apple_device_app_delivery_protocol_type TEXT NOT NULL,
    created_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_sha256)
);
CREATE INDEX vpp_tokens_by_expiration ON vpp_tokens (tenant_id, expiration_date_time);
