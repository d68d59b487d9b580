-- The write path of syncs and imports (issue 11 items 1 and 5).
--
-- 1. `(tenant_id, setting_id, serial_number)` goes: the unique `(tenant_id, serial_number)` index
--    serves a token's serial filters as well (`eq`/`in` are seeks of at most the named serials;
--    `startswith` is a range of that index, the token checked on each row it yields). Serials
--    arrive in random order, so each of these two indexes took a page of 1,000 new identities on
--    as many random index pages: dropping one cut about 30 % of the insert CPU.
-- 2. The count of a token's identities is no longer raised per inserted row by a trigger: the
--    one statement that inserts identities (`storage::devices::insert_many`) adds how many it
--    inserted in the same transaction. Deletes and moves keep their triggers.
DROP INDEX imported_devices_by_serial;
DROP TRIGGER imported_device_counts_insert;
