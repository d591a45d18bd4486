//! One cases run, start to report: the command (an event, a reconcile pass, or the
//! receiver's session) hands back its outcomes, and the report is built from them in
//! one place ([`CasesReportBuilder`], docs/behaviour.md §8).

use time::OffsetDateTime;

use super::args::Command;
use super::{serve, setup, CasesJob};
use crate::jobs::{stamp_identity, RunOutcome};
use crate::Error;
use sync_core::report::CasesReportBuilder;

/// The report's `sync` name of the cases job.
pub const SYNC_NAME: &str = "salesforce-cases";

/// Runs `command` with `job` and builds its report: every ticket's outcomes, what was
/// read, the error that stopped the run (`run_stopped`, with the outcomes before it),
/// the API calls and the identity. `Err` only when the run could not start: the
/// webhook secret missing, the listen address not bound (exit 2, no report).
pub async fn run(
    job: &CasesJob,
    command: &Command,
    started: OffsetDateTime,
) -> Result<RunOutcome, Error> {
    let mut report = CasesReportBuilder::new(SYNC_NAME, job.dry_run, started);
    let error = match command {
        Command::Event(a) => job
            .handle_event(a.ticket_id, a.event)
            .await
            .into_report(&mut report),
        Command::Reconcile(a) => job
            .reconcile(a.since, started)
            .await
            .into_report(&mut report),
        Command::Serve(a) => {
            let secret = setup::webhook_secret()?;
            report = serve::serve(job.clone(), a, secret, report).await?;
            None
        }
    };
    if let Some(e) = &error {
        report.stopped(e.to_string());
    }
    report.api_calls(job.api_calls());
    report.finished(OffsetDateTime::now_utc());
    let mut report = report.build();
    stamp_identity(&mut report);
    report.mapping_sha256 = job.mapping.source_sha256().map(str::to_string);
    Ok(RunOutcome::new(report, error))
}
