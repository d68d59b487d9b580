-- How many identities each token holds, kept by triggers in the same transaction as every write
-- to imported_devices (imports, syncs, moves between tokens, deletes, the cascade of a deleted
-- token), so an unfiltered `/$count` or `$count=true` reads one row instead of counting up to a
-- million. The row is created with its token and goes with it. The identity triggers are
-- per statement over transition tables: a 20,000-row import updates the count once.
CREATE TABLE imported_device_counts (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, setting_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

INSERT INTO imported_device_counts (tenant_id, setting_id, n)
SELECT s.tenant_id, s.id,
       (SELECT COUNT(*) FROM imported_devices d WHERE d.tenant_id = s.tenant_id AND d.setting_id = s.id)
FROM dep_onboarding_settings s;

CREATE FUNCTION imported_device_counts_new_setting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO imported_device_counts (tenant_id, setting_id, n) VALUES (NEW.tenant_id, NEW.id, 0);
    RETURN NULL;
END $$;

CREATE TRIGGER imported_device_counts_new_setting AFTER INSERT ON dep_onboarding_settings
FOR EACH ROW EXECUTE FUNCTION imported_device_counts_new_setting();

CREATE FUNCTION imported_device_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imported_device_counts c SET n = c.n + d.k
    FROM (SELECT tenant_id, setting_id, COUNT(*) AS k FROM new_rows GROUP BY tenant_id, setting_id) d
    WHERE c.tenant_id = d.tenant_id AND c.setting_id = d.setting_id;
    RETURN NULL;
END $$;

CREATE TRIGGER imported_device_counts_insert AFTER INSERT ON imported_devices
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION imported_device_counts_insert();

CREATE FUNCTION imported_device_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imported_device_counts c SET n = c.n - d.k
    FROM (SELECT tenant_id, setting_id, COUNT(*) AS k FROM old_rows GROUP BY tenant_id, setting_id) d
    WHERE c.tenant_id = d.tenant_id AND c.setting_id = d.setting_id;
    RETURN NULL;
END $$;

CREATE TRIGGER imported_device_counts_delete AFTER DELETE ON imported_devices
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION imported_device_counts_delete();

-- Transition tables cannot be combined with `UPDATE OF columns`, so every update statement runs
-- this; it only touches the counts of tokens whose membership changed.
CREATE FUNCTION imported_device_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE imported_device_counts c SET n = c.n + d.k
    FROM (
        SELECT tenant_id, setting_id, SUM(k) AS k FROM (
            SELECT tenant_id, setting_id, -1 AS k FROM old_rows
            UNION ALL
            SELECT tenant_id, setting_id, 1 AS k FROM new_rows
        ) moves
        GROUP BY tenant_id, setting_id
        HAVING SUM(k) <> 0
    ) d
    WHERE c.tenant_id = d.tenant_id AND c.setting_id = d.setting_id;
    RETURN NULL;
END $$;

CREATE TRIGGER imported_device_counts_move AFTER UPDATE ON imported_devices
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION imported_device_counts_move();

-- Equality filters on a token's identities, each led by the token and followed by `id` (the
-- default keyset order), so a filter matching a few hundred of a million rows seeks straight to
-- its page instead of walking the primary key.
CREATE INDEX imported_devices_by_platform ON imported_devices (tenant_id, setting_id, platform, id);
CREATE INDEX imported_devices_by_state ON imported_devices (tenant_id, setting_id, enrollment_state, id);
CREATE INDEX imported_devices_by_source ON imported_devices (tenant_id, setting_id, discovery_source, id);
CREATE INDEX imported_devices_by_profile ON imported_devices (tenant_id, setting_id, requested_enrollment_profile_id, id);
CREATE INDEX imported_devices_by_deleted ON imported_devices (tenant_id, setting_id, is_deleted, id);
