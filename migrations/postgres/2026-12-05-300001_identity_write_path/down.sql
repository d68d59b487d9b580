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
CREATE INDEX imported_devices_by_serial ON imported_devices (tenant_id, setting_id, serial_number);
