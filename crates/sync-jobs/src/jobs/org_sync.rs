//! The one organization-sync code path both instances use (docs/behaviour.md §4–§5): check the
//! mapping against Zendesk's `organization_fields`, read the accounts and the orgs
//! concurrently, plan, check the guards, and apply creates and updates as bulk jobs.
//! Deletions ([`delete_orgs`]) are a separate step because the Global job runs them
//! last, after the sold-to users.
//!
//! The US Federal job reads its contacts and users alongside [`read`], then calls
//! [`sync_orgs`] with its own extra guard, so every read precedes the first write. The
//! Global job calls its two halves, [`plan_orgs`] and [`apply_orgs`], and reads the
//! users its sold-to step needs between them.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::{AccountIndex, JobContext};
use crate::apply::orgs;
use crate::apply::Stopped;
use crate::convert::{zendesk_org, zendesk_org_field};
use crate::progress::{Progress, Total};
use crate::Error;
use sync_core::diff::plan_decoded;
use sync_core::guards::{any_tripped, check_expected_plan, check_guards, Guard};
use sync_core::mapping::{Instance, Mapping};
use sync_core::model::Account;
use sync_core::records::{AccountDecoder, Decoded};
use sync_core::report::{Phase, ReportBuilder};
use sync_core::users::SoldTo;
use sync_core::zendesk::SharedFieldKeys;
use sync_core::{soql, Plan, SalesforceId, ZendeskOrg, ZendeskOrgId};

/// What the reads of an org sync produced.
#[derive(Debug, Clone, Default)]
pub struct OrgRead {
    /// Account records the instance's query returned (valid or not).
    pub salesforce_records: usize,
    /// The accounts, decoded as they streamed in, and the invalid ones as findings.
    pub accounts: Decoded<Account>,
    /// Every Zendesk organization.
    pub orgs: Vec<ZendeskOrg>,
}

/// The result of the org phase.
#[derive(Debug, Clone, Default)]
pub struct OrgPhaseOutcome {
    /// The plan (as planned, before any write), shared with the report.
    pub plan: Arc<Plan>,
    /// The plan's sold-to contacts (Global), as [`PlannedOrgs::sold_to`].
    pub sold_to: BTreeMap<SalesforceId, Vec<SoldTo>>,
    /// The orgs read.
    pub orgs: Vec<ZendeskOrg>,
    /// Account → org id after this phase: matched orgs and the orgs created.
    pub org_ids: BTreeMap<SalesforceId, ZendeskOrgId>,
    /// Account → id of the orgs created in this run.
    pub created: BTreeMap<SalesforceId, ZendeskOrgId>,
    /// A guard tripped: nothing was written and the run must stop (exit 3).
    pub guard_tripped: bool,
}

/// The instance's account query.
pub fn accounts_query(instance: Instance) -> &'static str {
    match instance {
        Instance::Global => soql::GLOBAL_ACCOUNTS,
        Instance::UsFederal => soql::US_FEDERAL_ACCOUNTS,
    }
}

/// Reads `organization_fields` and checks that every mapped key and drop-down option
/// exists (exit 2 otherwise, naming them).
pub async fn check_fields(
    zendesk: &zendesk_client::Client,
    mapping: &Mapping,
) -> Result<Mapping, Error> {
    let fields: Vec<_> = zendesk
        .organizations()
        .fields()
        .await?
        .into_iter()
        .map(zendesk_org_field)
        .collect();
    mapping.check_against_zendesk(&fields)?;
    let mut typed = mapping.clone();
    typed.set_zendesk_types(&fields);
    Ok(typed)
}

/// Streams every record of a SOQL query, logging progress. A record the client could
/// not decode is logged and left out (it cannot be one of ours: records are raw JSON).
pub async fn read_records(
    salesforce: &sfdc_client::Client,
    query: &str,
    what: &'static str,
) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    each_record(salesforce, query, what, &mut out).await?;
    Ok(out)
}

/// The most records [`each_record`] has a [`RecordSink`] reserve room for on
/// Salesforce's `totalSize` (a larger result still grows as it is read).
const RESERVE_AT_MOST: usize = 2_000_000;

/// Where [`each_record`] puts the records of a query.
trait RecordSink {
    /// The query's `totalSize`, once the first page has it: room is reserved once rather
    /// than the list grown (and copied) as the pages arrive.
    fn reserve(&mut self, total: usize);
    /// One record.
    fn push(&mut self, record: Value);
}

impl RecordSink for Vec<Value> {
    fn reserve(&mut self, total: usize) {
        Vec::reserve(self, total);
    }
    fn push(&mut self, record: Value) {
        Vec::push(self, record);
    }
}

impl RecordSink for AccountDecoder {
    fn reserve(&mut self, total: usize) {
        AccountDecoder::reserve(self, total);
    }
    fn push(&mut self, record: Value) {
        AccountDecoder::push(self, record);
    }
}

/// Hands every record of a SOQL query to `sink` as its page arrives, logging progress;
/// an undecodable record is logged and left out.
async fn each_record(
    salesforce: &sfdc_client::Client,
    query: &str,
    what: &'static str,
    sink: &mut impl RecordSink,
) -> Result<(), Error> {
    let mut progress = Progress::read(what, Total::Unknown);
    let (stream, total) = salesforce.query_with_total::<Value>(query);
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let item = item?;
        if progress.done() == 0 {
            if let Some(n) = total.get() {
                progress.set_total(Total::Exact(n));
                sink.reserve(
                    usize::try_from(n).map_or(RESERVE_AT_MOST, |n| n.min(RESERVE_AT_MOST)),
                );
            }
        }
        progress.add(1);
        match item {
            Ok(record) => sink.push(record),
            Err(bad) => tracing::warn!(error = %bad, "undecodable {what} record left out"),
        }
    }
    progress.read_all();
    Ok(())
}

/// Streams every Zendesk organization (cursor pages of 100), logging progress.
pub async fn read_orgs(zendesk: &zendesk_client::Client) -> Result<Vec<ZendeskOrg>, Error> {
    let mut progress = Progress::read("Zendesk organizations", Total::Unknown);
    let mut out = Vec::new();
    let mut keys = SharedFieldKeys::default();
    let mut stream = zendesk.organizations().list();
    while let Some(org) = stream.try_next().await? {
        progress.add(1);
        out.push(zendesk_org(org, &mut keys));
    }
    out.shrink_to_fit();
    progress.read_all();
    Ok(out)
}

/// Streams the instance's account query, decoding each record as it arrives (only the
/// typed accounts are kept), logging progress.
pub async fn read_accounts(
    salesforce: &sfdc_client::Client,
    instance: Instance,
) -> Result<(usize, Decoded<Account>), Error> {
    let mut decoder = AccountDecoder::new(instance);
    each_record(
        salesforce,
        accounts_query(instance),
        "Salesforce accounts",
        &mut decoder,
    )
    .await?;
    Ok((decoder.records(), decoder.finish()))
}

/// Reads the instance's accounts and the Zendesk orgs concurrently.
pub async fn read(ctx: &JobContext, mapping: &Mapping) -> Result<OrgRead, Error> {
    let ((salesforce_records, accounts), orgs) = tokio::try_join!(
        read_accounts(&ctx.salesforce, mapping.instance()),
        read_orgs(&ctx.zendesk),
    )?;
    Ok(OrgRead {
        salesforce_records,
        accounts,
        orgs,
    })
}

/// Plans the org sync of `read`, hands the plan and the guards to `report`, and,
/// unless a guard tripped or this is a dry run, applies the creates and updates and
/// hands over their outcomes. `extra_guards` (e.g. the contacts guard) stop the run
/// like the org guards. Deletions are left to [`delete_orgs`].
pub async fn sync_orgs(
    ctx: &JobContext,
    mapping: &Mapping,
    read: OrgRead,
    extra_guards: Vec<Guard>,
    report: &mut ReportBuilder,
    accounts: &mut AccountIndex,
) -> Result<OrgPhaseOutcome, Error> {
    let planned = plan_orgs(ctx, mapping, read, extra_guards, report, accounts);
    apply_orgs(ctx, mapping, planned, report, accounts).await
}

/// The org plan of a run, its guards checked, before any write.
#[derive(Debug, Clone, Default)]
pub struct PlannedOrgs {
    /// The plan, shared with the report (which writes its entries from it).
    pub plan: Arc<Plan>,
    /// The plan's sold-to contacts (Global), taken out of it: the report does not read
    /// them, and the sold-to step takes them over rather than copying them.
    pub sold_to: BTreeMap<SalesforceId, Vec<SoldTo>>,
    /// The orgs read.
    pub orgs: Vec<ZendeskOrg>,
    /// A guard tripped: nothing may be written and the run must stop (exit 3).
    pub guard_tripped: bool,
}

/// Plans the org sync of `read` (narrowed to `--only` accounts when given) and checks
/// the guards (`extra_guards` and `--expect-plan` too), handing both to `report`.
/// Writes nothing: the Global job reads the users its plan needs between this and
/// [`apply_orgs`].
pub fn plan_orgs(
    ctx: &JobContext,
    mapping: &Mapping,
    read: OrgRead,
    extra_guards: Vec<Guard>,
    report: &mut ReportBuilder,
    accounts: &mut AccountIndex,
) -> PlannedOrgs {
    accounts.add_names(
        read.accounts
            .items
            .iter()
            .map(|a| (a.id18.to_string(), a.name.clone())),
    );
    let plan = plan_decoded(
        read.accounts,
        read.salesforce_records,
        &read.orgs,
        mapping,
        ctx.today,
    );
    accounts.add_org_ids(plan.org_ids.iter().map(|(k, v)| (k.to_string(), *v)));
    let mut plan = if ctx.only.is_empty() {
        plan
    } else {
        plan.only(&ctx.only)
    };
    let sold_to = std::mem::take(&mut plan.sold_to);
    let plan = Arc::new(plan);
    report.org_plan(Arc::clone(&plan));
    let mut guards = check_guards(&plan, &ctx.guards);
    guards.extend(extra_guards);
    if let Some(expected) = &ctx.expect_plan {
        // The hash the report holds: computed once (it reads every write).
        let actual = report
            .plan_hash()
            .map_or_else(|| plan.hash(), str::to_string);
        guards.push(check_expected_plan(expected, &actual));
    }
    report.guards(&guards);
    let guard_tripped = any_tripped(&guards);
    for g in guards.iter().filter(|g| g.tripped) {
        tracing::error!(guard = %g.name, detail = %g.detail, "safety guard tripped: nothing is written");
    }
    tracing::info!(
        create = plan.creates.len(),
        update = plan.updates.len(),
        delete = plan.deletes.len(),
        unchanged = plan.unchanged.len(),
        skipped = plan.skipped.len(),
        "organization plan"
    );
    PlannedOrgs {
        plan,
        sold_to,
        orgs: read.orgs,
        guard_tripped,
    }
}

/// Applies the creates and updates of a plan, unless a guard tripped or this is a dry
/// run, and hands their outcomes to `report`.
pub async fn apply_orgs(
    ctx: &JobContext,
    mapping: &Mapping,
    planned: PlannedOrgs,
    report: &mut ReportBuilder,
    accounts: &mut AccountIndex,
) -> Result<OrgPhaseOutcome, Error> {
    let PlannedOrgs {
        plan,
        sold_to,
        orgs,
        guard_tripped,
    } = planned;
    let mut outcome = OrgPhaseOutcome {
        org_ids: plan.org_ids.clone(),
        sold_to,
        orgs,
        guard_tripped,
        ..OrgPhaseOutcome::default()
    };
    let writes = !plan.creates.is_empty() || !plan.updates.is_empty();
    if writes && !guard_tripped && !ctx.dry_run {
        let applied = match orgs::create_and_update(
            &ctx.zendesk,
            mapping,
            &plan.creates,
            &plan.updates,
        )
        .await
        {
            Ok(applied) => applied,
            Err(Stopped { done, error }) => {
                report.outcomes(Phase::OrgWrites, done.outcomes());
                return Err(error.into());
            }
        };
        report.outcomes(Phase::OrgWrites, applied.outcomes());
        accounts.add_org_ids(applied.created.iter().map(|(k, v)| (k.to_string(), *v)));
        outcome.org_ids.extend(applied.created.clone());
        outcome.created = applied.created;
    }
    outcome.plan = plan;
    Ok(outcome)
}

/// Deletes the planned orgs (Global; run last), unless a dry run, and hands their
/// outcomes to `report` (what reading the orgs back confirms), also when an API error
/// stops the deletions.
pub async fn delete_orgs(
    ctx: &JobContext,
    plan: &Plan,
    report: &mut ReportBuilder,
) -> Result<(), Error> {
    if ctx.dry_run || plan.deletes.is_empty() {
        return Ok(());
    }
    match orgs::delete(&ctx.zendesk, &plan.deletes).await {
        Ok(applied) => {
            report.outcomes(Phase::OrgDeletes, applied.outcomes());
            Ok(())
        }
        Err(Stopped { done, error }) => {
            report.outcomes(Phase::OrgDeletes, done.outcomes());
            Err(error.into())
        }
    }
}
