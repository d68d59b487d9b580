//! Apple's Device Assignment (DEP) protocol pieces shared by the gateway and the simulator.

pub mod oauth;
pub mod token_file;
