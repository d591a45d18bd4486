//! The sync jobs as the binaries call them: one entry point per job
//! ([`global::run_global`], [`us_federal::run_us_federal`], both on [`org_sync`]), the context
//! they run in, and the outcome they hand back (a report and, when the run could not
//! finish, the error that stopped it). What the binaries share around that call (their
//! `main`, the report files and the exit code) is in [`crate::shell`].

pub mod global;
pub mod org_sync;
pub mod us_federal;

use std::path::Path;
use std::time::{Duration, Instant};

use time::{Date, OffsetDateTime};

use crate::{exit, Error};
use sync_core::guards::GuardConfig;
use sync_core::mapping::{Instance, Mapping};
use sync_core::report::{ApiCalls, ReportBuilder};
use sync_core::Report;

/// Everything a job run needs: the two clients and the run's settings.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// Salesforce.
    pub salesforce: sfdc_client::Client,
    /// Zendesk.
    pub zendesk: zendesk_client::Client,
    /// The run's date (UTC).
    pub today: Date,
    /// Plan and report, write nothing.
    pub dry_run: bool,
    /// Safety guard settings.
    pub guards: GuardConfig,
    /// Zendesk's request limit per minute (`--zd-rate-limit`): what the user reads are
    /// weighed at.
    pub zendesk_requests_per_minute: u32,
}

/// What a run hands back to its binary.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report, as far as the run got.
    pub report: Report,
    /// The error that stopped the run, if it could not finish.
    pub error: Option<Error>,
}

impl RunOutcome {
    /// The exit code of SPEC §8.
    pub fn exit_code(&self) -> u8 {
        match &self.error {
            Some(e) => exit::for_error(e),
            None => exit::for_report(&self.report),
        }
    }
}

/// The mapping of a run: `--mapping FILE` or the instance's embedded one. A file
/// written for the other instance is refused.
pub fn load_mapping(instance: Instance, path: Option<&Path>) -> Result<Mapping, Error> {
    let mapping = match path {
        Some(p) => Mapping::load(p)?,
        None => Mapping::embedded(instance)?,
    };
    if mapping.instance() != instance {
        return Err(Error::Config(format!(
            "mapping file is for instance {:?}, this job syncs {:?}",
            mapping.instance(),
            instance
        )));
    }
    Ok(mapping)
}

/// Stamps the end of a run: API calls made by both clients and `finished_at`.
pub fn finish_report(report: &mut ReportBuilder, ctx: &JobContext) {
    report.api_calls(ApiCalls {
        salesforce: ctx.salesforce.call_counts().values().sum(),
        zendesk: ctx.zendesk.total_requests(),
    });
    report.finished(OffsetDateTime::now_utc());
}

/// The end of a sync run: the error that stopped it (if any) logged and handed to the
/// report (`run_stopped`, so the report itself says why it ends where it does), the
/// API calls and `finished_at`, and the report built.
pub fn finish(
    ctx: &JobContext,
    mut report: ReportBuilder,
    result: Result<(), Error>,
) -> RunOutcome {
    if let Err(e) = &result {
        tracing::error!(error = %e, "run stopped");
        report.stopped(e.to_string());
    }
    finish_report(&mut report, ctx);
    RunOutcome {
        report: report.build(),
        error: result.err(),
    }
}

/// Logs progress of a long phase at most every few seconds.
#[derive(Debug)]
pub(crate) struct Progress {
    what: &'static str,
    last: Instant,
    count: usize,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(3);

    pub(crate) fn new(what: &'static str) -> Progress {
        Progress {
            what,
            last: Instant::now(),
            count: 0,
        }
    }

    /// Counts one more item, logging if the last line is old enough.
    pub(crate) fn tick(&mut self) {
        self.count += 1;
        if self.last.elapsed() >= Self::EVERY {
            self.last = Instant::now();
            tracing::info!(read = self.count, "reading {}", self.what);
        }
    }

    /// Logs the total.
    pub(crate) fn done(&self) {
        tracing::info!(read = self.count, "read all {}", self.what);
    }
}
