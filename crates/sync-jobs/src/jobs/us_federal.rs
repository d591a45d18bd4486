//! The US Federal job (docs/behaviour.md §1, issue 8): Salesforce accounts → Zendesk US Federal
//! organizations through the one org-sync path ([`super::org_sync`], with
//! `us-federal.toml`: no sold-to users, no deletions), then, in the same run,
//! Salesforce contacts → Zendesk users (docs/behaviour.md §6).
//!
//! Every read — accounts, orgs, contacts, users — comes before the first write, so the
//! guards (no accounts, no contacts, mass changes) stop the run with nothing written.
//! The users phase runs on the org state this run left: orgs created a moment ago
//! included; a contact whose account's org could not be created is `no_organization`;
//! and if the org phase could not reach Zendesk, the users phase does not run at all.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::org_sync::{self, OrgPhaseOutcome};
use super::{finish, AccountIndex, JobContext, RunOutcome};
use crate::apply::federal_users::{apply_federal_users, UsersApplied};
use crate::apply::Stopped;
use crate::directory::{lookup_email, UserDirectory};
use crate::Error;
use sync_core::guards::check_contacts_guard;
use sync_core::mapping::Mapping;
use sync_core::model::{Contact, Finding, FindingKind};
use sync_core::report::{Phase, ReportBuilder};
use sync_core::users::{plan_federal_users, UserAction, UserPlan};
use sync_core::{decode_contacts, soql, SalesforceId, ZendeskOrgId, ZendeskUser, ZendeskUserId};

/// The binary's name, the report's `sync`.
pub const SYNC_NAME: &str = "zd-sfdc-sync-us-federal";

/// The organization id a dry run gives the orgs it would create (none exists yet);
/// their users' changes name the account in `salesforce_id`.
pub const PLANNED_ORG_ID: ZendeskOrgId = ZendeskOrgId(0);

/// Runs the whole US Federal job. Never panics on data; the outcome carries the report
/// (as far as the run got) and the error that stopped it, if any.
pub async fn run_us_federal(ctx: &JobContext, mapping: &Mapping) -> RunOutcome {
    let mut report = ReportBuilder::new(
        SYNC_NAME,
        ctx.dry_run,
        OffsetDateTime::now_utc(),
        &[Phase::OrgWrites, Phase::Users],
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
    // Every read before the first write.
    let (read, contact_records, users) = tokio::try_join!(
        org_sync::read(ctx, mapping),
        org_sync::read_records(
            &ctx.salesforce,
            soql::US_FEDERAL_CONTACTS,
            "Salesforce contacts"
        ),
        read_users(&ctx.zendesk),
    )?;
    report.salesforce_records(contact_records.len());
    report.zendesk_users(users.users_read());
    let contacts_guard = check_contacts_guard(contact_records.len());
    let phase =
        org_sync::sync_orgs(ctx, mapping, read, vec![contacts_guard], report, accounts).await?;
    if phase.guard_tripped {
        return Ok(());
    }

    // Users, on the org state this run left.
    let decoded = decode_contacts(contact_records);
    let org_ids = org_ids_after(ctx, &phase);
    let known: Vec<ZendeskUser> = users.users().cloned().collect();
    drop(users);
    let mut plan = plan_federal_users(&decoded.items, &org_ids, &known);
    plan.findings.splice(0..0, decoded.findings);
    explain_no_organization(ctx, &phase, &mut plan);
    if !ctx.only.is_empty() {
        keep_named_accounts(&mut plan, &org_ids, &known, &ctx.only);
    }
    tracing::info!(
        create = plan.creates(),
        update = plan.updates(),
        unchanged = plan.unchanged,
        findings = plan.findings.len(),
        "user plan"
    );
    report.user_accounts(contact_accounts(&decoded.items));
    if ctx.dry_run || plan.actions.is_empty() {
        report.user_plan(Phase::Users, &plan);
        return Ok(());
    }
    let (applied, stopped) = match apply_federal_users(&ctx.zendesk, &plan.actions).await {
        Ok(mut applied) => {
            let confirmed = confirm_failed_creates(&ctx.zendesk, &mut plan, &mut applied).await;
            (applied, confirmed.err())
        }
        Err(Stopped { done, error }) => (done, Some(error)),
    };
    report.user_plan(Phase::Users, &plan);
    report.outcomes(Phase::Users, applied.outcomes());
    match stopped {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// docs/behaviour.md §9: every create whose row failed, whatever its code or wording, is looked up by
/// email before it is called failed. Found: an end-user already as wanted is
/// `confirmed`; one with another name or org is given the contact's (one more
/// `update_many`: the plan's write for that email becomes that update, so the report
/// counts what was written); an agent or admin is a `protected_user` finding in `plan`
/// and its create is `withdrawn`. Not found: failed. An error that stops the run is
/// returned (the creates not looked up stay failed).
async fn confirm_failed_creates(
    client: &zendesk_client::Client,
    plan: &mut UserPlan,
    applied: &mut UsersApplied,
) -> Result<(), zendesk_client::Error> {
    let (creates, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut applied.failed)
        .into_iter()
        .partition(|f| matches!(f.action, UserAction::Create { .. }));
    applied.failed = rest;
    let mut second = Vec::new();
    let mut creates = creates.into_iter();
    while let Some(failure) = creates.next() {
        let UserAction::Create {
            name,
            email,
            organization_id,
        } = &failure.action
        else {
            applied.failed.push(failure);
            continue;
        };
        let user = match lookup_email(client, email).await {
            Ok(user) => user,
            Err(error) if error.stops_run() => {
                applied.failed.push(failure);
                applied.failed.extend(creates);
                return Err(error);
            }
            Err(_) => None,
        };
        match user {
            None => applied.failed.push(failure),
            Some(u) if u.is_protected() => {
                applied.withdrawn.insert(email.clone());
                plan.findings.push(Finding::email(
                    FindingKind::ProtectedUser,
                    email,
                    format!(
                        "user {} is an agent or admin; never modified by the sync (its create \
                         failed: {}: {})",
                        u.id, failure.code, failure.message
                    ),
                ));
            }
            Some(u) => {
                let new_name = (u.name.trim() != name).then(|| name.clone());
                let new_org =
                    (u.organization_id != Some(*organization_id)).then_some(*organization_id);
                if new_name.is_none() && new_org.is_none() {
                    applied.confirmed.insert(email.clone());
                    applied.done.push(failure.action);
                } else {
                    let update = UserAction::Update {
                        user_id: u.id,
                        email: email.clone(),
                        name: new_name,
                        organization_id: new_org,
                    };
                    if let Some(planned) = plan.actions.iter_mut().find(|a| **a == failure.action) {
                        *planned = update.clone();
                    }
                    second.push(update);
                }
            }
        }
    }
    if second.is_empty() {
        return Ok(());
    }
    let (again, stopped) = match apply_federal_users(client, &second).await {
        Ok(again) => (again, None),
        Err(Stopped { done, error }) => (done, Some(error)),
    };
    applied.done.extend(again.done);
    applied.failed.extend(again.failed);
    stopped.map_or(Ok(()), Err)
}

/// Every Zendesk user, all roles (cursor pages of 100), through the user directory:
/// agents and admins must be seen to be left alone.
pub async fn read_users(zendesk: &zendesk_client::Client) -> Result<UserDirectory, Error> {
    Ok(UserDirectory::read_everyone(zendesk).await?)
}

/// Account → org id for the users phase: after a real run, the matched orgs and those
/// created; in a dry run, the matched orgs and [`PLANNED_ORG_ID`] for those planned.
fn org_ids_after(
    ctx: &JobContext,
    phase: &OrgPhaseOutcome,
) -> BTreeMap<SalesforceId, ZendeskOrgId> {
    let mut ids = phase.org_ids.clone();
    if ctx.dry_run {
        for c in &phase.plan.creates {
            ids.entry(c.salesforce_id).or_insert(PLANNED_ORG_ID);
        }
    }
    ids
}

/// `--only`: keeps the user writes that place or touch users in the named accounts'
/// orgs (a name change counts for the org the user is in now); the rest is not written.
fn keep_named_accounts<K: AsRef<str>>(
    plan: &mut UserPlan,
    org_ids: &BTreeMap<K, ZendeskOrgId>,
    users: &[ZendeskUser],
    only: &std::collections::BTreeSet<String>,
) {
    let named: std::collections::BTreeSet<ZendeskOrgId> = org_ids
        .iter()
        .filter(|(sfid, _)| only.contains(sfid.as_ref()))
        .map(|(_, id)| *id)
        .collect();
    let current: BTreeMap<ZendeskUserId, Option<ZendeskOrgId>> =
        users.iter().map(|u| (u.id, u.organization_id)).collect();
    plan.actions.retain(|a| match a {
        UserAction::Create {
            organization_id, ..
        } => named.contains(organization_id),
        UserAction::Update {
            organization_id: Some(org),
            ..
        } => named.contains(org),
        UserAction::Update {
            user_id,
            organization_id: None,
            ..
        } => current
            .get(user_id)
            .copied()
            .flatten()
            .is_some_and(|o| named.contains(&o)),
    });
}

/// A contact without an organization says why, where the org phase knows better than
/// "no org has this salesforce_id": its account was skipped this run (duplicate
/// Zendesk orgs, a name conflict, an untrusted plan, …) or its org create failed.
fn explain_no_organization(ctx: &JobContext, phase: &OrgPhaseOutcome, plan: &mut UserPlan) {
    let mut why: BTreeMap<&str, String> = phase
        .plan
        .skipped
        .iter()
        .map(|s| {
            let reason = format!(
                "account {} was not synced this run ({}), so its users are not placed",
                s.salesforce_id, s.reason
            );
            (s.salesforce_id.as_str(), reason)
        })
        .collect();
    if !ctx.dry_run {
        for c in &phase.plan.creates {
            if !phase.created.contains_key(c.salesforce_id.as_str()) {
                let reason = format!(
                    "the org of account {} could not be created in this run",
                    c.salesforce_id
                );
                why.insert(c.salesforce_id.as_str(), reason);
            }
        }
    }
    for f in &mut plan.findings {
        if f.kind != FindingKind::NoOrganization {
            continue;
        }
        if let Some(reason) = f.salesforce_id.as_deref().and_then(|id| why.get(id)) {
            f.message = reason.clone();
        }
    }
}

/// The account of each contact's email (trimmed, lowercase), so every user change
/// names the org a user goes to even before the org exists (dry run).
fn contact_accounts(contacts: &[Contact]) -> BTreeMap<String, String> {
    contacts
        .iter()
        .filter_map(|c| {
            let email = c.email.as_deref()?.trim().to_lowercase();
            Some((email, c.account_id.clone()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::federal_users::{UserFailure, UsersApplied};
    use sync_core::report::{ChangeAction, ErrorKind, FailureKind};
    use sync_core::users::{UserAction, UserPlan};
    use sync_core::Report;

    fn create(email: &str) -> UserAction {
        UserAction::Create {
            name: "N".into(),
            email: email.into(),
            organization_id: ZendeskOrgId(5),
        }
    }

    fn planned(actions: Vec<UserAction>) -> ReportBuilder {
        let mut report = ReportBuilder::new(
            SYNC_NAME,
            false,
            OffsetDateTime::UNIX_EPOCH,
            &[Phase::OrgWrites, Phase::Users],
        );
        report.user_plan(
            Phase::Users,
            &UserPlan {
                records: actions.len(),
                actions,
                ..UserPlan::default()
            },
        );
        report
    }

    #[test]
    fn a_failed_user_write_leaves_changes_counts_as_failed_and_is_an_error() {
        let update = UserAction::Update {
            user_id: ZendeskUserId(3),
            email: "b@x.gov".into(),
            name: Some("B".into()),
            organization_id: None,
        };
        let mut builder = planned(vec![create("a@x.gov"), update.clone(), create("c@x.gov")]);
        let applied = UsersApplied {
            done: vec![create("a@x.gov"), update],
            failed: vec![UserFailure {
                action: create("c@x.gov"),
                code: "UserCreateFailed".into(),
                message: "Email: is invalid".into(),
            }],
            ..UsersApplied::default()
        };
        builder.outcomes(Phase::Users, applied.outcomes());
        let report: Report = builder.build();
        assert_eq!(
            (
                report.users.create,
                report.users.update,
                report.users.failed
            ),
            (1, 1, 1)
        );
        let emails: Vec<_> = report
            .changes
            .iter()
            .filter_map(|c| c.email.clone())
            .collect();
        assert_eq!(emails, ["a@x.gov", "b@x.gov"]);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(
            report.errors[0].kind,
            ErrorKind::Failure(FailureKind::UserCreateFailed)
        );
        assert_eq!(report.errors[0].email.as_deref(), Some("c@x.gov"));
        assert_eq!(
            report.errors[0].message,
            "UserCreateFailed: Email: is invalid"
        );
        // Every write was attempted: no `planned`, the failed row is in errors[].
        assert_eq!(report.planned, None);
        assert_eq!(crate::exit::for_report(&report), crate::exit::WRITE_FAILED);
    }

    #[test]
    fn user_changes_name_their_contact_account() {
        let mut builder = planned(vec![create("grace@tests.gov")]);
        let contacts = [Contact {
            name: Some("Grace".into()),
            email: Some(" Grace@Tests.gov ".into()),
            account_id: Some("0018SDEMO000103QPA".into()),
        }];
        builder.user_accounts(contact_accounts(&contacts));
        let mut report = builder.clone().build();
        report.changes = report.planned.map(|p| p.changes).unwrap_or_default();
        assert_eq!(report.changes[0].action, ChangeAction::CreateUser);
        assert_eq!(
            report.changes[0].salesforce_id.as_deref(),
            Some("0018SDEMO000103QPA")
        );
    }
}
