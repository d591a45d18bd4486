//! `salesforce-cases`: Zendesk tickets → Salesforce Cases (SPEC §7), by CI trigger
//! (`event`), by signed webhook (`serve`), and by a reconcile pass (`reconcile`). One
//! binary for both Zendesk instances: `--instance`, the Zendesk URL and the secrets in
//! the environment decide which.

mod args;
mod serve;
mod setup;

use std::process::ExitCode;

use clap::Parser;
use sync_core::cases::{CasesJob, TicketEvent};
use sync_core::jobs::{binary, RunOutcome};
use sync_core::report::CaseCounts;
use sync_core::{exit, Report};
use time::OffsetDateTime;

use args::{Cli, Command};

/// The report's `sync` name.
const NAME: &str = "salesforce-cases";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::CONFIG));
        }
    };
    sync_core::logging::init(cli.command.common().log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{NAME}: cannot start the async runtime: {e}");
            return ExitCode::from(exit::WRITE_FAILED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{NAME}: {e:#}");
            ExitCode::from(exit::for_error(&e))
        }
    }
}

/// Runs the chosen command; `Ok` carries the exit code of a run that got to its report.
async fn run(cli: Cli) -> anyhow::Result<u8> {
    let common = cli.command.common().clone();
    let started = OffsetDateTime::now_utc();
    let env = setup::Environment::build(cli.instance, &common).await?;
    let job = env.job.clone();
    let mut report = Report::new(NAME, common.dry_run, started);
    report.cases = Some(CaseCounts::default());
    let result: Result<(), sync_core::Error> = match &cli.command {
        Command::Event(a) => event(&job, a.ticket_id, a.event, &mut report).await,
        Command::Reconcile(a) => job.reconcile(a.since, started, &mut report).await,
        Command::Serve(a) => {
            let secret = setup::webhook_secret()?;
            report = serve::serve(job.clone(), a, secret, report).await?;
            Ok(())
        }
    };
    if let Err(e) = &result {
        report.errors.push(sync_core::report::ReportError {
            kind: "run_stopped".to_string(),
            salesforce_id: None,
            email: None,
            ticket_id: None,
            message: e.to_string(),
        });
    }
    job.record_api_calls(&mut report);
    report.finished_at = Some(OffsetDateTime::now_utc());
    let outcome = RunOutcome {
        report,
        error: result.err(),
    };
    binary::emit(&outcome, &common)
}

async fn event(
    job: &CasesJob,
    ticket_id: u64,
    event: TicketEvent,
    report: &mut Report,
) -> Result<(), sync_core::Error> {
    job.handle_event(ticket_id, event, report).await.map(|_| ())
}
