//! Apple's Device Assignment (DEP) protocol pieces shared by the gateway and the simulator.

pub mod client;
pub mod error;
pub mod oauth;
pub mod profile;
pub mod token_file;
pub mod types;
