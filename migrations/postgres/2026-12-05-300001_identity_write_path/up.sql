-- The write path of syncs and imports (issue 11 items 1 and 5).
--
-- 1. `(tenant_id, setting_id, serial_number)` goes: the unique `(tenant_id, serial_number)` index
--    serves a token's serial filters as well (`eq`/`in` are seeks of at most the named serials;
--    `startswith` is a range of that index, "C" collation, the token checked on each row it
--    yields). Serials arrive in random order, so each of these two indexes took a page of new
--    identities on as many random index pages.
-- 2. The count of a token's identities is no longer raised by a trigger over a transition table:
--    the one statement that inserts identities (`storage::devices::insert_many`) adds how many it
--    inserted in the same transaction. Deletes and moves keep their triggers.
DROP INDEX imported_devices_by_serial;
DROP TRIGGER imported_device_counts_insert ON imported_devices;
DROP FUNCTION imported_device_counts_insert();
