-- The tenant's legacy default token: the depOnboardingSetting that old single-token calls
-- without a token id (collection-bound uploadDepToken/sync/getEncryptionPublicKey, creating a
-- profile or an identity under deviceManagement) go to when the tenant has several tokens.
-- One row per tenant at most; deleting the setting clears the designation.
CREATE TABLE legacy_default_tokens (
    tenant_id TEXT COLLATE "C" NOT NULL,
    setting_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);
