//! What the job binaries share around their one call into sync-core: the whole `main`
//! of an org-sync binary ([`main`]: logging, runtime, configuration from the
//! environment or an in-process sandbox, the job, the exit code) and the end of every
//! run ([`emit`]: report files, Markdown in sandbox mode, summary table, exit code).
//!
//! The sandbox itself stays behind each binary's `sandbox` cargo feature, so a binary
//! hands [`main`] the function that starts it ([`no_sandbox`] is its error without the
//! feature).

use std::any::Any;
use std::future::Future;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use time::Date;

use crate::cli::CommonArgs;
use crate::config::Config;
use crate::guards::GuardConfig;
use crate::jobs::{global, load_mapping, us_federal, JobContext, RunOutcome};
use crate::mapping::Instance;
use crate::{exit, logging, Error};

/// A sandbox a binary started; dropping it at the end of the run shuts it down.
pub type SandboxHandle = Box<dyn Any>;

/// What `--sandbox` asks a binary to start.
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

/// The `main` of an org-sync binary once its flags are parsed: logging, the async
/// runtime, the mapping of `instance`, configuration from the environment (or, with
/// `--sandbox`, from the sandbox `start_sandbox` starts), the instance's job
/// ([`global::run_global`] or [`us_federal::run_us_federal`]), then [`emit`]. An error
/// that stops the run before its report is printed with its causes and mapped by
/// [`exit::for_error`].
pub fn main<S, F>(
    instance: Instance,
    common: &CommonArgs,
    guards: GuardConfig,
    start_sandbox: S,
) -> ExitCode
where
    S: FnOnce(SandboxRequest) -> F,
    F: Future<Output = anyhow::Result<(SandboxHandle, Config)>>,
{
    logging::init(common.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::API);
        }
    };
    match runtime.block_on(run(instance, common, guards, start_sandbox)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::for_error(&e))
        }
    }
}

async fn run<S, F>(
    instance: Instance,
    common: &CommonArgs,
    guards: GuardConfig,
    start_sandbox: S,
) -> anyhow::Result<u8>
where
    S: FnOnce(SandboxRequest) -> F,
    F: Future<Output = anyhow::Result<(SandboxHandle, Config)>>,
{
    let today = common.today();
    let mapping = load_mapping(instance, common.mapping.as_deref())?;
    // The sandbox (if any) lives until the run is over.
    let (_sandbox, config) = if common.sandbox {
        let (sandbox, config) = start_sandbox(SandboxRequest::new(instance, common, today)).await?;
        (Some(sandbox), config)
    } else {
        (None, Config::from_env()?)
    };
    let ctx = JobContext {
        salesforce: config.salesforce_client()?,
        zendesk: config.zendesk_client(common.zd_rate_limit)?,
        today,
        dry_run: common.dry_run,
        guards,
    };
    let outcome = match instance {
        Instance::Global => global::run_global(&ctx, &mapping).await,
        Instance::UsFederal => us_federal::run_us_federal(&ctx, &mapping).await,
    };
    emit(&outcome, common)
}

/// The end of a run, the same for every binary: the JSON (`--report`) and Markdown
/// (`--report-md`) report files, the Markdown report on stdout with `--sandbox`, the
/// summary table and the error that stopped the run (if any) on stderr. Returns the
/// exit code of SPEC §8; `Err` only when a report file cannot be written.
pub fn emit(outcome: &RunOutcome, common: &CommonArgs) -> anyhow::Result<u8> {
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
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", report.to_markdown()).context("cannot print the report")?;
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
        RunOutcome { report, error }
    }

    use crate::Report;

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
            format!("{err:#}")
                .contains("cannot write the JSON report to /nonexistent-dir/sub/report.json"),
            "{err:#}"
        );
        assert_eq!(exit::for_error(&err), exit::WRITE_FAILED);
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
