//! Apple's Device Assignment (DEP) protocol pieces shared by the gateway and the simulator.

pub mod api;
pub mod client;
pub mod error;
pub mod oauth;
pub mod profile;
pub mod token_file;
pub mod types;

pub use api::{AppleConnector, DepApi, HttpConnector};
