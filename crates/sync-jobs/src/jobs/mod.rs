//! The sync jobs as the binaries call them: one entry point per job
//! ([`global::run_global`], [`us_federal::run_us_federal`], both on [`org_sync`]), the context
//! they run in, and the outcome they hand back (a report and, when the run could not
//! finish, the error that stopped it). What the binaries share around that call (their
//! `main`, the report files and the exit code) is in [`crate::shell`].

pub mod global;
pub mod org_sync;
pub mod us_federal;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use time::{Date, OffsetDateTime};

use crate::apply::federal_users::UsersApplied;
use crate::{exit, Error};
use sync_core::guards::GuardConfig;
use sync_core::mapping::{Instance, Mapping};
use sync_core::users::UserAction;
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
pub fn finish_report(report: &mut Report, ctx: &JobContext) {
    report.api_calls.salesforce = ctx.salesforce.call_counts().values().sum();
    report.api_calls.zendesk = ctx.zendesk.total_requests();
    report.finished_at = Some(OffsetDateTime::now_utc());
}

/// The `errors[]` entry of kind [`RUN_STOPPED`] for the error that stopped a run, so
/// the report itself says why it ends where it does (e.g. the Salesforce daily limit
/// exhausted during the reads, with nothing written), as the cases job's does.
pub fn record_stop(report: &mut Report, error: &Error) {
    report.record_failure(RUN_STOPPED, None, None, error.to_string());
}

/// The `errors[]` kind of the error that stopped a run.
pub const RUN_STOPPED: &str = "run_stopped";

/// After user writes stopped part-way (US Federal users, Global sold-to users):
/// `changes[]` keeps the confirmed writes, and a `not_attempted` entry counts the rest.
/// `what` names the writes in that entry ("user", "sold-to user").
pub fn record_users_stopped(
    report: &mut Report,
    what: &str,
    planned: usize,
    done: &UsersApplied,
    error: &zendesk_client::Error,
) {
    let confirmed: BTreeSet<&str> = done.done.iter().map(UserAction::email).collect();
    report.keep_confirmed_changes("create_user", &confirmed);
    report.keep_confirmed_changes("update_user", &confirmed);
    let left = planned.saturating_sub(done.done.len() + done.failed.len());
    report.record_not_attempted(format!(
        "the run stopped on a Zendesk error ({error}): {left} of {planned} {what} writes were \
         not applied (not sent, or sent in the call that failed); the next run retries them"
    ));
}

/// Turns planned user counts and changes into what was done (US Federal users and
/// Global sold-to users alike): failed writes leave
/// `changes[]`, count in `users.failed`, and become `errors[]` entries
/// (`user_create_failed`, `user_update_failed`) with Zendesk's message.
pub fn record_users_applied(report: &mut Report, applied: &UsersApplied) {
    let creates = applied
        .done
        .iter()
        .filter(|a| matches!(a, UserAction::Create { .. }))
        .count();
    report.users.create = creates;
    report.users.update = applied.done.len() - creates;
    report.users.failed += applied.failed.len();
    let failed: BTreeSet<&str> = applied.failed.iter().map(|f| f.action.email()).collect();
    report.changes.retain(|c| {
        !(matches!(c.action.as_str(), "create_user" | "update_user")
            && c.email.as_deref().is_some_and(|e| failed.contains(e)))
    });
    for f in &applied.failed {
        let kind = match f.action {
            UserAction::Create { .. } => "user_create_failed",
            UserAction::Update { .. } => "user_update_failed",
        };
        report.record_failure(
            kind,
            None,
            Some(f.action.email()),
            format!("{}: {}", f.code, f.message),
        );
    }
}

/// Removes the `create_user` changes of `emails`: creates that failed because the user
/// existed, whose lookup found it left where it is (a finding, not a write).
pub fn drop_creates_of(report: &mut Report, emails: &[String]) {
    if emails.is_empty() {
        return;
    }
    report.changes.retain(|c| {
        !(c.action == "create_user" && c.email.as_ref().is_some_and(|e| emails.contains(e)))
    });
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
