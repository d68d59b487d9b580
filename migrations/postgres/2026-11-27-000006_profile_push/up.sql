-- A token's enrollment profiles as defined at Apple: the profile_uuid Apple issued (scoped to
-- that token's Apple MDM server) and a digest of the definition sent, so that a profile is
-- defined once and defined again only after it changed.
CREATE TABLE dep_apple_profiles (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    profile_id TEXT COLLATE "C" NOT NULL,
    profile_uuid TEXT COLLATE "C" NOT NULL,
    digest TEXT COLLATE "C" NOT NULL,
    defined_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id, profile_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

-- The profile assignment of each serial at Apple: the queue of pushes and the last per-device
-- result. status: pending, SUCCESS, NOT_ACCESSIBLE, FAILED, THROTTLED, NO_SERVER_TOKEN,
-- PROFILE_DELETED. A row is due while next_attempt_ticks is set and reached.
CREATE TABLE dep_profile_assignments (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    serial_number TEXT COLLATE "C" NOT NULL,
    profile_id TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ticks BIGINT,
    profile_uuid TEXT COLLATE "C",
    updated_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id, serial_number),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX dep_profile_assignments_due ON dep_profile_assignments (next_attempt_ticks);

-- The lease of a token's assignment pushes, apart from the sync lease so that a long sync
-- does not hold back assignments.
CREATE TABLE dep_assign_leases (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    lease_owner TEXT COLLATE "C",
    lease_until_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);
