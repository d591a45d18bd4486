//! The sync jobs as the binaries call them: one entry point per job
//! ([`global::run_global`], [`us_federal::run_us_federal`], both on [`org_sync`]), the context
//! they run in, and the outcome they hand back (a report and, when the run could not
//! finish, the error that stopped it). What the binaries share around that call (their
//! `main`, the report files and the exit code) is in [`crate::shell`].

pub mod global;
pub mod org_sync;
pub mod us_federal;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use time::{Date, OffsetDateTime};

use crate::{exit, Error};
use sync_core::guards::GuardConfig;
use sync_core::mapping::{Instance, Mapping};
use sync_core::report::{ApiCalls, ReportBuilder};
use sync_core::{Report, ZendeskOrgId};

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
    /// `--expect-plan`: the `plan_hash` the fresh plan must have, else exit 3.
    pub expect_plan: Option<String>,
    /// `--only`: write only for these accounts (empty: for every account).
    pub only: BTreeSet<String>,
    /// Zendesk's request limit per minute (`--zd-rate-limit`): what the user reads are
    /// weighed at.
    pub zendesk_requests_per_minute: u32,
    /// Whether the run keeps its [`AccountIndex`] (account names, org ids): only the CSV
    /// and Markdown reports read it, and at 100k accounts it is ~15 MB held for the
    /// whole run (issue 13: nothing kept that nothing reads).
    pub account_index: bool,
}

/// What a run hands back to its binary.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report, as far as the run got.
    pub report: Report,
    /// The error that stopped the run, if it could not finish.
    pub error: Option<Error>,
    /// The Zendesk account's base URL, for links in the Markdown report.
    pub zendesk_url: Option<String>,
    /// Account names and Zendesk org ids by Salesforce id, for the CSV and Markdown
    /// reports (the JSON report names accounts by id only).
    pub accounts: AccountIndex,
}

/// Account names and Zendesk org ids by Salesforce id, as far as the run read them.
#[derive(Debug, Clone, Default)]
pub struct AccountIndex {
    /// Salesforce id → account name.
    pub names: BTreeMap<String, String>,
    /// Salesforce id → the Zendesk org matched or created.
    pub org_ids: BTreeMap<String, ZendeskOrgId>,
    /// Whether [`add_names`](Self::add_names) and [`add_org_ids`](Self::add_org_ids)
    /// record anything ([`JobContext::account_index`]).
    kept: bool,
}

impl AccountIndex {
    /// An index that records what a run hands it when `kept`, and nothing otherwise.
    pub fn new(kept: bool) -> AccountIndex {
        AccountIndex {
            kept,
            ..AccountIndex::default()
        }
    }

    /// Records account names (Salesforce id, name), if the index is kept.
    pub fn add_names(&mut self, names: impl IntoIterator<Item = (String, String)>) {
        if self.kept {
            self.names.extend(names);
        }
    }

    /// Records org ids (Salesforce id, org id), if the index is kept.
    pub fn add_org_ids(&mut self, ids: impl IntoIterator<Item = (String, ZendeskOrgId)>) {
        if self.kept {
            self.org_ids.extend(ids);
        }
    }
}

impl RunOutcome {
    /// The outcome of a run: its report, and the error that stopped it if any.
    pub fn new(report: Report, error: Option<Error>) -> RunOutcome {
        RunOutcome {
            report,
            error,
            zendesk_url: None,
            accounts: AccountIndex::default(),
        }
    }
}

/// The report identity of docs/behaviour.md §8 that every run carries: the binary's version and
/// the git commit it was built from (`unknown` without git at build time).
pub fn stamp_identity(report: &mut Report) {
    report.version = Some(crate::cli::binary_version().to_string());
    report.commit = Some(env!("SYNC_GIT_COMMIT").to_string());
}

impl RunOutcome {
    /// The exit code of docs/behaviour.md §8.
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
    accounts: AccountIndex,
) -> RunOutcome {
    if let Err(e) = &result {
        tracing::error!(error = %e, "run stopped");
        report.stopped(e.to_string());
    }
    finish_report(&mut report, ctx);
    let mut report = report.build();
    stamp_identity(&mut report);
    let mut outcome = RunOutcome::new(report, result.err());
    outcome.accounts = accounts;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_index_records_only_when_kept() {
        for kept in [false, true] {
            let mut index = AccountIndex::new(kept);
            index.add_names([("001A".to_string(), "Acme".to_string())]);
            index.add_org_ids([("001A".to_string(), ZendeskOrgId(7))]);
            assert_eq!(index.names.len(), usize::from(kept), "kept {kept}");
            assert_eq!(
                index.org_ids.get("001A").copied(),
                kept.then_some(ZendeskOrgId(7))
            );
        }
    }
}
