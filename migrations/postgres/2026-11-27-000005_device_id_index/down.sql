DROP INDEX imported_devices_by_id;
