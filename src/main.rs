//! The `dep-gateway` binary: parses the command line and runs it.

use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    dep_gateway::cli::Cli::parse().run().await
}
