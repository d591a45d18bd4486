//! `zd-sfdc-sync-us-federal`: Salesforce Accounts → Zendesk US Federal organizations,
//! then Salesforce Contacts → Zendesk US Federal users, in one run.
//!
//! Thin by design: flags and environment → configuration → clients → one call into
//! `sync_core::jobs::us_federal::run_us_federal` → report files, a summary table on
//! stderr, and the exit code of SPEC §8.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use sync_core::cli::{CommonArgs, GuardArgs};
use sync_core::config::Config;
use sync_core::jobs::{load_mapping, us_federal, JobContext};
use sync_core::{exit, logging, Instance};

/// Salesforce Accounts → Zendesk US Federal organizations, then Salesforce Contacts →
/// Zendesk US Federal users (created and updated; agents and admins never touched).
///
/// Credentials come from the environment: SFDC_ACCESS_TOKEN + SFDC_INSTANCE_URL, or
/// SFDC_USERNAME + SFDC_PRIVATE_KEY_FILE + SFDC_CLIENT_ID, or SFDC_CLIENT_ID +
/// SFDC_CLIENT_SECRET + SFDC_LOGIN_URL; ZD_URL or ZD_SUBDOMAIN with ZD_EMAIL +
/// ZD_API_TOKEN or ZD_OAUTH_TOKEN. Exit codes: 0 done, 1 a write failed, 2 usage or
/// configuration, 3 stopped by a safety guard, 4 an API unreachable or refusing.
#[derive(Debug, Parser)]
#[command(name = "zd-sfdc-sync-us-federal", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    guards: GuardArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.common.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::API);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::for_error(&e))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let common = &cli.common;
    let today = common.today();
    let mapping = load_mapping(Instance::UsFederal, common.mapping.as_deref())?;
    // The sandbox (if any) lives until the run is over.
    let (_sandbox, config) = if common.sandbox {
        let (sandbox, config) = start_sandbox(common, today).await?;
        (Some(sandbox), config)
    } else {
        (None, Config::from_env()?)
    };
    let ctx = JobContext {
        salesforce: config.salesforce_client()?,
        zendesk: config.zendesk_client(common.zd_rate_limit)?,
        today,
        dry_run: common.dry_run,
        guards: cli.guards.guard_config(),
    };
    let outcome = us_federal::run_us_federal(&ctx, &mapping).await;
    let report = &outcome.report;
    if let Some(path) = &common.report {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write the JSON report to {}", path.display()))?;
    }
    if let Some(path) = &common.report_md {
        std::fs::write(path, report.to_markdown())
            .with_context(|| format!("cannot write the Markdown report to {}", path.display()))?;
    }
    if common.sandbox {
        println!("{}", report.to_markdown());
    }
    eprintln!("{}", report.summary_table());
    if let Some(e) = &outcome.error {
        eprintln!("error: {e}");
    }
    Ok(outcome.exit_code())
}

#[cfg(feature = "sandbox")]
async fn start_sandbox(
    common: &CommonArgs,
    today: time::Date,
) -> anyhow::Result<(Box<dyn std::any::Any>, Config)> {
    let mut config = sandbox::SandboxConfig::default_fixtures();
    config.instance = sandbox::Instance::UsFederal;
    config.job_latency = std::time::Duration::from_millis(50);
    config.rate_limit_per_minute = common.zd_rate_limit;
    if let Some(accounts) = common.sandbox_accounts {
        config.seed = sandbox::Seed::Generated {
            accounts,
            seed: 7,
            today,
        };
    }
    let sandbox = sandbox::Sandbox::start(config)
        .await
        .context("cannot start the sandbox")?;
    tracing::info!(
        salesforce = sandbox.salesforce_url(),
        zendesk = sandbox.zendesk_url(),
        "sandbox started; credentials in the environment are ignored"
    );
    let config = Config::for_sandbox(sandbox.salesforce_url(), sandbox.zendesk_url());
    Ok((Box::new(sandbox), config))
}

/// Without the `sandbox` feature, `--sandbox` is a configuration error.
#[cfg(not(feature = "sandbox"))]
async fn start_sandbox(
    _: &CommonArgs,
    _: time::Date,
) -> anyhow::Result<(Box<dyn std::any::Any>, Config)> {
    Err(sync_core::Error::Config(
        "this build has no sandbox (built without the `sandbox` feature)".into(),
    )
    .into())
}
