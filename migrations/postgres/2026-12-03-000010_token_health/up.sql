-- Consecutive failed sync runs of a DEP token (reset by a successful run): the token-lifecycle
-- check warns after `token_warnings.failed_syncs` of them.
CREATE TABLE dep_sync_failures (
    tenant_id TEXT NOT NULL,
    setting_id TEXT NOT NULL,
    consecutive INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, setting_id),
    FOREIGN KEY (tenant_id, setting_id) REFERENCES dep_onboarding_settings (tenant_id, id) ON DELETE CASCADE
);

-- The token-lifecycle warnings already issued, so each is logged once per crossing and not on
-- every check, by whichever instance sees it first. `warning` names the condition and, for
-- expiry, the expiration it was about (a renewed token is warned about again); a row whose
-- condition no longer holds is deleted, re-arming it. DEP and VPP tokens alike, so no foreign
-- key: rows of deleted tokens are deleted by the next check.
CREATE TABLE token_warnings (
    tenant_id TEXT NOT NULL,
    token_kind TEXT NOT NULL,
    token_id TEXT NOT NULL,
    warning TEXT NOT NULL,
    warned_ticks BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, token_kind, token_id, warning)
);
