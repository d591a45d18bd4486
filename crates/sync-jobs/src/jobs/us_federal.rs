//! The US Federal job (SPEC §1, issue 8): Salesforce accounts → Zendesk US Federal
//! organizations through the one org-sync path ([`super::org_sync`], with
//! `us-federal.toml`: no sold-to users, no deletions), then, in the same run,
//! Salesforce contacts → Zendesk users (SPEC §6).
//!
//! Every read — accounts, orgs, contacts, users — comes before the first write, so the
//! guards (no accounts, no contacts, mass changes) stop the run with nothing written.
//! The users phase runs on the org state this run left: orgs created a moment ago
//! included; a contact whose account's org could not be created is `no_organization`;
//! and if the org phase could not reach Zendesk, the users phase does not run at all.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::org_sync::{self, OrgPhaseOutcome};
use super::{
    drop_creates_of, finish_report, record_stop, record_users_applied, record_users_stopped,
    JobContext, RunOutcome,
};
use crate::apply::federal_users::{apply_federal_users, UsersApplied};
use crate::apply::Stopped;
use crate::directory::{lookup_email, UserDirectory};
use crate::Error;
use sync_core::guards::check_contacts_guard;
use sync_core::mapping::Mapping;
use sync_core::model::{Contact, Finding, FindingKind};
use sync_core::users::{plan_federal_users, UserAction, UserPlan};
use sync_core::{decode_contacts, soql, Report, ZendeskUser};

/// The binary's name, the report's `sync`.
pub const SYNC_NAME: &str = "zd-sfdc-sync-us-federal";

/// The organization id a dry run gives the orgs it would create (none exists yet);
/// their users' changes name the account in `salesforce_id`.
pub const PLANNED_ORG_ID: u64 = 0;

/// Runs the whole US Federal job. Never panics on data; the outcome carries the report
/// (as far as the run got) and the error that stopped it, if any.
pub async fn run_us_federal(ctx: &JobContext, mapping: &Mapping) -> RunOutcome {
    let mut report = Report::new(SYNC_NAME, ctx.dry_run, OffsetDateTime::now_utc());
    let result = run(ctx, mapping, &mut report).await;
    finish_report(&mut report, ctx);
    if let Err(e) = &result {
        tracing::error!(error = %e, "run stopped");
        record_stop(&mut report, e);
    }
    RunOutcome {
        report,
        error: result.err(),
    }
}

async fn run(ctx: &JobContext, mapping: &Mapping, report: &mut Report) -> Result<(), Error> {
    org_sync::check_fields(&ctx.zendesk, mapping).await?;
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
    report.salesforce.records += contact_records.len();
    report.zendesk.users = Some(users.users_read());
    let contacts_guard = check_contacts_guard(contact_records.len());
    let phase = match org_sync::sync_orgs(ctx, mapping, read, vec![contacts_guard], report).await {
        Ok(phase) => phase,
        Err(e) => {
            if !ctx.dry_run {
                report.record_not_attempted(
                    "users were not attempted: the run stopped in the organization writes",
                );
            }
            return Err(e);
        }
    };
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
    tracing::info!(
        create = plan.creates(),
        update = plan.updates(),
        unchanged = plan.unchanged,
        findings = plan.findings.len(),
        "user plan"
    );
    report.record_user_plan(&plan);
    name_accounts(report, &decoded.items);
    if ctx.dry_run || plan.actions.is_empty() {
        return Ok(());
    }
    match apply_federal_users(&ctx.zendesk, &plan.actions).await {
        Ok(mut applied) => {
            let found = confirm_failed_creates(&ctx.zendesk, &mut applied).await;
            record_users_applied(report, &applied);
            let (left, stopped) = match found {
                Ok(left) => (left, None),
                Err(Stopped { done, error }) => (done, Some(error)),
            };
            let emails: Vec<String> = left
                .iter()
                .map(|f| f.email.clone().unwrap_or_default())
                .collect();
            drop_creates_of(report, &emails);
            for f in left {
                report.record_failure(f.kind.as_str(), None, f.email.as_deref(), f.message);
            }
            match stopped {
                Some(error) => Err(error.into()),
                None => Ok(()),
            }
        }
        Err(Stopped { done, error }) => {
            record_users_applied(report, &done);
            record_users_stopped(report, "user", plan.actions.len(), &done, &error);
            Err(error.into())
        }
    }
}

/// SPEC §9: every create whose row failed, whatever its code or wording, is looked up by
/// email before it is called failed. Found: an end-user is given the contact's name and
/// org (one more `update_many`) or is already so (done); an agent or admin is a
/// `protected_user` finding (returned; its create leaves `changes[]`). Not found: failed.
async fn confirm_failed_creates(
    client: &zendesk_client::Client,
    applied: &mut UsersApplied,
) -> Result<Vec<Finding>, Stopped<Vec<Finding>>> {
    let (creates, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut applied.failed)
        .into_iter()
        .partition(|f| matches!(f.action, UserAction::Create { .. }));
    applied.failed = rest;
    let mut findings = Vec::new();
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
                return Err(Stopped {
                    done: findings,
                    error,
                });
            }
            Err(_) => None,
        };
        match user {
            None => applied.failed.push(failure),
            Some(u) if u.is_protected() => findings.push(Finding::email(
                FindingKind::ProtectedUser,
                email,
                format!(
                    "user {} is an agent or admin; never modified by the sync (its create \
                     failed: {}: {})",
                    u.id, failure.code, failure.message
                ),
            )),
            Some(u) => {
                let new_name = (u.name.trim() != name).then(|| name.clone());
                let new_org =
                    (u.organization_id != Some(*organization_id)).then_some(*organization_id);
                if new_name.is_none() && new_org.is_none() {
                    applied.done.push(failure.action);
                } else {
                    second.push(UserAction::Update {
                        user_id: u.id,
                        email: email.clone(),
                        name: new_name,
                        organization_id: new_org,
                    });
                }
            }
        }
    }
    if second.is_empty() {
        return Ok(findings);
    }
    match apply_federal_users(client, &second).await {
        Ok(again) => {
            applied.done.extend(again.done);
            applied.failed.extend(again.failed);
            Ok(findings)
        }
        Err(Stopped { done, error }) => {
            applied.done.extend(done.done);
            applied.failed.extend(done.failed);
            Err(Stopped {
                done: findings,
                error,
            })
        }
    }
}

/// Every Zendesk user, all roles (cursor pages of 100), through the user directory:
/// agents and admins must be seen to be left alone.
pub async fn read_users(zendesk: &zendesk_client::Client) -> Result<UserDirectory, Error> {
    Ok(UserDirectory::read_everyone(zendesk).await?)
}

/// Account → org id for the users phase: after a real run, the matched orgs and those
/// created; in a dry run, the matched orgs and [`PLANNED_ORG_ID`] for those planned.
fn org_ids_after(ctx: &JobContext, phase: &OrgPhaseOutcome) -> BTreeMap<String, u64> {
    let mut ids = phase.org_ids.clone();
    if ctx.dry_run {
        for c in &phase.plan.creates {
            ids.entry(c.salesforce_id.clone()).or_insert(PLANNED_ORG_ID);
        }
    }
    ids
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
            if !phase.created.contains_key(&c.salesforce_id) {
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

/// Names the account of every user change (`salesforce_id`), so a reviewer sees which
/// org a user goes to even before the org exists (dry run).
fn name_accounts(report: &mut Report, contacts: &[Contact]) {
    let account: BTreeMap<String, &str> = contacts
        .iter()
        .filter_map(|c| {
            let email = c.email.as_deref()?.trim().to_lowercase();
            Some((email, c.account_id.as_deref()?))
        })
        .collect();
    for change in &mut report.changes {
        if !matches!(change.action.as_str(), "create_user" | "update_user") {
            continue;
        }
        if let Some(id) = change.email.as_deref().and_then(|e| account.get(e)) {
            change.salesforce_id = Some((*id).to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::federal_users::{UserFailure, UsersApplied};
    use sync_core::users::UserAction;

    fn create(email: &str) -> UserAction {
        UserAction::Create {
            name: "N".into(),
            email: email.into(),
            organization_id: 5,
        }
    }

    fn planned(actions: Vec<UserAction>) -> Report {
        let mut report = Report::new(SYNC_NAME, false, OffsetDateTime::UNIX_EPOCH);
        report.record_user_plan(&UserPlan {
            records: actions.len(),
            actions,
            ..UserPlan::default()
        });
        report
    }

    #[test]
    fn a_failed_user_write_leaves_changes_counts_as_failed_and_is_an_error() {
        let update = UserAction::Update {
            user_id: 3,
            email: "b@x.gov".into(),
            name: Some("B".into()),
            organization_id: None,
        };
        let mut report = planned(vec![create("a@x.gov"), update.clone(), create("c@x.gov")]);
        assert_eq!(report.users.create, 2);
        let applied = UsersApplied {
            done: vec![create("a@x.gov"), update],
            failed: vec![UserFailure {
                action: create("c@x.gov"),
                code: "UserCreateFailed".into(),
                message: "Email: is invalid".into(),
            }],
            ..UsersApplied::default()
        };
        record_users_applied(&mut report, &applied);
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
        assert_eq!(report.errors[0].kind, "user_create_failed");
        assert_eq!(report.errors[0].email.as_deref(), Some("c@x.gov"));
        assert_eq!(
            report.errors[0].message,
            "UserCreateFailed: Email: is invalid"
        );
        assert_eq!(crate::exit::for_report(&report), crate::exit::WRITE_FAILED);
    }

    #[test]
    fn user_changes_name_their_contact_account() {
        let mut report = planned(vec![create("grace@tests.gov")]);
        let contacts = [Contact {
            name: Some("Grace".into()),
            email: Some(" Grace@Tests.gov ".into()),
            account_id: Some("0018SDEMO000103QPA".into()),
        }];
        name_accounts(&mut report, &contacts);
        assert_eq!(
            report.changes[0].salesforce_id.as_deref(),
            Some("0018SDEMO000103QPA")
        );
    }
}
