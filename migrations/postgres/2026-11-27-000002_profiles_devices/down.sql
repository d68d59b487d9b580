DROP TABLE imported_devices;
DROP TABLE default_profiles;
DROP TABLE enrollment_profiles;
