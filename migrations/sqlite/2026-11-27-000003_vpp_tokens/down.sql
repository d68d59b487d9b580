DROP TABLE vpp_tokens;
