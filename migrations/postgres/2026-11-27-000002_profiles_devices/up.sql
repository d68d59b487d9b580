-- Enrollment profiles of one token. Their properties differ by type, are only ever filtered in
-- memory (a token holds few profiles), and are kept as one JSON document.
CREATE TABLE enrollment_profiles (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    odata_type TEXT COLLATE "C" NOT NULL,
    properties TEXT NOT NULL,
    created_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id, id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

-- The default profile of each platform of a token: the key makes "one default per (token,
-- platform)" structural, and deleting the profile clears it.
CREATE TABLE default_profiles (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    platform TEXT COLLATE "C" NOT NULL,
    profile_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, setting_id, platform),
    FOREIGN KEY (tenant_id, setting_id, profile_id)
        REFERENCES enrollment_profiles (tenant_id, setting_id, id) ON DELETE CASCADE
);

-- Apple device identities known to a token (imported by an admin or synced from Apple).
-- A serial number belongs to one token of a tenant at a time.
CREATE TABLE imported_devices (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    serial_number TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    discovery_source TEXT COLLATE "C" NOT NULL,
    enrollment_state TEXT COLLATE "C" NOT NULL,
    is_deleted BOOLEAN,
    is_supervised BOOLEAN NOT NULL,
    last_contacted_date_time BIGINT NOT NULL,
    platform TEXT COLLATE "C" NOT NULL,
    requested_enrollment_profile_assignment_date_time BIGINT,
    requested_enrollment_profile_id TEXT COLLATE "C",
    created_date_time BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id, id),
    UNIQUE (tenant_id, serial_number),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX imported_devices_by_serial ON imported_devices (tenant_id, setting_id, serial_number);
