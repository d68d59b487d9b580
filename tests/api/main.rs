//! The API suite: one binary, each test against a real gateway on SQLite and on PostgreSQL.
#![recursion_limit = "256"]

mod helpers;

mod apple_client;
mod apple_onboarding;
mod apple_session;
mod apple_sim;
mod audit;
mod batch;
mod cli;
mod clients;
mod connections;
mod conventions;
mod cors;
mod devices;
mod edge_errors;
mod enrollment_url;
mod fidelity_small;
mod generated_sdk;
mod hardening;
mod identity_counts;
mod lease_takeover;
mod legacy;
mod metrics;
mod oidc;
mod onboarding_settings;
mod openapi;
mod pausable_proxy;
mod profile_push;
mod profiles;
mod query_options;
mod read_cache;
mod restore;
mod security;
mod shutdown;
mod sync;
mod throttling;
mod tls;
mod traces;
mod traces_receiver;
mod vpp_tokens;
