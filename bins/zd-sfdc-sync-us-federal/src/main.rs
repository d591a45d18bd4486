//! `zd-sfdc-sync-us-federal`: Salesforce Accounts → Zendesk US Federal organizations, then Salesforce Contacts → Zendesk US Federal users.

use std::process::ExitCode;

use clap::Parser;

/// Salesforce Accounts → Zendesk US Federal organizations, then Salesforce Contacts → Zendesk US Federal users.
#[derive(Debug, Parser)]
#[command(name = "zd-sfdc-sync-us-federal", version, about)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    eprintln!("zd-sfdc-sync-us-federal: the job is not built yet; see README.md");
    ExitCode::from(2)
}
