//! Handlers of the multi-token operations, one per row of [`super::rows`], named after the
//! Graph operation. Each receives a [`super::table::Call`]: the caller is authorised and the
//! query options are parsed and checked before it runs.

pub mod audit;
pub mod devices;
pub mod onboarding;
pub mod onboarding_actions;
pub mod profiles;
pub mod vpp_tokens;
