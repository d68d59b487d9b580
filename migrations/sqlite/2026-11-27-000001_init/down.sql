DROP TABLE dep_onboarding_settings;
DROP TABLE tenants;
DROP TABLE gateway_secrets;
