//! The retired single-token DEP API (Graph beta, 2016 – mid-2018), served by translating each
//! old call onto the multi-token model: [`routes`] adds the old paths' rows to the operation
//! table, [`resolve`] picks the
//! token a call goes to, [`convert`] holds the pure shape conversions, and the handlers call the
//! same services as the current routes. Switched off with `legacy_api = false`.

pub mod cli;
pub mod convert;
pub mod default_token;
pub mod devices;
pub mod profiles;
pub mod resolve;
pub mod routes;
pub mod settings;
