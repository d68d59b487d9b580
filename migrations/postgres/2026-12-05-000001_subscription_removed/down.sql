ALTER TABLE subscriptions DROP COLUMN removed;
