-- PostgreSQL only (write notifications for other instances' read caches): one process owns a
-- SQLite file and invalidates its cache itself. Kept so both backends share migration names.
SELECT 1;
