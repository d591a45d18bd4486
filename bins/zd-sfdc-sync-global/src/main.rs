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
///
/// Credentials come from the environment: SFDC_ACCESS_TOKEN + SFDC_INSTANCE_URL, or
/// SFDC_USERNAME + SFDC_PRIVATE_KEY_FILE + SFDC_CLIENT_ID, or SFDC_CLIENT_ID +
/// SFDC_CLIENT_SECRET + SFDC_LOGIN_URL; ZD_URL or ZD_SUBDOMAIN with ZD_EMAIL +
/// ZD_API_TOKEN or ZD_OAUTH_TOKEN. Exit codes: 0 done, 1 a write failed, 2 usage or
/// configuration, 3 stopped by a safety guard, 4 an API unreachable or refusing.
#[derive(Debug, Parser)]
#[command(name = "zd-sfdc-sync-global", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    guards: GuardArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    binary::main(Instance::Global, &cli.common, &cli.guards, start_sandbox)
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
