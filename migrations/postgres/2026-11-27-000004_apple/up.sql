-- Encryption key pairs of a token (the certificate an admin uploads to Apple Business Manager).
-- slot 'staged' becomes 'current' when a server token decrypts with it. private_key is sealed
-- (AES-256-GCM, see src/crypto.rs).
CREATE TABLE dep_token_keys (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    slot TEXT COLLATE "C" NOT NULL,
    private_key TEXT NOT NULL,
    certificate TEXT NOT NULL,
    created_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id, slot),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

-- The Apple server token a setting holds: its OAuth credentials (sealed) and the Apple MDM server
-- they belong to. One Apple MDM server is held by one setting of one tenant at a time.
CREATE TABLE dep_token_credentials (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    server_uuid TEXT COLLATE "C" NOT NULL,
    server_name TEXT COLLATE "C",
    credentials TEXT NOT NULL,
    access_token_expiry BIGINT NOT NULL,
    uploaded_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id),
    UNIQUE (server_uuid),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

-- Sync state of a token: the Apple cursor (advanced only after its page is committed), whether
-- the full fetch finished, and the lease that keeps two instances from syncing it at once.
CREATE TABLE dep_sync_state (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    cursor TEXT,
    fetch_complete BOOLEAN NOT NULL,
    requested BOOLEAN NOT NULL,
    next_run_ticks BIGINT NOT NULL,
    lease_owner TEXT COLLATE "C",
    lease_until_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX dep_sync_state_due ON dep_sync_state (next_run_ticks);
