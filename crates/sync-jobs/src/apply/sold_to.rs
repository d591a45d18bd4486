//! Global sold-to users (SPEC §6) for the orgs that count as new: look each sold-to
//! email up (`users/search?query=email:"…"`), decide with
//! [`sync_core::users::decide_sold_to`], and write the users with bulk jobs (falling back
//! to one-by-one creates where bulk import is off). A create refused because the
//! email is taken (`DuplicateValue`) means the user appeared since the lookup: it is
//! looked up again and the rules applied to what is found.

use std::collections::{BTreeMap, BTreeSet};

use zendesk_client::{Client, Error as ZdError};

use super::federal_users::{apply_federal_users, UsersApplied};
use super::zendesk_stops_run;
use super::Stopped;
use crate::convert::zendesk_user;
use sync_core::model::{Finding, FindingKind};
use sync_core::users::{decide_sold_to, SoldTo, UserAction, UserPlan};
use sync_core::zendesk::ZendeskUser;

/// An org that counts as new for the sold-to step.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrg {
    /// Its account.
    pub salesforce_id: String,
    /// Its Zendesk id (0 in a dry run for an org not created yet).
    pub organization_id: u64,
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
    /// `users/search` lookups made.
    pub lookups: usize,
}

/// Looks up one email: the user whose email matches it (case-insensitive), if any.
async fn lookup(client: &Client, email: &str) -> Result<Option<ZendeskUser>, ZdError> {
    match client.users().search_by_email(email).await {
        Ok(users) => Ok(users
            .into_iter()
            .map(zendesk_user)
            .find(|u| u.email_key().as_deref() == Some(email))),
        Err(ZdError::InvalidInput(message)) => {
            tracing::warn!(%email, %message, "sold-to email cannot be searched; treated as unknown");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Decides and (unless `dry_run`) writes the sold-to users of `new_orgs`. When an
/// error stops the writes, [`Stopped`] carries the decisions and what was applied.
pub async fn sold_to_users(
    client: &Client,
    new_orgs: &[NewOrg],
    dry_run: bool,
) -> Result<SoldToOutcome, Stopped<SoldToOutcome>> {
    let mut out = SoldToOutcome::default();
    let mut known: BTreeMap<String, ZendeskUser> = BTreeMap::new();
    let emails: BTreeSet<&str> = new_orgs
        .iter()
        .flat_map(|o| o.candidates.iter().map(|c| c.email.as_str()))
        .collect();
    for email in emails {
        out.lookups += 1;
        match lookup(client, email).await {
            Ok(Some(user)) => {
                known.insert(email.to_string(), user);
            }
            Ok(None) => {}
            Err(error) => return Err(Stopped { done: out, error }),
        }
    }
    out.plan = decide_all(new_orgs, &known);
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
    let retried = retry_duplicates(client, &mut out, &mut applied).await;
    out.applied = Some(applied);
    match retried {
        Ok(()) => Ok(out),
        Err(error) => Err(Stopped { done: out, error }),
    }
}

/// The decisions for every new org, in order. An email is given to the first new org
/// (by account) that wants it; the others get `sold_to_in_other_org`.
pub fn decide_all(new_orgs: &[NewOrg], known: &BTreeMap<String, ZendeskUser>) -> UserPlan {
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

/// Whether a failed create says the email already has a user.
fn is_duplicate(code: &str, message: &str) -> bool {
    let m = message.to_lowercase();
    code == "DuplicateValue"
        || code == "EmailAlreadyTaken"
        || m.contains("duplicatevalue")
        || m.contains("already being used")
        || m.contains("already been taken")
}

/// Creates refused as duplicates: look the user up again and apply the rules to it.
async fn retry_duplicates(
    client: &Client,
    out: &mut SoldToOutcome,
    applied: &mut UsersApplied,
) -> Result<(), ZdError> {
    let (dups, rest): (Vec<_>, Vec<_>) =
        std::mem::take(&mut applied.failed)
            .into_iter()
            .partition(|f| {
                matches!(f.action, UserAction::Create { .. }) && is_duplicate(&f.code, &f.message)
            });
    applied.failed = rest;
    let mut second = Vec::new();
    for failure in dups {
        let UserAction::Create {
            email,
            organization_id,
            ..
        } = &failure.action
        else {
            continue;
        };
        out.lookups += 1;
        let user = match lookup(client, email).await {
            Ok(u) => u,
            Err(e) if zendesk_stops_run(&e) => return Err(e),
            Err(_) => None,
        };
        match user {
            Some(u) if u.organization_id == Some(*organization_id) => {
                applied.confirmed.insert(email.clone());
                applied.done.push(failure.action.clone())
            }
            Some(u) if u.organization_id.is_none() && !u.is_protected() => {
                second.push(UserAction::Update {
                    user_id: u.id,
                    email: email.clone(),
                    name: None,
                    organization_id: Some(*organization_id),
                })
            }
            Some(u) => {
                applied.withdrawn.insert(email.clone());
                out.plan.findings.push(Finding {
                    kind: if u.is_protected() {
                        FindingKind::ProtectedUser
                    } else {
                        FindingKind::SoldToInOtherOrg
                    },
                    salesforce_id: None,
                    email: Some(email.clone()),
                    message: format!(
                        "sold-to user {} appeared during the run in org {:?}; left there",
                        u.id, u.organization_id
                    ),
                })
            }
            None => applied.failed.push(failure),
        }
    }
    if !second.is_empty() {
        let (again, stopped) = match apply_federal_users(client, &second).await {
            Ok(again) => (again, None),
            Err(Stopped { done, error }) => (done, Some(error)),
        };
        applied.done.extend(again.done);
        applied.failed.extend(again.failed);
        if let Some(error) = stopped {
            return Err(error);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::zendesk::Role;

    fn org(sfid: &str, id: u64, emails: &[&str]) -> NewOrg {
        NewOrg {
            salesforce_id: sfid.to_string(),
            organization_id: id,
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
            id,
            name: "U".into(),
            email: Some(email.into()),
            role: Role::EndUser,
            organization_id,
            tags: Vec::new(),
            created_at: None,
        }
    }

    #[test]
    fn an_unknown_email_wanted_by_two_new_orgs_is_created_once() {
        let plan = decide_all(
            &[org("A", 1, &["x@a.example"]), org("B", 2, &["x@a.example"])],
            &BTreeMap::new(),
        );
        assert_eq!(
            plan.actions,
            vec![UserAction::Create {
                name: "Billing".into(),
                email: "x@a.example".into(),
                organization_id: 1,
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
        );
        // Both orgs want the same known user without an org: only the first gets it.
        assert_eq!(
            plan.actions,
            vec![UserAction::Update {
                user_id: 9,
                email: "y@a.example".into(),
                name: None,
                organization_id: Some(1),
            }]
        );
        assert!(plan
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::SoldToInOtherOrg
                && f.salesforce_id.as_deref() == Some("B")));
    }

    #[test]
    fn duplicate_refusals_are_recognised() {
        assert!(is_duplicate("DuplicateValue", ""));
        assert!(is_duplicate(
            "UserCreateError",
            "Email: x@a.example is already being used by another user"
        ));
        assert!(!is_duplicate(
            "UserCreateError",
            "Email: x is not properly formatted"
        ));
    }
}
