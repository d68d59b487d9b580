DROP TABLE legacy_default_tokens;
