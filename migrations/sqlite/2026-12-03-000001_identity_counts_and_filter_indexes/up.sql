-- How many identities each token holds, kept by triggers in the same transaction as every write
-- to imported_devices (imports, syncs, moves between tokens, deletes, the cascade of a deleted
-- token), so an unfiltered `/$count` or `$count=true` reads one row instead of counting up to a
-- million. The row is created with its token and goes with it.
CREATE TABLE imported_device_counts (
    tenant_id TEXT NOT NULL,
    setting_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

INSERT INTO imported_device_counts (tenant_id, setting_id, n)
SELECT s.tenant_id, s.id,
       (SELECT COUNT(*) FROM imported_devices d WHERE d.tenant_id = s.tenant_id AND d.setting_id = s.id)
FROM dep_onboarding_settings s;

CREATE TRIGGER imported_device_counts_new_setting AFTER INSERT ON dep_onboarding_settings
BEGIN
    INSERT INTO imported_device_counts (tenant_id, setting_id, n) VALUES (NEW.tenant_id, NEW.id, 0);
END;

CREATE TRIGGER imported_device_counts_insert AFTER INSERT ON imported_devices
BEGIN
    UPDATE imported_device_counts SET n = n + 1
    WHERE tenant_id = NEW.tenant_id AND setting_id = NEW.setting_id;
END;

CREATE TRIGGER imported_device_counts_delete AFTER DELETE ON imported_devices
BEGIN
    UPDATE imported_device_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND setting_id = OLD.setting_id;
END;

CREATE TRIGGER imported_device_counts_move AFTER UPDATE OF tenant_id, setting_id ON imported_devices
WHEN OLD.tenant_id <> NEW.tenant_id OR OLD.setting_id <> NEW.setting_id
BEGIN
    UPDATE imported_device_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND setting_id = OLD.setting_id;
    UPDATE imported_device_counts SET n = n + 1
    WHERE tenant_id = NEW.tenant_id AND setting_id = NEW.setting_id;
END;

-- Equality filters on a token's identities, each led by the token and followed by `id` (the
-- default keyset order), so a filter matching a few hundred of a million rows seeks straight to
-- its page instead of walking the primary key.
CREATE INDEX imported_devices_by_platform ON imported_devices (tenant_id, setting_id, platform, id);
CREATE INDEX imported_devices_by_state ON imported_devices (tenant_id, setting_id, enrollment_state, id);
CREATE INDEX imported_devices_by_source ON imported_devices (tenant_id, setting_id, discovery_source, id);
CREATE INDEX imported_devices_by_profile ON imported_devices (tenant_id, setting_id, requested_enrollment_profile_id, id);
CREATE INDEX imported_devices_by_deleted ON imported_devices (tenant_id, setting_id, is_deleted, id);
