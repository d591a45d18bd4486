//! The Global job (SPEC §1, issue 7): Salesforce accounts → Zendesk Global
//! organizations, then sold-to users for the orgs that count as new (SPEC §6), then
//! the deletion of greatly-expired orgs — every read before the first write, guards
//! before any write, and a report of what was done.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use time::OffsetDateTime;
use zendesk_client::OrgId;

use super::org_sync::{self, OrgPhaseOutcome};
use super::{finish, AccountIndex, JobContext, RunOutcome};
use crate::apply::sold_to::{sold_to_users, NewOrg, SoldToOutcome};
use crate::apply::Stopped;
use crate::Error;
use sync_core::mapping::Mapping;
use sync_core::report::{Phase, ReportBuilder};
use sync_core::users::{is_new_org, UserPlan};

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
    let mut accounts = AccountIndex::default();
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
    let phase = org_sync::sync_orgs(ctx, mapping, read, Vec::new(), report, accounts).await?;
    if phase.guard_tripped {
        return Ok(());
    }
    let new_orgs = new_orgs(ctx, &phase).await?;
    if new_orgs.is_empty() {
        report.user_plan(Phase::SoldToUsers, &UserPlan::default());
    } else {
        match sold_to_users(&ctx.zendesk, &new_orgs, ctx.dry_run).await {
            Ok(outcome) => record_sold_to(report, &outcome),
            Err(Stopped { done, error }) => {
                record_sold_to(report, &done);
                return Err(error.into());
            }
        }
    }
    org_sync::delete_orgs(ctx, &phase.plan, report).await
}

/// Hands the sold-to decisions and what became of their writes to the report. When the
/// lookups were stopped before any decision (a real run with nothing applied), the
/// step was not reached.
fn record_sold_to(report: &mut ReportBuilder, outcome: &SoldToOutcome) {
    if !report.dry_run() && outcome.applied.is_none() {
        return;
    }
    report.user_plan(Phase::SoldToUsers, &outcome.plan);
    if let Some(applied) = &outcome.applied {
        report.outcomes(Phase::SoldToUsers, applied.outcomes());
    }
}

/// The orgs that count as new for the sold-to step: those created in this run (in a
/// dry run, those planned, with id 0), and matched orgs created less than 7 days ago
/// that still have no user (a run cut short or a lost answer is repaired this way).
async fn new_orgs(ctx: &JobContext, phase: &OrgPhaseOutcome) -> Result<Vec<NewOrg>, Error> {
    let plan = &phase.plan;
    let candidates = |sfid: &str| plan.sold_to.get(sfid).cloned().unwrap_or_default();
    let mut out: Vec<NewOrg> = if ctx.dry_run {
        plan.creates
            .iter()
            .map(|c| NewOrg {
                salesforce_id: c.salesforce_id.to_string(),
                organization_id: 0,
                candidates: candidates(&c.salesforce_id),
                user_count: 0,
            })
            .collect()
    } else {
        phase
            .created
            .iter()
            .map(|(sfid, id)| NewOrg {
                salesforce_id: sfid.clone(),
                organization_id: *id,
                candidates: candidates(sfid),
                user_count: 0,
            })
            .collect()
    };
    let deleted: BTreeSet<&str> = plan
        .deletes
        .iter()
        .map(|d| d.salesforce_id.as_str())
        .collect();
    let account_of: BTreeMap<u64, &String> = plan.org_ids.iter().map(|(s, id)| (*id, s)).collect();
    for org in &phase.orgs {
        let Some(sfid) = account_of.get(&org.id).copied() else {
            continue;
        };
        // Only recent orgs with sold-to contacts are worth a lookup of their users.
        if deleted.contains(sfid.as_str())
            || phase.created.contains_key(sfid)
            || !plan.sold_to.contains_key(sfid)
            || !is_new_org(org, 0, ctx.today)
        {
            continue;
        }
        let mut users = ctx.zendesk.organizations().users(OrgId(org.id));
        let has_user = users.try_next().await?.is_some();
        if !has_user {
            tracing::info!(salesforce_id = %sfid, org = org.id, "recent org without users still counts as new");
            out.push(NewOrg {
                salesforce_id: sfid.clone(),
                organization_id: org.id,
                candidates: candidates(sfid),
                user_count: 0,
            });
        }
    }
    out.sort_by(|a, b| a.salesforce_id.cmp(&b.salesforce_id));
    Ok(out)
}
