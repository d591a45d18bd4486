//! `zd-sfdc-sync-global`: Salesforce Accounts → Zendesk Global organizations, sold-to users for new organizations, and deletion of greatly-expired organizations.

use std::process::ExitCode;

use clap::Parser;

/// Salesforce Accounts → Zendesk Global organizations, sold-to users for new organizations, and deletion of greatly-expired organizations.
#[derive(Debug, Parser)]
#[command(name = "zd-sfdc-sync-global", version, about)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    eprintln!("zd-sfdc-sync-global: the job is not built yet; see README.md");
    ExitCode::from(2)
}
