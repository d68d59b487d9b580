DROP TABLE token_warnings;
DROP TABLE dep_sync_failures;
