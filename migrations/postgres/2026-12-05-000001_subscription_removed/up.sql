-- A subscription the gateway removed itself (expiry) stays, hidden from the API, until its
-- `subscriptionRemoved` lifecycle notification has been delivered (or dropped); then it is
-- deleted with its outbox rows (issue 14).
ALTER TABLE subscriptions ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;
