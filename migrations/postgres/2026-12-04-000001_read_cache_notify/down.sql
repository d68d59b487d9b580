DROP TRIGGER dep_onboarding_settings_notify ON dep_onboarding_settings;
DROP TRIGGER enrollment_profiles_notify ON enrollment_profiles;
DROP TRIGGER default_profiles_notify ON default_profiles;
DROP TRIGGER imported_devices_notify ON imported_devices;
DROP TRIGGER vpp_tokens_notify ON vpp_tokens;
DROP FUNCTION dep_gateway_notify_write();
