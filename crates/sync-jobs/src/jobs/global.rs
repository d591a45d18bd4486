//! The Global job (docs/behaviour.md §1, issue 7): Salesforce accounts → Zendesk Global
//! organizations, then sold-to users for the orgs that count as new (docs/behaviour.md §6), then
//! the deletion of greatly-expired orgs — every read before the first write (the
//! users that decide the sold-to writes included: [`UserDirectory`]), guards before
//! any write, and a report of what was done. Only confirmations read after a write.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::org_sync::{self, OrgPhaseOutcome, PlannedOrgs};
use super::{finish, AccountIndex, JobContext, RunOutcome};
use crate::apply::sold_to::{self, sold_to_users, NewOrg, ReadCosts, SoldToOutcome};
use crate::apply::Stopped;
use crate::directory::UserDirectory;
use crate::Error;
use sync_core::mapping::Mapping;
use sync_core::report::{Phase, ReportBuilder};
use sync_core::users::{is_new_org, UserPlan};
use sync_core::{SalesforceId, ZendeskOrgId};

/// The binary's name, the report's `sync`.
pub const SYNC_NAME: &str = "zd-sfdc-sync-global";

/// Runs the whole Global job. Never panics on data; the outcome carries the report
/// (as far as the run got) and the error that stopped it, if any.
pub async fn run_global(ctx: &JobContext, mapping: &Mapping) -> RunOutcome {
    let mut report = ReportBuilder::new(
        SYNC_NAME,
        ctx.dry_run,
        OffsetDateTime::now_utc(),
        &[Phase::OrgWrites, Phase::SoldToUsers, Phase::OrgDeletes],
    );
    let mut accounts = AccountIndex::new(ctx.account_index);
    let result = run(ctx, mapping, &mut report, &mut accounts).await;
    finish(ctx, report, result, accounts)
}

async fn run(
    ctx: &JobContext,
    mapping: &Mapping,
    report: &mut ReportBuilder,
    accounts: &mut AccountIndex,
) -> Result<(), Error> {
    let mapping = &org_sync::check_fields(&ctx.zendesk, mapping).await?;
    let read = org_sync::read(ctx, mapping).await?;
    let orgs_in_zendesk = read.orgs.len();
    let planned = org_sync::plan_orgs(ctx, mapping, read, Vec::new(), report, accounts);
    if planned.guard_tripped {
        return Ok(());
    }
    // Reads before writes, users included: the sold-to emails of the orgs to create
    // are known from Salesforce, the recent orgs from their `created_at`.
    let recent = recent_orgs(ctx, &planned);
    // Nothing after this reads the orgs: they are not held through the user reads and
    // the writes (issue 13).
    let planned = PlannedOrgs {
        orgs: Vec::new(),
        ..planned
    };
    let wanted = sold_to::wanted(
        planned
            .plan
            .creates
            .iter()
            .map(|c| c.salesforce_id.as_str())
            .chain(recent.iter().map(|(sfid, _)| sfid.as_str()))
            .filter_map(|sfid| planned.sold_to.get(sfid))
            .flatten(),
        &recent.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
    );
    let costs = ReadCosts {
        orgs_in_zendesk,
        requests_per_minute: ctx.zendesk_requests_per_minute,
    };
    let mut directory = match UserDirectory::read(
        &ctx.zendesk,
        &wanted,
        costs.orgs_in_zendesk,
        costs.requests_per_minute,
    )
    .await
    {
        Ok(directory) => directory,
        Err(e) => {
            // Nothing written: the report's org plan goes under `planned`, each phase
            // with a `not_attempted` entry, and the error stops the run (exit 4).
            tracing::error!(error = %e, "the run stopped while reading the Zendesk users: nothing was written");
            return Err(e.into());
        }
    };
    if directory.way().is_some() {
        report.zendesk_users(directory.users_read());
    }
    let mut phase = org_sync::apply_orgs(ctx, mapping, planned, report, accounts).await?;
    let new_orgs = new_orgs(ctx, &mut phase, &recent, &directory);
    if new_orgs.is_empty() {
        report.user_plan(Phase::SoldToUsers, &UserPlan::default());
    } else {
        let leaving: BTreeSet<ZendeskOrgId> = phase.plan.deletes.iter().map(|d| d.id).collect();
        let result = sold_to_users(
            &ctx.zendesk,
            &new_orgs,
            &mut directory,
            &leaving,
            costs,
            ctx.dry_run,
        )
        .await;
        // Nothing after this reads the users or the new orgs: they are not held while
        // the step is recorded and the deletions run (issue 13).
        drop(new_orgs);
        drop(directory);
        match result {
            Ok(outcome) => record_sold_to(report, &outcome),
            Err(Stopped { done, error }) => {
                record_sold_to(report, &done);
                return Err(error.into());
            }
        }
    }
    org_sync::delete_orgs(ctx, &phase.plan, report).await
}

/// Matched orgs that still count as new (docs/behaviour.md §6: created less than 7 days before
/// today) and have sold-to contacts, other than those this run deletes: account →
/// org id. Each of their sold-to emails is checked again, email by email.
fn recent_orgs(ctx: &JobContext, planned: &PlannedOrgs) -> Vec<(SalesforceId, ZendeskOrgId)> {
    let plan = &planned.plan;
    let deleted: BTreeSet<&str> = plan
        .deletes
        .iter()
        .map(|d| d.salesforce_id.as_str())
        .collect();
    let account_of: BTreeMap<ZendeskOrgId, SalesforceId> =
        plan.org_ids.iter().map(|(s, id)| (*id, *s)).collect();
    let mut out: Vec<(SalesforceId, ZendeskOrgId)> = planned
        .orgs
        .iter()
        .filter(|org| is_new_org(org, ctx.today))
        .filter_map(|org| {
            let sfid = account_of.get(&org.id).copied()?;
            let wanted = !deleted.contains(sfid.as_str()) && planned.sold_to.contains_key(&sfid);
            wanted.then_some((sfid, org.id))
        })
        .collect();
    out.sort();
    out
}

/// The orgs that count as new for the sold-to step: those created in this run (in a
/// dry run, those planned, with id 0) and the recent ones, with the users the directory
/// saw in them. Their sold-to contacts are moved out of `phase` (each account is one
/// org: created and recent orgs are apart).
fn new_orgs(
    ctx: &JobContext,
    phase: &mut OrgPhaseOutcome,
    recent: &[(SalesforceId, ZendeskOrgId)],
    directory: &UserDirectory,
) -> Vec<NewOrg> {
    let plan = &phase.plan;
    let sold_to = &mut phase.sold_to;
    let mut candidates = |sfid: &SalesforceId| sold_to.remove(sfid).unwrap_or_default();
    let mut out: Vec<NewOrg> = if ctx.dry_run {
        plan.creates
            .iter()
            .map(|c| NewOrg {
                salesforce_id: c.salesforce_id.to_string(),
                organization_id: ZendeskOrgId(0),
                candidates: candidates(&c.salesforce_id),
                user_count: 0,
            })
            .collect()
    } else {
        phase
            .created
            .iter()
            .map(|(sfid, id)| NewOrg {
                salesforce_id: sfid.to_string(),
                organization_id: *id,
                candidates: candidates(sfid),
                user_count: 0,
            })
            .collect()
    };
    out.extend(recent.iter().map(|(sfid, id)| NewOrg {
        salesforce_id: sfid.to_string(),
        organization_id: *id,
        candidates: candidates(sfid),
        user_count: directory.org_user_count(*id),
    }));
    out.sort_by(|a, b| a.salesforce_id.cmp(&b.salesforce_id));
    out
}

/// Hands the sold-to decisions (the findings of the confirmation lookups included) and
/// what became of their writes to the report. A real run with nothing applied did not
/// reach the step.
fn record_sold_to(report: &mut ReportBuilder, outcome: &SoldToOutcome) {
    if !report.dry_run() && outcome.applied.is_none() {
        return;
    }
    report.user_plan(Phase::SoldToUsers, &outcome.plan);
    if let Some(applied) = &outcome.applied {
        report.outcomes(Phase::SoldToUsers, applied.outcomes());
    }
}
