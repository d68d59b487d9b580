CREATE TRIGGER imported_device_counts_insert AFTER INSERT ON imported_devices
BEGIN
    UPDATE imported_device_counts SET n = n + 1
    WHERE tenant_id = NEW.tenant_id AND setting_id = NEW.setting_id;
END;
CREATE INDEX imported_devices_by_serial ON imported_devices (tenant_id, setting_id, serial_number);
