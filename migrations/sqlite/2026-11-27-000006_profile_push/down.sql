DROP TABLE dep_assign_leases;
DROP TABLE dep_profile_assignments;
DROP TABLE dep_apple_profiles;
