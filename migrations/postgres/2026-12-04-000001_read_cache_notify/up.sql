-- Every write to a table that a cached point read shows notifies `dep_gateway_writes` when its
-- transaction commits, so that every instance's read cache drops what it holds
-- (src/storage/cache_listener.rs). Statement triggers: one notification per statement, and
-- PostgreSQL folds a transaction's identical notifications into one.
CREATE FUNCTION dep_gateway_notify_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dep_gateway_writes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER dep_onboarding_settings_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON dep_onboarding_settings FOR EACH STATEMENT EXECUTE FUNCTION dep_gateway_notify_write();
CREATE TRIGGER enrollment_profiles_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON enrollment_profiles FOR EACH STATEMENT EXECUTE FUNCTION dep_gateway_notify_write();
CREATE TRIGGER default_profiles_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON default_profiles FOR EACH STATEMENT EXECUTE FUNCTION dep_gateway_notify_write();
CREATE TRIGGER imported_devices_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON imported_devices FOR EACH STATEMENT EXECUTE FUNCTION dep_gateway_notify_write();
CREATE TRIGGER vpp_tokens_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON vpp_tokens FOR EACH STATEMENT EXECUTE FUNCTION dep_gateway_notify_write();
