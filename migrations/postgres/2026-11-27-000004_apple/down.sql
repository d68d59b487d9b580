DROP TABLE dep_sync_state;
DROP TABLE dep_token_credentials;
DROP TABLE dep_token_keys;
