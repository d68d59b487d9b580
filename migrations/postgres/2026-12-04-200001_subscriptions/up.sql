-- Graph change-notification subscriptions (issue 14). `resource` is the watched path without
-- the version prefix; `change_types` the comma-separated subset of created,updated,deleted.
-- The lease and the retry state belong to the delivery worker: one instance at a time delivers a
-- subscription's notifications, in outbox order; `attempts` counts failed tries of the oldest
-- pending batch, retried at `next_attempt_ticks`.
CREATE TABLE subscriptions (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    resource TEXT NOT NULL,
    change_types TEXT NOT NULL,
    notification_url TEXT NOT NULL,
    lifecycle_notification_url TEXT,
    client_state TEXT,
    signing_secret TEXT,
    expiration_ticks BIGINT NOT NULL,
    application_id TEXT,
    creator_id TEXT,
    created_ticks BIGINT NOT NULL,
    reauthorize_sent BOOLEAN NOT NULL DEFAULT FALSE,
    lease_owner TEXT,
    lease_until_ticks BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ticks BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX subscriptions_by_resource ON subscriptions (tenant_id, resource);

-- The durable outbox: written in the transaction of the change it reports, deleted once the
-- receiver accepted it. `payload` is a JSON array of changes (or one lifecycle event); `seq`
-- orders a subscription's notifications (a tenant's writes are serialised by its lock).
CREATE TABLE notification_outbox (
    seq BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    lifecycle BOOLEAN NOT NULL DEFAULT FALSE,
    payload TEXT NOT NULL,
    changes INTEGER NOT NULL,
    created_ticks BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES subscriptions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX notification_outbox_by_subscription ON notification_outbox (tenant_id, subscription_id, seq);
