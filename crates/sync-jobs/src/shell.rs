//! One shell for the three binaries: parse → run → exit code. Each binary's `main`
//! parses its [`cli`](crate::cli) struct and hands it to [`run_global`],
//! [`run_us_federal`] or [`run_cases`], which set up logging and the async runtime,
//! load the mapping, read the configuration from the environment (or start the
//! in-process sandbox with `--sandbox`), run the job, and end with [`emit`]: report
//! files, Markdown in sandbox mode, summary table, and the exit code of docs/behaviour.md §8. An
//! error that stops a run before its report is printed with its causes and mapped by
//! [`exit::for_error`].
//!
//! The sandbox stays behind this crate's `sandbox` cargo feature (each binary turns
//! it on with its own default-on `sandbox` feature); without it `--sandbox` is a
//! configuration error ([`no_sandbox`]).

use std::any::Any;
use std::future::Future;
use std::io::Write as _;
use std::process::ExitCode;

use sync_core::guards::GuardConfig;
use sync_core::mapping::Instance;
use sync_core::report_markdown::MarkdownContext;
use time::{Date, OffsetDateTime};

use crate::cases::setup;
use crate::cli::{CasesCli, CommonArgs, GlobalCli, PlanArgs, SyncCommand, UsFederalCli};
use crate::config::Config;
use crate::error::with_causes;
use crate::jobs::{global, load_mapping, us_federal, JobContext, RunOutcome};
use crate::{exit, explain, logging, Error};

/// `zd-sfdc-sync-global`: the Global org sync, start to exit code.
pub fn run_global(cli: GlobalCli) -> ExitCode {
    let guards = cli.guards.guard_config();
    match &cli.command {
        Some(SyncCommand::Explain { salesforce_id }) => block_on(
            &cli.common,
            explain::run(Instance::Global, &cli.common, salesforce_id.clone()),
        ),
        None => org_sync(Instance::Global, &cli.common, guards, &cli.plan),
    }
}

/// `zd-sfdc-sync-us-federal`: the US Federal org and user sync, start to exit code.
pub fn run_us_federal(cli: UsFederalCli) -> ExitCode {
    let guards = cli.guards.guard_config();
    match &cli.command {
        Some(SyncCommand::Explain { salesforce_id }) => block_on(
            &cli.common,
            explain::run(Instance::UsFederal, &cli.common, salesforce_id.clone()),
        ),
        None => org_sync(Instance::UsFederal, &cli.common, guards, &cli.plan),
    }
}

/// `salesforce-cases`: one event, the webhook server or a reconcile pass, start to
/// exit code.
pub fn run_cases(cli: CasesCli) -> ExitCode {
    let common = cli.command.common().clone();
    block_on(&common, cases(cli))
}

fn org_sync(
    instance: Instance,
    common: &CommonArgs,
    guards: GuardConfig,
    plan: &PlanArgs,
) -> ExitCode {
    block_on(common, run_org_sync(instance, common, guards, plan))
}

/// Logging, the async runtime, the run, and its exit code.
fn block_on(common: &CommonArgs, run: impl Future<Output = Result<u8, Error>>) -> ExitCode {
    logging::init(common.log_format);
    let code = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run),
        Err(e) => Err(Error::io("cannot start the async runtime")(e)),
    };
    match code {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", with_causes(&e));
            ExitCode::from(exit::for_error(&e))
        }
    }
}

/// A sandbox started for `--sandbox`; dropping it at the end of the run shuts it down.
pub type SandboxHandle = Box<dyn Any>;

/// What `--sandbox` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxRequest {
    /// The job's Zendesk instance.
    pub instance: Instance,
    /// `--sandbox-accounts N`: a generated data set of N accounts instead of the demo seed.
    pub generated_accounts: Option<usize>,
    /// The run's date.
    pub today: Date,
    /// `--zd-rate-limit`.
    pub zd_rate_limit: u32,
}

impl SandboxRequest {
    /// The request of a run of `instance` with these flags, dated `today`.
    pub fn new(instance: Instance, common: &CommonArgs, today: Date) -> SandboxRequest {
        SandboxRequest {
            instance,
            generated_accounts: common.sandbox_accounts,
            today,
            zd_rate_limit: common.zd_rate_limit,
        }
    }
}

/// The error of `--sandbox` in a build without the `sandbox` feature (exit 2).
pub fn no_sandbox() -> Error {
    Error::Config("this build has no sandbox (built without the `sandbox` feature)".into())
}

/// `--sandbox`: the simulated APIs in-process, serving the instance's data set, and
/// the configuration that points the clients at them.
#[cfg(feature = "sandbox")]
pub async fn start_sandbox(request: SandboxRequest) -> Result<(SandboxHandle, Config), Error> {
    let sandbox = sandbox::Sandbox::start_for_job(sandbox::JobSandbox {
        instance: match request.instance {
            Instance::Global => sandbox::Instance::Global,
            Instance::UsFederal => sandbox::Instance::UsFederal,
        },
        generated_accounts: request.generated_accounts,
        today: request.today,
        rate_limit_per_minute: request.zd_rate_limit,
    })
    .await
    .map_err(|e| Error::Config(format!("cannot start the sandbox: {}", with_causes(&e))))?;
    let config = Config::for_sandbox(sandbox.salesforce_url(), sandbox.zendesk_url());
    Ok((Box::new(sandbox), config))
}

/// Without the `sandbox` feature, `--sandbox` is a configuration error.
#[cfg(not(feature = "sandbox"))]
pub async fn start_sandbox(_: SandboxRequest) -> Result<(SandboxHandle, Config), Error> {
    Err(no_sandbox())
}

/// The configuration of a run: from the sandbox with `--sandbox` (kept alive by the
/// handle until the run is over), else from the environment.
pub async fn configure(
    instance: Instance,
    common: &CommonArgs,
    today: Date,
) -> Result<(Option<SandboxHandle>, Config), Error> {
    let (sandbox, mut config) = if common.sandbox {
        let (sandbox, config) = start_sandbox(SandboxRequest::new(instance, common, today)).await?;
        (Some(sandbox), config)
    } else {
        (None, Config::from_env()?)
    };
    config.retry_budget = Some(std::time::Duration::from_secs(common.retry_budget));
    Ok((sandbox, config))
}

async fn run_org_sync(
    instance: Instance,
    common: &CommonArgs,
    guards: GuardConfig,
    plan: &PlanArgs,
) -> Result<u8, Error> {
    check_report_paths(common)?;
    let today = common.today();
    let mapping = load_mapping(instance, common.mapping.as_deref())?;
    let (_sandbox, config) = configure(instance, common, today).await?;
    let ctx = JobContext {
        salesforce: config.salesforce_client()?,
        zendesk: config.zendesk_client(common.zd_rate_limit)?,
        today,
        dry_run: common.dry_run,
        guards,
        expect_plan: plan.expect_plan.clone(),
        only: plan.only.iter().cloned().collect(),
        zendesk_requests_per_minute: common.zd_rate_limit,
        account_index: markdown_or_csv(common),
    };
    let mut outcome = match instance {
        Instance::Global => global::run_global(&ctx, &mapping).await,
        Instance::UsFederal => us_federal::run_us_federal(&ctx, &mapping).await,
    };
    outcome.report.mapping_sha256 = mapping.source_sha256().map(str::to_string);
    outcome.zendesk_url = Some(config.zendesk_base_url());
    emit(&outcome, common)
}

/// The cases job's run: `Ok` carries the exit code of a run that got to its report.
async fn cases(cli: CasesCli) -> Result<u8, Error> {
    let common = cli.command.common().clone();
    check_report_paths(&common)?;
    let started = OffsetDateTime::now_utc();
    let retry = cli.command.call_retry();
    let env = setup::Environment::build(cli.instance.into(), &common, retry).await?;
    let outcome = crate::cases::run::run(&env.job, &cli.command, started).await?;
    emit(&outcome, &common)
}

/// `--report` and `--report-md` checked writable before the first request (exit 2),
/// so a typo in a path is not found after every write was applied. An existing file
/// is opened for appending (its contents stay until the run writes the report); a new
/// one is created and removed again.
pub fn check_report_paths(common: &CommonArgs) -> Result<(), Error> {
    let paths = [
        ("--report", &common.report),
        ("--report-md", &common.report_md),
    ];
    for (flag, path) in paths {
        if let Some(path) = path {
            check_writable(path).map_err(|e| {
                Error::Config(format!(
                    "{flag} {}: the report could not be written there ({e}); nothing was sent",
                    path.display()
                ))
            })?;
        }
    }
    Ok(())
}

/// Whether the run writes or prints the Markdown report.
fn markdown(common: &CommonArgs) -> bool {
    common.report_md.is_some() || common.sandbox
}

/// Whether the run writes a report that names accounts and links their orgs (Markdown or
/// CSV): only then does it keep the [`AccountIndex`](crate::jobs::AccountIndex).
fn markdown_or_csv(common: &CommonArgs) -> bool {
    markdown(common) || common.report_csv.is_some()
}

fn check_writable(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        std::fs::remove_file(path)
    }
}

/// The end of a run, the same for every binary: the JSON (`--report`) and Markdown
/// (`--report-md`) report files, the Markdown report on stdout with `--sandbox`, the
/// summary table and the error that stopped the run (if any) on stderr. Returns the
/// exit code of docs/behaviour.md §8; `Err` only when a report file cannot be written.
pub fn emit(outcome: &RunOutcome, common: &CommonArgs) -> Result<u8, Error> {
    let report = &outcome.report;
    if let Some(path) = &common.report {
        std::fs::File::create(path)
            .and_then(|file| report.write_json(file))
            .map_err(Error::io(format!(
                "cannot write the JSON report to {}",
                path.display()
            )))?;
    }
    if let Some(path) = &common.report_csv {
        let csv = crate::csv_report::findings_csv(report, &outcome.accounts);
        std::fs::write(path, csv).map_err(Error::io(format!(
            "cannot write the CSV report to {}",
            path.display()
        )))?;
    }
    // The Markdown is made only when it is written or printed.
    if markdown(common) {
        let markdown = report.to_markdown_with(&MarkdownContext {
            zendesk_url: outcome.zendesk_url.as_deref(),
            account_names: Some(&outcome.accounts.names),
            org_ids: Some(&outcome.accounts.org_ids),
        });
        if let Some(path) = &common.report_md {
            std::fs::write(path, &markdown).map_err(Error::io(format!(
                "cannot write the Markdown report to {}",
                path.display()
            )))?;
        }
        if common.sandbox {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{markdown}").map_err(Error::io("cannot print the report"))?;
        }
    }
    eprintln!("{}", report.summary_table());
    if let Some(e) = &outcome.error {
        eprintln!("error: {e}");
    }
    Ok(outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use time::OffsetDateTime;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
    }

    fn common(args: &[&str]) -> CommonArgs {
        Cli::parse_from(std::iter::once("job").chain(args.iter().copied())).common
    }

    fn outcome(error: Option<Error>) -> RunOutcome {
        let mut report = Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH);
        report.organizations.create = 3;
        RunOutcome::new(report, error)
    }

    use sync_core::Report;

    /// The account index is kept only for a report that reads it.
    #[test]
    fn only_a_markdown_or_csv_report_keeps_account_names() {
        assert!(!markdown_or_csv(&common(&["--report", "r.json"])));
        assert!(!markdown_or_csv(&common(&[])));
        assert!(markdown_or_csv(&common(&["--report-csv", "f.csv"])));
        assert!(markdown_or_csv(&common(&["--report-md", "r.md"])));
        assert!(markdown_or_csv(&common(&["--sandbox"])));
    }

    #[test]
    fn emit_writes_both_report_files_and_returns_the_exit_code() {
        let dir = std::env::temp_dir().join(format!("emit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("report.json");
        let md = dir.join("report.md");
        let args = common(&[
            "--report",
            json.to_str().unwrap(),
            "--report-md",
            md.to_str().unwrap(),
        ]);
        let done = outcome(None);
        assert_eq!(emit(&done, &args).unwrap(), exit::OK);
        assert_eq!(
            std::fs::read_to_string(&json).unwrap(),
            done.report.to_json()
        );
        assert_eq!(
            std::fs::read_to_string(&md).unwrap(),
            done.report.to_markdown()
        );
        let stopped = outcome(Some(Error::Config("bad mapping".into())));
        assert_eq!(emit(&stopped, &args).unwrap(), exit::CONFIG);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn emit_names_the_report_file_it_cannot_write() {
        let args = common(&["--report", "/nonexistent-dir/sub/report.json"]);
        let err = emit(&outcome(None), &args).unwrap_err();
        assert!(
            with_causes(&err)
                .contains("cannot write the JSON report to /nonexistent-dir/sub/report.json"),
            "{err}"
        );
        assert_eq!(exit::for_error(&err), exit::WRITE_FAILED);
    }

    #[test]
    fn report_paths_are_checked_writable_without_touching_them() {
        let dir = std::env::temp_dir().join(format!("check-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let existing = dir.join("old.json");
        std::fs::write(&existing, "previous report").unwrap();
        let fresh = dir.join("new.md");
        let args = common(&[
            "--report",
            existing.to_str().unwrap(),
            "--report-md",
            fresh.to_str().unwrap(),
        ]);
        check_report_paths(&args).unwrap();
        assert_eq!(
            std::fs::read_to_string(&existing).unwrap(),
            "previous report"
        );
        assert!(!fresh.exists());
        for (flag, bad) in [
            ("--report", "/nonexistent-dir/sub/report.json".to_string()),
            ("--report-md", dir.display().to_string()),
        ] {
            let args = common(&[flag, &bad]);
            let err = check_report_paths(&args).unwrap_err();
            assert_eq!(exit::for_error(&err), exit::CONFIG, "{err}");
            assert!(err.to_string().contains(&format!("{flag} {bad}")), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_sandbox_request_carries_the_flags() {
        let today = Date::from_calendar_date(2025, time::Month::March, 1).unwrap();
        let args = common(&[
            "--sandbox",
            "--sandbox-accounts",
            "150",
            "--zd-rate-limit",
            "900",
        ]);
        assert_eq!(
            SandboxRequest::new(Instance::UsFederal, &args, today),
            SandboxRequest {
                instance: Instance::UsFederal,
                generated_accounts: Some(150),
                today,
                zd_rate_limit: 900,
            }
        );
    }
}
