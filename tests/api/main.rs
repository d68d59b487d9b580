//! The API suite: one binary, each test against a real gateway on SQLite and on PostgreSQL.
#![recursion_limit = "256"]

mod helpers;

mod apple_client;
mod apple_onboarding;
mod apple_sim;
mod cli;
mod conventions;
mod devices;
mod legacy;
mod oidc;
mod onboarding_settings;
mod profiles;
mod security;
mod sync;
mod vpp_tokens;
