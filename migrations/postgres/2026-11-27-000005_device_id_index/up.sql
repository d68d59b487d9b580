-- Identities are updated by (tenant, id) when a sync or an import moves them between tokens.
CREATE INDEX imported_devices_by_id ON imported_devices (tenant_id, id);
