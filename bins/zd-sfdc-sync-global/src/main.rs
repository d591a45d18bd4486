//! `zd-sfdc-sync-global`: Salesforce Accounts → Zendesk Global organizations, sold-to
//! users for new organizations, and deletion of greatly-expired organizations.
//!
//! Thin by design: flags → `sync_core::jobs::binary::main`, which reads the
//! configuration, calls `sync_core::jobs::global::run_global`, writes the report files
//! and a summary table on stderr, and returns the exit code of SPEC §8.

use std::process::ExitCode;

use clap::Parser;
use sync_core::cli::{CommonArgs, GuardArgs};
use sync_core::config::Config;
use sync_core::jobs::binary::{self, SandboxHandle, SandboxRequest};
use sync_core::Instance;

/// Salesforce Accounts → Zendesk Global organizations, sold-to users for new
/// organizations, and deletion of greatly-expired organizations.
#[derive(Debug, Parser)]
#[command(
    name = "zd-sfdc-sync-global",
    version,
    about,
    long_about,
    after_long_help = sync_core::cli::sync_help()
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    guards: GuardArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    binary::main(
        Instance::Global,
        &cli.common,
        cli.guards.guard_config(),
        start_sandbox,
    )
}

/// `--sandbox`: the simulated APIs in-process, serving the Global data set.
#[cfg(feature = "sandbox")]
async fn start_sandbox(request: SandboxRequest) -> anyhow::Result<(SandboxHandle, Config)> {
    use anyhow::Context as _;
    let sandbox = sandbox::Sandbox::start_for_job(sandbox::JobSandbox {
        instance: sandbox::Instance::Global,
        generated_accounts: request.generated_accounts,
        today: request.today,
        rate_limit_per_minute: request.zd_rate_limit,
    })
    .await
    .context("cannot start the sandbox")?;
    let config = Config::for_sandbox(sandbox.salesforce_url(), sandbox.zendesk_url());
    Ok((Box::new(sandbox), config))
}

/// Without the `sandbox` feature, `--sandbox` is a configuration error.
#[cfg(not(feature = "sandbox"))]
async fn start_sandbox(_: SandboxRequest) -> anyhow::Result<(SandboxHandle, Config)> {
    Err(binary::no_sandbox().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn long_help_has_the_flags_the_environment_and_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "--dry-run",
            "--report <FILE>",
            "--report-md <FILE>",
            "--today",
            "--mapping",
            "--log-format",
            "--sandbox",
            "--max-deletions",
            "--max-update-ratio",
            "--allow-mass-changes",
            "SFDC_JWT_AUDIENCE",
            "ZD_SUBDOMAIN",
            "3 stopped by a safety guard",
        ] {
            assert!(help.contains(needle), "{needle} not in:\n{help}");
        }
    }
}
