//! Organization writes (docs/behaviour.md §5): creates with `organizations/create_many`, updates with
//! `organizations/update_many` (batch form), deletions with `organizations/destroy_many`,
//! 100 a job, jobs polled together with `job_statuses/show_many`.
//!
//! Creates are tied back to their accounts by the job row's `index` (else request
//! order, which the client resolves), then confirmed by reading the created ids back
//! with `organizations/show_many`. A create whose answer was lost (a dropped
//! connection after Zendesk applied it, a job whose rows vanished) is never resent
//! blindly: the orgs are re-listed, and only accounts still without an org are sent
//! again, once. Deletions are confirmed the same way: after the jobs, the ids are read
//! back with `organizations/show_many` (the rows of a finished `destroy_many` job are
//! an [UNCONFIRMED] shape); an org that is gone is deleted, one still there failed.
//!
//! Each result ([`OrgsApplied`], [`DeletesApplied`]) gives one
//! [`Outcome`] per write attempted (`outcomes()`), from which
//! the report is built.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use serde_json::{Map, Value};
use zendesk_client::{
    Client, Error as ZdError, ItemOutcome, JobHandle, NewOrganization, OrgId, OrganizationUpdate,
    MAX_ITEMS_PER_JOB,
};

use super::{error_code, zendesk_stops_run, RowFailure, Stopped, JOB_WINDOW};
use crate::convert::{client_org_id, org_id};
use crate::progress::Progress;
use sync_core::diff::{OrgCreate, OrgDelete, OrgUpdate};
use sync_core::ids::{SalesforceId, ZendeskOrgId};
use sync_core::mapping::Mapping;
use sync_core::report::{Outcome, Outcomes};
use sync_core::value::FieldValue;

/// What became of the creates and updates of a plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrgsApplied {
    /// Account → id of the org created for it this run.
    pub created: BTreeMap<SalesforceId, ZendeskOrgId>,
    /// Accounts whose org was updated.
    pub updated: Vec<String>,
    /// Creates that failed.
    pub create_failed: Vec<RowFailure>,
    /// Updates that failed.
    pub update_failed: Vec<RowFailure>,
    /// Bulk jobs submitted.
    pub jobs: usize,
    /// Whether a lost answer made the orgs be re-listed.
    pub relisted: bool,
    /// Accounts whose create's answer was lost and whose org the re-listing found.
    pub confirmed: BTreeSet<SalesforceId>,
}

impl OrgsApplied {
    /// One outcome per create and update attempted, by account; a planned write
    /// without one was not attempted.
    pub fn outcomes(&self) -> Outcomes {
        let failed = |f: &RowFailure| {
            (
                f.salesforce_id.clone(),
                Outcome::failed(f.code.clone(), f.message.clone()),
            )
        };
        self.create_failed
            .iter()
            .chain(&self.update_failed)
            .map(failed)
            .chain(self.created.keys().map(|sfid| {
                let outcome = if self.confirmed.contains(sfid) {
                    Outcome::Confirmed
                } else {
                    Outcome::Applied
                };
                (sfid.to_string(), outcome)
            }))
            .chain(self.updated.iter().map(|s| (s.clone(), Outcome::Applied)))
            .collect()
    }
}

/// What became of the deletions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeletesApplied {
    /// Accounts whose org is gone.
    pub deleted: Vec<String>,
    /// Deletions that failed.
    pub failed: Vec<RowFailure>,
    /// Bulk jobs submitted.
    pub jobs: usize,
}

impl DeletesApplied {
    /// One outcome per deletion attempted, by account.
    pub fn outcomes(&self) -> Outcomes {
        self.failed
            .iter()
            .map(|f| {
                (
                    f.salesforce_id.clone(),
                    Outcome::failed(f.code.clone(), f.message.clone()),
                )
            })
            .chain(self.deleted.iter().map(|s| (s.clone(), Outcome::Applied)))
            .collect()
    }
}

/// The `organizations/create_many` item of a planned create.
pub fn new_organization(create: &OrgCreate) -> NewOrganization {
    NewOrganization {
        name: create.name.clone(),
        tags: create.tags.clone(),
        organization_fields: fields_json(
            create.organization_fields.iter().map(|(k, v)| (k, Some(v))),
        ),
        ..NewOrganization::default()
    }
}

/// The `organizations/update_many` item of a planned update: only what changed.
pub fn organization_update(update: &OrgUpdate) -> OrganizationUpdate {
    OrganizationUpdate {
        name: update.patch.name.clone(),
        tags: update.patch.tags.clone(),
        organization_fields: fields_json(
            update
                .patch
                .organization_fields
                .iter()
                .map(|(k, v)| (k, v.as_ref())),
        ),
        ..OrganizationUpdate::new(client_org_id(update.id))
    }
}

fn fields_json<'a>(
    fields: impl Iterator<Item = (&'a String, Option<&'a FieldValue>)>,
) -> Map<String, Value> {
    fields
        .map(|(k, v)| {
            let value = v
                .and_then(|v| serde_json::to_value(v).ok())
                .unwrap_or(Value::Null);
            (k.clone(), value)
        })
        .collect()
}

/// One submitted job and the records it carried.
enum Batch<'a> {
    Create(Vec<&'a OrgCreate>),
    Update(Vec<&'a OrgUpdate>),
}

/// Submits the creates and updates as bulk jobs (creates first), waits for them in
/// windows, confirms the created ids, and re-reads what a lost answer left uncertain.
///
/// An error that stops the run (Zendesk unreachable, or refusing us) stops the
/// submitting; the jobs already submitted are still waited for, and [`Stopped`]
/// carries what their results confirm. A record in neither `created`/`updated` nor a
/// failure list was not applied (not sent, or sent in the call that failed).
pub async fn create_and_update(
    client: &Client,
    mapping: &Mapping,
    creates: &[OrgCreate],
    updates: &[OrgUpdate],
) -> Result<OrgsApplied, Stopped<OrgsApplied>> {
    let mut out = OrgsApplied::default();
    let mut uncertain: Vec<&OrgCreate> = Vec::new();
    let batches: Vec<Batch<'_>> = creates
        .chunks(MAX_ITEMS_PER_JOB)
        .map(|c| Batch::Create(c.iter().collect()))
        .chain(
            updates
                .chunks(MAX_ITEMS_PER_JOB)
                .map(|u| Batch::Update(u.iter().collect())),
        )
        .collect();
    let total = batches.len();
    let mut progress = Progress::jobs("organization jobs", total, client.total_requests());
    let mut batches = batches.into_iter().peekable();
    let mut stop = None;
    while batches.peek().is_some() && stop.is_none() {
        let mut window = Vec::new();
        // Submitting may wait for a job slot: a line every few seconds meanwhile too.
        let submitting = async {
            for batch in batches.by_ref().take(JOB_WINDOW) {
                match submit(client, &batch, &mut out, &mut uncertain).await {
                    Ok(Some(handle)) => window.push((batch, handle)),
                    Ok(None) => {}
                    Err(e) => {
                        stop = Some(e);
                        break;
                    }
                }
            }
        };
        progress
            .waiting("submitting jobs", || client.total_requests(), submitting)
            .await;
        // Submitted jobs run whatever happens next: their results say what was done.
        // Every few seconds while they run, a line with the totals.
        let running = format!("{} jobs running", window.len());
        let settling = settle(client, window, &mut out, &mut uncertain);
        progress
            .waiting(&running, || client.total_requests(), settling)
            .await;
        progress.advance_to(out.jobs as u64, || client.total_requests());
    }
    progress.finish(client.total_requests());
    if let Some(error) = stop {
        return Err(stopped(out, &uncertain, error));
    }
    if let Err(error) = confirm_created(client, mapping, creates, &mut out, &mut uncertain).await {
        return Err(stopped(out, &uncertain, error));
    }
    if !uncertain.is_empty() {
        let unsure: Vec<&OrgCreate> = uncertain.clone();
        if let Err(error) = resolve_uncertain(client, mapping, uncertain, &mut out).await {
            return Err(stopped(out, &unsure, error));
        }
    }
    Ok(out)
}

/// The writes stopped: creates whose outcome is still unknown (a lost answer not yet
/// re-read) are failures with code `OutcomeUnknown`, not "not applied": they may exist.
fn stopped(mut out: OrgsApplied, uncertain: &[&OrgCreate], error: ZdError) -> Stopped<OrgsApplied> {
    for c in uncertain {
        let sfid = &c.salesforce_id;
        let known = out.created.contains_key(sfid.as_str())
            || out.create_failed.iter().any(|f| &f.salesforce_id == sfid);
        if !known {
            out.create_failed.push(RowFailure {
                salesforce_id: sfid.to_string(),
                code: "OutcomeUnknown".to_string(),
                message: "the create's answer was lost and the run stopped before re-reading; \
                          the next run re-reads the orgs"
                    .to_string(),
            });
        }
    }
    Stopped { done: out, error }
}

/// Submits one job; `None` when the call failed (its records are then failed or uncertain).
async fn submit<'a>(
    client: &Client,
    batch: &Batch<'a>,
    out: &mut OrgsApplied,
    uncertain: &mut Vec<&'a OrgCreate>,
) -> Result<Option<JobHandle>, ZdError> {
    let result = match batch {
        Batch::Create(c) => {
            client
                .organizations()
                .create_many(c.iter().map(|c| new_organization(c)).collect())
                .await
        }
        Batch::Update(u) => {
            client
                .organizations()
                .update_many(u.iter().map(|u| organization_update(u)).collect())
                .await
        }
    };
    out.jobs += 1;
    match (result, batch) {
        (Ok(handle), _) => Ok(Some(handle)),
        (Err(ZdError::WriteOutcomeUnknown { message, .. }), Batch::Create(c)) => {
            tracing::warn!(orgs = c.len(), %message, "create_many answer lost; the orgs will be re-read before anything is resent");
            uncertain.extend(c.iter().copied());
            Ok(None)
        }
        (Err(e), _) if zendesk_stops_run(&e) => Err(e),
        (Err(e), Batch::Create(c)) => {
            out.create_failed
                .extend(c.iter().map(|c| failure(&c.salesforce_id, &e)));
            Ok(None)
        }
        (Err(e), Batch::Update(u)) => {
            out.update_failed
                .extend(u.iter().map(|u| failure(&u.salesforce_id, &e)));
            Ok(None)
        }
    }
}

fn failure(salesforce_id: &str, e: &ZdError) -> RowFailure {
    tracing::warn!(salesforce_id, error = %e, "organization write refused");
    RowFailure {
        salesforce_id: salesforce_id.to_string(),
        code: error_code(e),
        message: e.to_string(),
    }
}

/// Waits for a window of jobs (polled together) and sorts every record.
async fn settle<'a>(
    client: &Client,
    window: Vec<(Batch<'a>, JobHandle)>,
    out: &mut OrgsApplied,
    uncertain: &mut Vec<&'a OrgCreate>,
) {
    if window.is_empty() {
        return;
    }
    let (batches, handles): (Vec<_>, Vec<_>) = window.into_iter().unzip();
    let reports = client.jobs().wait_all(handles).await;
    for (batch, report) in batches.into_iter().zip(reports) {
        match batch {
            Batch::Create(items) => {
                for (i, c) in items.into_iter().enumerate() {
                    match report.outcomes.get(i) {
                        Some(ItemOutcome::Succeeded { id: Some(id), .. }) => {
                            out.created.insert(c.salesforce_id, ZendeskOrgId(*id));
                        }
                        Some(ItemOutcome::Failed { code, message }) => {
                            tracing::warn!(salesforce_id = %c.salesforce_id, %code, %message, "organization create failed");
                            out.create_failed.push(RowFailure {
                                salesforce_id: c.salesforce_id.to_string(),
                                code: code.clone(),
                                message: message.clone(),
                            });
                        }
                        // No id, no row, or a job that vanished: re-read before resending.
                        _ => uncertain.push(c),
                    }
                }
            }
            Batch::Update(items) => {
                for (i, u) in items.into_iter().enumerate() {
                    match report.outcomes.get(i) {
                        Some(ItemOutcome::Succeeded { .. }) => {
                            out.updated.push(u.salesforce_id.to_string())
                        }
                        Some(ItemOutcome::Failed { code, message }) => {
                            tracing::warn!(salesforce_id = %u.salesforce_id, %code, %message, "organization update failed");
                            out.update_failed.push(RowFailure {
                                salesforce_id: u.salesforce_id.to_string(),
                                code: code.clone(),
                                message: message.clone(),
                            });
                        }
                        Some(ItemOutcome::Unknown { reason }) => {
                            out.update_failed.push(RowFailure {
                                salesforce_id: u.salesforce_id.to_string(),
                                code: "OutcomeUnknown".to_string(),
                                message: format!("{reason}; the next run re-reads the org"),
                            })
                        }
                        None => out.update_failed.push(RowFailure {
                            salesforce_id: u.salesforce_id.to_string(),
                            code: "OutcomeUnknown".to_string(),
                            message: format!("job {} has no outcome for this org", report.id),
                        }),
                    }
                }
            }
        }
    }
}

/// Reads the created ids back (`organizations/show_many`, 100 a call) and checks that
/// each carries its account's `salesforce_id`; one that does not is uncertain.
async fn confirm_created<'a>(
    client: &Client,
    mapping: &Mapping,
    creates: &'a [OrgCreate],
    out: &mut OrgsApplied,
    uncertain: &mut Vec<&'a OrgCreate>,
) -> Result<(), ZdError> {
    let key = &mapping.fields().salesforce_id;
    let ids: Vec<OrgId> = out.created.values().copied().map(client_org_id).collect();
    let mut seen: BTreeMap<ZendeskOrgId, Option<String>> = BTreeMap::new();
    for chunk in ids.chunks(MAX_ITEMS_PER_JOB) {
        for org in client.organizations().show_many(chunk).await? {
            seen.insert(
                org_id(org.id),
                salesforce_id_of(&org.organization_fields, key),
            );
        }
    }
    let by_id: BTreeMap<&str, &OrgCreate> = creates
        .iter()
        .map(|c| (c.salesforce_id.as_str(), c))
        .collect();
    out.created.retain(|sfid, id| {
        let ok = seen.get(id).and_then(Option::as_deref) == Some(sfid.as_str());
        if !ok {
            tracing::warn!(salesforce_id = %sfid, org = %id, "created org not confirmed by show_many; re-reading");
            if let Some(c) = by_id.get(sfid.as_str()) {
                uncertain.push(c);
            }
        }
        ok
    });
    Ok(())
}

fn salesforce_id_of(fields: &Map<String, Value>, key: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Re-lists the orgs once to find which uncertain creates were applied; sends the rest
/// again in one more round, whose own lost answers become failures for the next run.
async fn resolve_uncertain(
    client: &Client,
    mapping: &Mapping,
    uncertain: Vec<&OrgCreate>,
    out: &mut OrgsApplied,
) -> Result<(), ZdError> {
    out.relisted = true;
    // The lost job may still be queued: give it time to run before looking.
    tokio::time::sleep(RELIST_GRACE).await;
    let wanted: BTreeSet<&str> = uncertain.iter().map(|c| c.salesforce_id.as_str()).collect();
    let found = find_by_salesforce_id(client, mapping, &wanted).await?;
    let missing: Vec<OrgCreate> = uncertain
        .into_iter()
        .filter(|c| !found.contains_key(c.salesforce_id.as_str()))
        .cloned()
        .collect();
    tracing::info!(
        applied = found.len(),
        missing = missing.len(),
        "re-read after a lost create answer"
    );
    out.confirmed.extend(found.keys().cloned());
    out.created.extend(found);
    for chunk in missing.chunks(MAX_ITEMS_PER_JOB) {
        out.jobs += 1;
        let handle = match client
            .organizations()
            .create_many(chunk.iter().map(new_organization).collect())
            .await
        {
            Ok(handle) => handle,
            Err(e) if zendesk_stops_run(&e) => return Err(e),
            Err(e) => {
                out.create_failed
                    .extend(chunk.iter().map(|c| failure(&c.salesforce_id, &e)));
                continue;
            }
        };
        let report = client
            .jobs()
            .wait_all(vec![handle])
            .await
            .into_iter()
            .next();
        for (i, c) in chunk.iter().enumerate() {
            match report.as_ref().and_then(|r| r.outcomes.get(i)) {
                Some(ItemOutcome::Succeeded { id: Some(id), .. }) => {
                    out.created.insert(c.salesforce_id, ZendeskOrgId(*id));
                }
                Some(ItemOutcome::Failed { code, message }) => out.create_failed.push(RowFailure {
                    salesforce_id: c.salesforce_id.to_string(),
                    code: code.clone(),
                    message: message.clone(),
                }),
                _ => out.create_failed.push(RowFailure {
                    salesforce_id: c.salesforce_id.to_string(),
                    code: "OutcomeUnknown".to_string(),
                    message: "create outcome unknown after a retry; the next run re-reads the orgs"
                        .to_string(),
                }),
            }
        }
    }
    // A resent create refused because the name is taken: the lost job ran late after all.
    let late: BTreeSet<String> = out
        .create_failed
        .iter()
        .filter(|f| missing.iter().any(|c| c.salesforce_id == f.salesforce_id))
        .filter(|f| is_taken(&f.code, &f.message))
        .map(|f| f.salesforce_id.clone())
        .collect();
    if !late.is_empty() {
        let wanted: BTreeSet<&str> = late.iter().map(String::as_str).collect();
        let found = find_by_salesforce_id(client, mapping, &wanted).await?;
        out.create_failed
            .retain(|f| !found.contains_key(f.salesforce_id.as_str()));
        out.confirmed.extend(found.keys().cloned());
        out.created.extend(found);
    }
    Ok(())
}

/// How long a lost create job is given to run before the orgs are re-listed.
const RELIST_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

fn is_taken(code: &str, message: &str) -> bool {
    code == "DuplicateValue" || message.to_lowercase().contains("already been taken")
}

/// Lists every org and keeps those whose `salesforce_id` is wanted.
async fn find_by_salesforce_id(
    client: &Client,
    mapping: &Mapping,
    wanted: &BTreeSet<&str>,
) -> Result<BTreeMap<SalesforceId, ZendeskOrgId>, ZdError> {
    let key = &mapping.fields().salesforce_id;
    let mut found = BTreeMap::new();
    let mut orgs = client.organizations().list();
    while let Some(org) = orgs.try_next().await? {
        if let Some(sfid) = salesforce_id_of(&org.organization_fields, key) {
            // Only the ids of this run's creates are wanted: valid ids all.
            let valid = SalesforceId::parse(&sfid).ok();
            if let Some(sfid) = valid.filter(|id| wanted.contains(id.as_str())) {
                found.entry(sfid).or_insert(org_id(org.id));
            }
        }
    }
    Ok(found)
}

/// Deletes orgs with `organizations/destroy_many`, 100 a job. A lost answer is
/// resolved by reading the ids back: the orgs still there are deleted once more.
/// An error that stops the run stops the submitting; the jobs already submitted are
/// waited for and [`Stopped`] carries what their results confirm.
pub async fn delete(
    client: &Client,
    deletes: &[OrgDelete],
) -> Result<DeletesApplied, Stopped<DeletesApplied>> {
    let mut out = DeletesApplied::default();
    let mut window: Vec<(&[OrgDelete], JobHandle)> = Vec::new();
    let chunks: Vec<&[OrgDelete]> = deletes.chunks(MAX_ITEMS_PER_JOB).collect();
    let total = chunks.len();
    let mut progress = Progress::jobs("deletion jobs", total, client.total_requests());
    let mut stop = None;
    for (n, chunk) in chunks.into_iter().enumerate() {
        let ids: Vec<OrgId> = chunk.iter().map(|d| client_org_id(d.id)).collect();
        out.jobs += 1;
        match client.organizations().destroy_many(&ids).await {
            Ok(handle) => window.push((chunk, handle)),
            Err(ZdError::WriteOutcomeUnknown { message, .. }) => {
                tracing::warn!(orgs = chunk.len(), %message, "destroy_many answer lost; re-reading the orgs");
                if let Err(e) = redelete(client, chunk, &mut out).await {
                    stop = Some(e);
                }
            }
            Err(e) if zendesk_stops_run(&e) => stop = Some(e),
            Err(e) => out
                .failed
                .extend(chunk.iter().map(|d| failure(&d.salesforce_id, &e))),
        }
        if window.len() >= JOB_WINDOW || n + 1 == total || stop.is_some() {
            let running = format!("{} jobs running", window.len());
            let settling = settle_deletes(client, std::mem::take(&mut window), &mut out);
            let settled = progress
                .waiting(&running, || client.total_requests(), settling)
                .await;
            if let Err(e) = settled {
                stop.get_or_insert(e);
            }
            progress.advance_to(n as u64 + 1, || client.total_requests());
        }
        if let Some(error) = stop {
            progress.finish(client.total_requests());
            return Err(Stopped { done: out, error });
        }
    }
    progress.finish(client.total_requests());
    Ok(out)
}

/// Waits for a window of deletion jobs, then reads the orgs back: the rows of a
/// finished `destroy_many` job are an [UNCONFIRMED] shape (docs/behaviour.md §9), so an org is
/// deleted when `show_many` no longer returns it, and failed while it is still there
/// (with the row's code and message when a row says why). `Err` when the read-back
/// itself is stopped by an error that stops the run (the window's orgs are then
/// failures of unknown outcome).
async fn settle_deletes(
    client: &Client,
    window: Vec<(&[OrgDelete], JobHandle)>,
    out: &mut DeletesApplied,
) -> Result<(), ZdError> {
    if window.is_empty() {
        return Ok(());
    }
    let (chunks, handles): (Vec<_>, Vec<_>) = window.into_iter().unzip();
    let reports = client.jobs().wait_all(handles).await;
    let ids = chunks.iter().flat_map(|c| c.iter().map(|d| d.id));
    let still = match existing(client, ids).await {
        Ok(still) => still,
        Err(e) => {
            tracing::warn!(error = %e, "deleted orgs could not be read back");
            out.failed
                .extend(chunks.iter().flat_map(|c| c.iter()).map(|d| RowFailure {
                    salesforce_id: d.salesforce_id.to_string(),
                    code: "OutcomeUnknown".to_string(),
                    message: format!(
                        "org {} could not be read back after its deletion job ({e}); the next \
                         run re-reads it",
                        d.id
                    ),
                }));
            return if zendesk_stops_run(&e) {
                Err(e)
            } else {
                Ok(())
            };
        }
    };
    for (chunk, report) in chunks.into_iter().zip(reports) {
        for (i, d) in chunk.iter().enumerate() {
            if !still.contains(&d.id) {
                out.deleted.push(d.salesforce_id.to_string());
                continue;
            }
            let failure = match report.outcomes.get(i) {
                Some(ItemOutcome::Failed { code, message }) => RowFailure {
                    salesforce_id: d.salesforce_id.to_string(),
                    code: code.clone(),
                    message: message.clone(),
                },
                _ => RowFailure {
                    salesforce_id: d.salesforce_id.to_string(),
                    code: "NotDeleted".to_string(),
                    message: format!(
                        "org {} is still there after deletion job {}; the next run retries it",
                        d.id, report.id
                    ),
                },
            };
            tracing::warn!(salesforce_id = %d.salesforce_id, org = %d.id, code = %failure.code, "organization not deleted");
            out.failed.push(failure);
        }
    }
    Ok(())
}

/// After a lost `destroy_many` answer: the job may still be queued, so it is given
/// [`RELIST_GRACE`] to run, then the orgs `show_many` still returns are sent once more.
/// The lost job can run after that re-read: a resent row that fails on an org that is
/// gone by then is a deletion done (by the lost job), not a failure.
async fn redelete(
    client: &Client,
    chunk: &[OrgDelete],
    out: &mut DeletesApplied,
) -> Result<(), ZdError> {
    tokio::time::sleep(RELIST_GRACE).await;
    let still = existing(client, chunk.iter().map(|d| d.id)).await?;
    let (left, gone): (Vec<&OrgDelete>, Vec<&OrgDelete>) =
        chunk.iter().partition(|d| still.contains(&d.id));
    out.deleted
        .extend(gone.iter().map(|d| d.salesforce_id.to_string()));
    if left.is_empty() {
        return Ok(());
    }
    let left: Vec<OrgDelete> = left.into_iter().cloned().collect();
    let ids: Vec<OrgId> = left.iter().map(|d| client_org_id(d.id)).collect();
    out.jobs += 1;
    let failed_before = out.failed.len();
    match client.organizations().destroy_many(&ids).await {
        Ok(handle) => settle_deletes(client, vec![(&left, handle)], out).await?,
        Err(e) if zendesk_stops_run(&e) => return Err(e),
        Err(e) => out
            .failed
            .extend(left.iter().map(|d| failure(&d.salesforce_id, &e))),
    }
    if out.failed.len() > failed_before {
        let retried: Vec<ZendeskOrgId> = left
            .iter()
            .filter(|d| {
                out.failed
                    .get(failed_before..)
                    .unwrap_or_default()
                    .iter()
                    .any(|f| f.salesforce_id == d.salesforce_id)
            })
            .map(|d| d.id)
            .collect();
        let still = existing(client, retried).await?;
        let gone: BTreeSet<&str> = left
            .iter()
            .filter(|d| !still.contains(&d.id))
            .map(|d| d.salesforce_id.as_str())
            .collect();
        let mut kept = Vec::new();
        for f in out.failed.drain(failed_before..) {
            if gone.contains(f.salesforce_id.as_str()) {
                out.deleted.push(f.salesforce_id);
            } else {
                kept.push(f);
            }
        }
        out.failed.extend(kept);
    }
    Ok(())
}

/// Which of these org ids still exist (`show_many`, 100 ids a call).
async fn existing(
    client: &Client,
    ids: impl IntoIterator<Item = ZendeskOrgId>,
) -> Result<BTreeSet<ZendeskOrgId>, ZdError> {
    let ids: Vec<OrgId> = ids.into_iter().map(client_org_id).collect();
    let mut found = BTreeSet::new();
    for chunk in ids.chunks(MAX_ITEMS_PER_JOB) {
        found.extend(
            client
                .organizations()
                .show_many(chunk)
                .await?
                .into_iter()
                .map(|o| org_id(o.id)),
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::diff::OrgPatch;
    use sync_core::{SalesforceId, ZendeskOrgId};

    fn sfid(id: &str) -> SalesforceId {
        SalesforceId::parse(id).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_create_sends_its_fields_and_tags() {
        let create = OrgCreate {
            salesforce_id: sfid("0018SDEMO000002QPA"),
            name: "Globex".into(),
            organization_fields: [
                (
                    "salesforce_id".to_string(),
                    FieldValue::Text("0018SDEMO000002QPA".into()),
                ),
                ("aar".to_string(), FieldValue::Number(10000.0)),
                ("restricted_account".to_string(), FieldValue::Bool(true)),
            ]
            .into_iter()
            .collect(),
            tags: vec!["gold".into(), "restricted_account".into()],
        };
        let body = serde_json::to_value(new_organization(&create)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "name": "Globex",
                "tags": ["gold", "restricted_account"],
                "organization_fields": {
                    "aar": 10000.0,
                    "restricted_account": true,
                    "salesforce_id": "0018SDEMO000002QPA"
                }
            })
        );
    }

    #[test]
    fn an_update_sends_only_what_changed_and_null_to_clear() {
        let update = OrgUpdate {
            salesforce_id: sfid("0018SDEMO000009QPA"),
            id: ZendeskOrgId(42),
            before: Default::default(),
            patch: OrgPatch {
                name: None,
                organization_fields: [
                    ("org_region".to_string(), None),
                    (
                        "support_level".to_string(),
                        Some(FieldValue::Text("gold".into())),
                    ),
                ]
                .into_iter()
                .collect(),
                tags: None,
            },
        };
        let body = serde_json::to_value(organization_update(&update)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "id": 42,
                "organization_fields": { "org_region": null, "support_level": "gold" }
            })
        );
    }

    #[test]
    fn a_stop_turns_unresolved_lost_creates_into_unknown_outcomes() {
        let create = |id: &str| OrgCreate {
            salesforce_id: sfid(id),
            name: id.into(),
            organization_fields: sync_core::FieldMap::new(),
            tags: Vec::new(),
        };
        let (a, b) = ("0018SDEMO0000AAQPA", "0018SDEMO0000BBQPA");
        let (found, lost) = (create(a), create(b));
        let mut out = OrgsApplied::default();
        out.created.insert(sfid(a), ZendeskOrgId(7));
        let stop = stopped(out, &[&found, &lost], ZdError::Config("unreachable".into()));
        assert_eq!(stop.done.created.len(), 1);
        assert_eq!(stop.done.create_failed.len(), 1);
        assert_eq!(stop.done.create_failed[0].salesforce_id, b);
        assert_eq!(stop.done.create_failed[0].code, "OutcomeUnknown");
    }

    #[test]
    fn taken_names_are_recognised() {
        assert!(is_taken("DuplicateValue", ""));
        assert!(is_taken(
            "OrganizationCreateFailed",
            "Name: has already been taken"
        ));
        assert!(!is_taken("OrganizationCreateFailed", "Invalid value"));
    }
}
