//! Logging setup (tracing): human-readable text by default, JSON lines on request.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides `filter`. Safe to call more than once.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub mod apple;
pub mod metrics;
pub mod snapshot;
pub mod spans;
pub mod traces;

pub use metrics::Metrics;
pub use spans::Spans;
pub use traces::Tracing;
