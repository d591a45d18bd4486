//! `zd-sfdc-sync-us-federal`: Salesforce Accounts → Zendesk US Federal organizations,
//! then Salesforce Contacts → Zendesk US Federal users, in one run.
//!
//! Thin by design: flags → `sync_core::jobs::binary::main`, which reads the
//! configuration, calls `sync_core::jobs::us_federal::run_us_federal`, writes the report files
//! and a summary table on stderr, and returns the exit code of SPEC §8.

use std::process::ExitCode;

use clap::Parser;
use sync_core::cli::{CommonArgs, UpdateGuardArgs};
use sync_core::config::Config;
use sync_core::jobs::binary::{self, SandboxHandle, SandboxRequest};
use sync_core::Instance;

/// Salesforce Accounts → Zendesk US Federal organizations, then Salesforce Contacts →
/// Zendesk US Federal users (created and updated; agents and admins never touched).
#[derive(Debug, Parser)]
#[command(
    name = "zd-sfdc-sync-us-federal",
    version,
    about,
    long_about,
    after_long_help = sync_core::cli::sync_help()
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    guards: UpdateGuardArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    binary::main(
        Instance::UsFederal,
        &cli.common,
        cli.guards.guard_config(),
        start_sandbox,
    )
}

/// `--sandbox`: the simulated APIs in-process, serving the US Federal data set.
#[cfg(feature = "sandbox")]
async fn start_sandbox(request: SandboxRequest) -> anyhow::Result<(SandboxHandle, Config)> {
    use anyhow::Context as _;
    let sandbox = sandbox::Sandbox::start_for_job(sandbox::JobSandbox {
        instance: sandbox::Instance::UsFederal,
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
            "--max-update-ratio",
            "--allow-mass-changes",
            "SFDC_JWT_AUDIENCE",
            "ZD_SUBDOMAIN",
            "3 stopped by a safety guard",
        ] {
            assert!(help.contains(needle), "{needle} not in:\n{help}");
        }
        // This job never deletes: a deletion limit would be a flag that does nothing.
        assert!(!help.contains("--max-deletions"), "{help}");
    }

    #[test]
    fn max_deletions_is_refused() {
        let err = Cli::try_parse_from(["zd-sfdc-sync-us-federal", "--max-deletions", "3"])
            .expect_err("--max-deletions must not be accepted");
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
