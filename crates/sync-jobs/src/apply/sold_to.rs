//! Global sold-to users (docs/behaviour.md §6) for the orgs that count as new: decided with
//! [`sync_core::users::decide_sold_to`] on the [`UserDirectory`] read before the first
//! write, and written with bulk jobs (one by one where bulk import is off).
//!
//! Outcomes are confirmed, not guessed (docs/behaviour.md §9): every create whose row failed,
//! whatever the row's code or wording, is looked up by email before it is called
//! failed; a user found is given the rules (in the org → done, `confirmed`; no org → put
//! in the org, the plan's write for that email becoming that update; another org →
//! `sold_to_in_other_org`, an agent or admin → `protected_user`: the create is
//! `withdrawn`, neither done nor failed).

use std::collections::{BTreeMap, BTreeSet};

use zendesk_client::{Client, Error as ZdError};

use super::federal_users::{apply_federal_users, UsersApplied};
use super::zendesk_stops_run;
use super::Stopped;
use crate::directory::{UserDirectory, Wanted};
use sync_core::model::{Finding, FindingKind};
use sync_core::users::{
    decide_known_user, decide_sold_to, KnownUser, SoldTo, UserAction, UserPlan,
};
use sync_core::zendesk::ZendeskUser;
use sync_core::ZendeskOrgId;

/// An org that counts as new for the sold-to step.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrg {
    /// Its account.
    pub salesforce_id: String,
    /// Its Zendesk id (0 in a dry run for an org not created yet).
    pub organization_id: ZendeskOrgId,
    /// The account's sold-to contacts.
    pub candidates: Vec<SoldTo>,
    /// Users the org already has.
    pub user_count: usize,
}

/// The sold-to decisions and, unless a dry run, what became of their writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SoldToOutcome {
    /// The decisions (findings included).
    pub plan: UserPlan,
    /// What was written; `None` in a dry run.
    pub applied: Option<UsersApplied>,
    /// Failed creates looked up again by email (confirmation reads).
    pub confirmed_by_lookup: usize,
}

/// What the sold-to step needs read before the first write: every sold-to email of the
/// orgs to create and of the recent orgs, and the users of the recent orgs (`recent`:
/// their ids).
pub fn wanted<'a>(emails: impl IntoIterator<Item = &'a SoldTo>, recent: &[ZendeskOrgId]) -> Wanted {
    Wanted {
        emails: emails.into_iter().map(|c| c.email.clone()).collect(),
        orgs: recent.iter().copied().collect(),
    }
}

/// Where confirmation reads are weighed (the same cost choice as the first read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCosts {
    /// Zendesk orgs read (sizes a scan when `users/count` cannot).
    pub orgs_in_zendesk: usize,
    /// The account's request limit per minute.
    pub requests_per_minute: u32,
}

/// Decides and (unless `dry_run`) writes the sold-to users of `new_orgs`, on what
/// `directory` read before the first write. When an error stops the writes,
/// [`Stopped`] carries the decisions and what was applied.
pub async fn sold_to_users(
    client: &Client,
    new_orgs: &[NewOrg],
    directory: &mut UserDirectory,
    leaving: &BTreeSet<ZendeskOrgId>,
    costs: ReadCosts,
    dry_run: bool,
) -> Result<SoldToOutcome, Stopped<SoldToOutcome>> {
    let mut out = SoldToOutcome {
        plan: decide_all(new_orgs, directory.by_email(), directory.deleted(), leaving),
        ..SoldToOutcome::default()
    };
    if dry_run || out.plan.actions.is_empty() {
        if !dry_run {
            out.applied = Some(UsersApplied::default());
        }
        return Ok(out);
    }
    let mut applied = match apply_federal_users(client, &out.plan.actions).await {
        Ok(applied) => applied,
        Err(Stopped { done, error }) => {
            out.applied = Some(done);
            return Err(Stopped { done: out, error });
        }
    };
    let confirmed =
        confirm_failed_creates(client, directory, leaving, costs, &mut out, &mut applied).await;
    out.applied = Some(applied);
    match confirmed {
        Ok(()) => Ok(out),
        Err(error) => Err(Stopped { done: out, error }),
    }
}

/// The decisions for every new org, in order. An email is given to the first new org
/// (by account) that wants it; the others get `sold_to_in_other_org`.
pub fn decide_all(
    new_orgs: &[NewOrg],
    known: &BTreeMap<String, ZendeskUser>,
    deleted: &BTreeSet<String>,
    leaving: &BTreeSet<ZendeskOrgId>,
) -> UserPlan {
    let mut all = UserPlan::default();
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for org in new_orgs {
        let mut candidates = Vec::new();
        let mut findings = Vec::new();
        for c in &org.candidates {
            match claimed.get(&c.email) {
                Some(first) => findings.push(Finding {
                    kind: FindingKind::SoldToInOtherOrg,
                    salesforce_id: Some(org.salesforce_id.clone()),
                    email: Some(c.email.clone()),
                    message: format!(
                        "sold-to email is also wanted by the new org of account {first}; created there only"
                    ),
                }),
                _ => candidates.push(c.clone()),
            }
        }
        let mut plan = decide_sold_to(
            &org.salesforce_id,
            org.organization_id,
            &candidates,
            known,
            deleted,
            leaving,
            org.user_count,
        );
        for a in &plan.actions {
            claimed
                .entry(a.email().to_string())
                .or_insert_with(|| org.salesforce_id.clone());
        }
        plan.findings.extend(findings);
        all.extend(plan);
    }
    all
}

/// What a failed create's lookup found, under the rules of docs/behaviour.md §6.
#[derive(Debug, Clone, PartialEq)]
enum Confirmed {
    /// The user is in the org: the create happened (or someone made it).
    Done,
    /// A user without an org: put it in the org.
    PutInOrg(UserAction),
    /// A user elsewhere (another org, or an agent/admin): reported, left there.
    Finding(Finding),
    /// No user: the create failed.
    Failed,
}

/// The rules applied to what a failed create's lookup found ([`decide_known_user`], as
/// when planning: `leaving` holds the orgs this run deletes).
fn confirm(
    action: &UserAction,
    found: Option<&ZendeskUser>,
    leaving: &BTreeSet<ZendeskOrgId>,
) -> Confirmed {
    let UserAction::Create {
        email,
        organization_id,
        ..
    } = action
    else {
        return Confirmed::Failed;
    };
    let Some(user) = found else {
        return Confirmed::Failed;
    };
    match decide_known_user(user, email, *organization_id, leaving) {
        KnownUser::InOrg => Confirmed::Done,
        KnownUser::Move(update) => Confirmed::PutInOrg(update),
        KnownUser::Left(finding) => Confirmed::Finding(finding),
    }
}

/// Every create whose row failed, whatever its code or wording, is looked up by email
/// (the cheaper way, as the first read) and the rules applied to what is found; only a
/// create whose user is still missing stays failed.
async fn confirm_failed_creates(
    client: &Client,
    directory: &mut UserDirectory,
    leaving: &BTreeSet<ZendeskOrgId>,
    costs: ReadCosts,
    out: &mut SoldToOutcome,
    applied: &mut UsersApplied,
) -> Result<(), ZdError> {
    let (creates, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut applied.failed)
        .into_iter()
        .partition(|f| matches!(f.action, UserAction::Create { .. }));
    applied.failed = rest;
    if creates.is_empty() {
        return Ok(());
    }
    let emails: BTreeSet<String> = creates
        .iter()
        .map(|f| f.action.email().to_string())
        .collect();
    out.confirmed_by_lookup += emails.len();
    if let Err(e) = directory
        .confirm(
            client,
            &emails,
            costs.orgs_in_zendesk,
            costs.requests_per_minute,
        )
        .await
    {
        applied.failed.extend(creates);
        if zendesk_stops_run(&e) {
            return Err(e);
        }
        tracing::warn!(error = %e, "failed sold-to creates could not be looked up again; reported failed");
        return Ok(());
    }
    let mut second = Vec::new();
    for failure in creates {
        match confirm(
            &failure.action,
            directory.user(failure.action.email()),
            leaving,
        ) {
            Confirmed::Done => {
                applied.confirmed.insert(failure.action.email().to_string());
                applied.done.push(failure.action);
            }
            Confirmed::PutInOrg(update) => {
                // The write for this email is now that update: the report counts it as
                // one (done or failed), not as a create.
                if let Some(planned) = out.plan.actions.iter_mut().find(|a| **a == failure.action) {
                    *planned = update.clone();
                }
                second.push(update);
            }
            Confirmed::Finding(mut f) => {
                applied.withdrawn.insert(failure.action.email().to_string());
                f.message = format!(
                    "{} (its create failed: {}: {})",
                    f.message, failure.code, failure.message
                );
                out.plan.findings.push(f);
            }
            Confirmed::Failed => applied.failed.push(failure),
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
    match stopped {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::zendesk::Role;
    use sync_core::ZendeskUserId;

    fn org(sfid: &str, id: u64, emails: &[&str]) -> NewOrg {
        NewOrg {
            salesforce_id: sfid.to_string(),
            organization_id: ZendeskOrgId(id),
            candidates: emails
                .iter()
                .map(|e| SoldTo {
                    email: e.to_string(),
                    name: "Billing".to_string(),
                })
                .collect(),
            user_count: 0,
        }
    }

    fn user(id: u64, email: &str, organization_id: Option<u64>) -> ZendeskUser {
        ZendeskUser {
            id: ZendeskUserId(id),
            name: "U".into(),
            email: Some(email.into()),
            role: Role::EndUser,
            organization_id: organization_id.map(ZendeskOrgId),
            tags: Vec::new(),
            created_at: None,
        }
    }

    #[test]
    fn an_unknown_email_wanted_by_two_new_orgs_is_created_once() {
        let plan = decide_all(
            &[org("A", 1, &["x@a.example"]), org("B", 2, &["x@a.example"])],
            &BTreeMap::new(),
            &BTreeSet::new(),
            &BTreeSet::new(),
        );
        assert_eq!(
            plan.actions,
            vec![UserAction::Create {
                name: "Billing".into(),
                email: "x@a.example".into(),
                organization_id: ZendeskOrgId(1),
            }]
        );
        let kinds: Vec<(FindingKind, Option<&str>)> = plan
            .findings
            .iter()
            .map(|f| (f.kind, f.salesforce_id.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (FindingKind::NoContactForNewOrg, Some("B")),
                (FindingKind::SoldToInOtherOrg, Some("B")),
            ]
        );
    }

    #[test]
    fn a_known_user_without_org_goes_to_the_first_org_only() {
        let known: BTreeMap<String, ZendeskUser> =
            [("y@a.example".to_string(), user(9, "y@a.example", None))].into();
        let plan = decide_all(
            &[org("A", 1, &["y@a.example"]), org("B", 2, &["y@a.example"])],
            &known,
            &BTreeSet::new(),
            &BTreeSet::new(),
        );
        // Both orgs want the same known user without an org: only the first gets it.
        assert_eq!(
            plan.actions,
            vec![UserAction::Update {
                user_id: ZendeskUserId(9),
                email: "y@a.example".into(),
                name: None,
                organization_id: Some(ZendeskOrgId(1)),
            }]
        );
        assert!(plan
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::SoldToInOtherOrg
                && f.salesforce_id.as_deref() == Some("B")));
    }

    /// A sold-to user in an org this run deletes is moved into the new org now, not by
    /// the next run once the deletion has left it without an org.
    #[test]
    fn a_user_of_an_org_being_deleted_is_moved_in_this_run() {
        let known: BTreeMap<String, ZendeskUser> = [
            ("y@a.example".to_string(), user(9, "y@a.example", Some(70))),
            ("z@a.example".to_string(), user(10, "z@a.example", Some(71))),
        ]
        .into();
        let leaving: BTreeSet<ZendeskOrgId> = [ZendeskOrgId(70)].into();
        let plan = decide_all(
            &[org("A", 1, &["y@a.example", "z@a.example"])],
            &known,
            &BTreeSet::new(),
            &leaving,
        );
        assert_eq!(
            plan.actions,
            vec![UserAction::Update {
                user_id: ZendeskUserId(9),
                email: "y@a.example".into(),
                name: None,
                organization_id: Some(ZendeskOrgId(1)),
            }]
        );
        // The user of an org that stays is left there, as before.
        assert!(plan
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::SoldToInOtherOrg
                && f.email.as_deref() == Some("z@a.example")));
    }

    /// A failed create whose lookup finds the user in an org this run deletes moves it,
    /// as planning does (`decide_known_user`).
    #[test]
    fn a_failed_create_found_in_an_org_being_deleted_is_moved() {
        let create = UserAction::Create {
            name: "N".into(),
            email: "x@a.example".into(),
            organization_id: ZendeskOrgId(5),
        };
        let leaving: BTreeSet<ZendeskOrgId> = [ZendeskOrgId(6)].into();
        assert_eq!(
            confirm(&create, Some(&user(9, "x@a.example", Some(6))), &leaving),
            Confirmed::PutInOrg(UserAction::Update {
                user_id: ZendeskUserId(9),
                email: "x@a.example".into(),
                name: None,
                organization_id: Some(ZendeskOrgId(5)),
            })
        );
    }

    /// A failed create is judged on what its lookup finds, whatever the row said.
    #[test]
    fn a_failed_create_is_confirmed_by_what_the_lookup_finds() {
        let create = UserAction::Create {
            name: "N".into(),
            email: "x@a.example".into(),
            organization_id: ZendeskOrgId(5),
        };
        assert_eq!(confirm(&create, None, &BTreeSet::new()), Confirmed::Failed);
        assert_eq!(
            confirm(
                &create,
                Some(&user(9, "x@a.example", Some(5))),
                &BTreeSet::new()
            ),
            Confirmed::Done
        );
        assert_eq!(
            confirm(
                &create,
                Some(&user(9, "x@a.example", None)),
                &BTreeSet::new()
            ),
            Confirmed::PutInOrg(UserAction::Update {
                user_id: ZendeskUserId(9),
                email: "x@a.example".into(),
                name: None,
                organization_id: Some(ZendeskOrgId(5)),
            })
        );
        match confirm(
            &create,
            Some(&user(9, "x@a.example", Some(6))),
            &BTreeSet::new(),
        ) {
            Confirmed::Finding(f) => assert_eq!(f.kind, FindingKind::SoldToInOtherOrg),
            other => panic!("{other:?}"),
        }
        let mut agent = user(9, "x@a.example", None);
        agent.role = Role::Agent;
        match confirm(&create, Some(&agent), &BTreeSet::new()) {
            Confirmed::Finding(f) => assert_eq!(f.kind, FindingKind::ProtectedUser),
            other => panic!("{other:?}"),
        }
    }
}
