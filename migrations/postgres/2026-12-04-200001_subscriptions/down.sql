DROP TABLE notification_outbox;
DROP TABLE subscriptions;
