//! User decisions (docs/behaviour.md §6): Global sold-to users for new orgs, and US Federal
//! contacts → users. Pure: lookups are inputs, decisions are outputs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::{Date, Duration, UtcOffset};

use crate::ids::{SalesforceId, ZendeskOrgId, ZendeskUserId};
use crate::model::{BillingAccount, Contact, Finding, FindingKind};
use crate::zendesk::{ZendeskOrg, ZendeskUser};

/// Whether an email is syntactically valid enough to be a Zendesk identity:
/// one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_valid_email(email: &str) -> bool {
    if email.is_ascii() {
        return is_valid_ascii_email(email.as_bytes());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    // `@` and `.` are ASCII: searching the bytes finds exactly those characters.
    let domain = domain.as_bytes();
    !local.is_empty()
        && !domain.contains(&b'@')
        && !has_space_or_control(email)
        && domain.contains(&b'.')
        && domain.first() != Some(&b'.')
        && domain.last() != Some(&b'.')
        && !domain.windows(2).any(|pair| pair == b"..")
}

/// [`is_valid_email`] of an ASCII email, in one pass over its bytes (it runs once per
/// sold-to email of every account).
fn is_valid_ascii_email(email: &[u8]) -> bool {
    let mut at = None;
    let (mut dots, mut previous) = (0usize, 0u8);
    for (i, &b) in email.iter().enumerate() {
        if b <= b' ' || b == 0x7f {
            return false;
        }
        if b == b'@' {
            if at.is_some() || i == 0 {
                return false;
            }
            at = Some(i);
        } else if b == b'.' && at.is_some() {
            if previous == b'.' || previous == b'@' {
                return false;
            }
            dots += 1;
        }
        previous = b;
    }
    at.is_some() && dots > 0 && previous != b'.'
}

/// Whether `text` holds a whitespace or control character (for ASCII text, the bytes up
/// to the space, and DEL: what [`is_valid_ascii_email`] checks byte by byte).
fn has_space_or_control(text: &str) -> bool {
    text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A sold-to contact of a new org.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoldTo {
    /// Trimmed, lowercased, valid.
    pub email: String,
    /// The billing account's `Name`, else the email's local part.
    pub name: String,
}

/// Sold-to contacts from billing accounts: trimmed, lowercased, valid, deduplicated
/// (first billing account wins the name). Invalid emails are dropped.
pub fn sold_to_contacts(billing: &[BillingAccount]) -> Vec<SoldTo> {
    // At its largest size (one contact per billing account) rather than grown: a list
    // grown from empty starts with room for four, and the plan holds one per account.
    // The texts are copied, not moved out of the account: the plan keeps them to the
    // end of the sold-to step, and a copy made now sits beside the plan's other
    // entries instead of holding a page of the decoded accounts (issue 13).
    let mut out: Vec<SoldTo> = Vec::with_capacity(billing.len());
    for b in billing {
        let Some(email) = b.sold_to_email.as_deref().map(lowercase_trimmed) else {
            continue;
        };
        // The emails seen are the ones kept (an account has a few billing accounts).
        if !is_valid_email(&email) || out.iter().any(|s| s.email == email) {
            continue;
        }
        let name = b
            .name
            .clone()
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        out.push(SoldTo { email, name });
    }
    out
}

/// `text` trimmed and lowercased as `str::trim` and `str::to_lowercase` do: for ASCII
/// text, both come to lowercasing each ASCII letter, which is faster.
fn lowercase_trimmed(text: &str) -> String {
    let text = text.trim();
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// Days an org counts as new for the sold-to step (docs/behaviour.md §6).
pub const NEW_ORG_DAYS: i64 = 7;

/// Whether an existing org still counts as new for the sold-to step (docs/behaviour.md §6): created
/// less than [`NEW_ORG_DAYS`] days before `today` (judged in UTC), whatever users it
/// has already. Each of its sold-to emails is checked on every run of that week, email
/// by email, so one lost to a fault is created by the next run.
pub fn is_new_org(org: &ZendeskOrg, today: Date) -> bool {
    let Some(since) = today.checked_sub(Duration::days(NEW_ORG_DAYS)) else {
        return false;
    };
    org.created_at
        .is_some_and(|at| at.to_offset(UtcOffset::UTC).date() > since)
}

/// A user write.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum UserAction {
    /// Create an end-user in an org.
    Create {
        /// Name.
        name: String,
        /// Email.
        email: String,
        /// The org.
        organization_id: ZendeskOrgId,
    },
    /// Update an existing user: only the changed attributes are `Some`.
    Update {
        /// The user.
        user_id: ZendeskUserId,
        /// Email (for the report).
        email: String,
        /// New name.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// New org.
        #[serde(skip_serializing_if = "Option::is_none")]
        organization_id: Option<ZendeskOrgId>,
    },
}

impl UserAction {
    /// The email this action concerns.
    pub fn email(&self) -> &str {
        match self {
            UserAction::Create { email, .. } | UserAction::Update { email, .. } => email,
        }
    }
}

/// The user decisions of a run (sold-to or contacts).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct UserPlan {
    /// Records read (contacts), or sold-to candidates considered.
    pub records: usize,
    /// Writes, sorted by email.
    pub actions: Vec<UserAction>,
    /// Users already as desired.
    pub unchanged: usize,
    /// Findings.
    pub findings: Vec<Finding>,
}

impl UserPlan {
    /// Number of creates.
    pub fn creates(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, UserAction::Create { .. }))
            .count()
    }

    /// Number of updates.
    pub fn updates(&self) -> usize {
        self.actions.len() - self.creates()
    }

    /// Appends another plan (e.g. the sold-to decisions of several orgs).
    pub fn extend(&mut self, other: UserPlan) {
        self.records += other.records;
        self.actions.extend(other.actions);
        self.unchanged += other.unchanged;
        self.findings.extend(other.findings);
    }
}

/// What becomes of a sold-to email whose Zendesk user exists (docs/behaviour.md §6).
#[derive(Debug, Clone, PartialEq)]
pub enum KnownUser {
    /// The user is in the org already.
    InOrg,
    /// The user has no org (or one this run deletes): put it in the org.
    Move(UserAction),
    /// The user stays where it is: `protected_user` (an agent or admin) or
    /// `sold_to_in_other_org` (another org), without an account.
    Left(Finding),
}

/// The rules for a sold-to `email` of org `organization_id` whose user exists: in the
/// org → nothing; an agent or admin → `protected_user`; no org, or an org in `leaving`
/// (this run deletes it, and Zendesk empties its users' org) → moved into the org;
/// another org → `sold_to_in_other_org`. Used when planning and when a failed create's
/// lookup finds the user.
pub fn decide_known_user(
    user: &ZendeskUser,
    email: &str,
    organization_id: ZendeskOrgId,
    leaving: &BTreeSet<ZendeskOrgId>,
) -> KnownUser {
    let org = user.organization_id.filter(|o| !leaving.contains(o));
    if org == Some(organization_id) {
        return KnownUser::InOrg;
    }
    if user.is_protected() {
        return KnownUser::Left(Finding::email(
            FindingKind::ProtectedUser,
            email,
            format!(
                "user {} is an agent or admin; not added to org {organization_id}",
                user.id
            ),
        ));
    }
    match org {
        None => KnownUser::Move(UserAction::Update {
            user_id: user.id,
            email: email.to_string(),
            name: None,
            organization_id: Some(organization_id),
        }),
        Some(other) => KnownUser::Left(Finding::email(
            FindingKind::SoldToInOtherOrg,
            email,
            format!(
                "sold-to user {} belongs to org {other}; left there",
                user.id
            ),
        )),
    }
}

/// Sold-to decisions for one new org (docs/behaviour.md §6), email by email: no user → create it in
/// the org, unless the email is among Zendesk's deleted users (`deleted`: an agent
/// removed it on purpose → `deleted_user_not_recreated`); a user in this org → unchanged;
/// with no org → put in the org; an agent or admin → `protected_user`; in another org →
/// `sold_to_in_other_org`. `known` holds the live Zendesk users found for the
/// candidates' emails (by lowercased email); `leaving` the orgs this run deletes (their
/// users count as having no org); `org_user_count` the users the org has.
pub fn decide_sold_to(
    salesforce_id: &str,
    organization_id: ZendeskOrgId,
    candidates: &[SoldTo],
    known: &BTreeMap<String, ZendeskUser>,
    deleted: &BTreeSet<String>,
    leaving: &BTreeSet<ZendeskOrgId>,
    org_user_count: usize,
) -> UserPlan {
    let mut plan = UserPlan {
        records: candidates.len(),
        ..UserPlan::default()
    };
    for c in candidates {
        match known.get(&c.email) {
            None if deleted.contains(&c.email) => {
                let mut f = Finding::email(
                    FindingKind::DeletedUserNotRecreated,
                    &c.email,
                    format!(
                        "a deleted Zendesk user has this sold-to email (an agent removed it); \
                         not created again in org {organization_id}"
                    ),
                );
                f.salesforce_id = Some(salesforce_id.to_string());
                plan.findings.push(f);
            }
            None => plan.actions.push(UserAction::Create {
                name: c.name.clone(),
                email: c.email.clone(),
                organization_id,
            }),
            Some(user) => match decide_known_user(user, &c.email, organization_id, leaving) {
                KnownUser::InOrg => plan.unchanged += 1,
                KnownUser::Move(update) => plan.actions.push(update),
                KnownUser::Left(mut f) => {
                    // The planned finding names the account when the user is in another org.
                    if f.kind == FindingKind::SoldToInOtherOrg {
                        f.salesforce_id = Some(salesforce_id.to_string());
                    }
                    plan.findings.push(f);
                }
            },
        }
    }
    if plan.actions.is_empty() && plan.unchanged == 0 && org_user_count == 0 {
        plan.findings.push(no_contact_for_new_org(
            salesforce_id,
            organization_id,
            candidates.len(),
        ));
    }
    plan.actions.sort_by(|a, b| a.email().cmp(b.email()));
    plan
}

/// `no_contact_for_new_org`: the new org ends with no user.
fn no_contact_for_new_org(
    salesforce_id: &str,
    organization_id: ZendeskOrgId,
    candidates: usize,
) -> Finding {
    Finding::account(
        FindingKind::NoContactForNewOrg,
        Some(salesforce_id),
        match candidates {
            0 => format!(
                "new org {organization_id} has no user: its account has no valid sold-to \
                 email (Zuora__SoldToWorkEmail__c of its billing accounts)"
            ),
            n => format!(
                "new org {organization_id} has no user: none of its {n} sold-to email(s) \
                 could be added (see the findings for those emails)"
            ),
        },
    )
}

/// A contact that passed docs/behaviour.md §6's validity rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ValidContact {
    /// Trimmed, lowercased, valid.
    email: String,
    /// Non-blank.
    name: String,
    /// `Account.Account_ID_18__c`.
    account: String,
}

/// docs/behaviour.md §6 `invalid_contact`: a contact needs a non-blank `Name`, a valid `Email`
/// and `Account.Account_ID_18__c`. The finding names the first problem; without an
/// email, it names the contact.
fn validate_contact(c: &Contact) -> Result<ValidContact, Finding> {
    let email = c.email.as_deref().map(|e| e.trim().to_lowercase());
    let problem = match (&c.name, &email, &c.account_id) {
        (None, _, _) => Some("field Name: blank"),
        (_, None, _) => Some("field Email: blank"),
        (_, Some(e), _) if !is_valid_email(e) => Some("field Email: not a valid email"),
        (_, _, None) => Some("field Account.Account_ID_18__c: no account"),
        _ => None,
    };
    match (problem, &c.name, email, &c.account_id) {
        (None, Some(name), Some(email), Some(account)) => Ok(ValidContact {
            email,
            name: name.clone(),
            account: account.clone(),
        }),
        (problem, name, email, account) => {
            let problem = problem.unwrap_or("incomplete contact");
            // Without an email, the contact's name is what a person can look up.
            let message = match (&email, name) {
                (None, Some(name)) => format!("{problem} (contact {name})"),
                _ => problem.to_string(),
            };
            Err(Finding {
                kind: FindingKind::InvalidContact,
                salesforce_id: account.clone(),
                email: email.or_else(|| c.email.clone()),
                message,
            })
        }
    }
}

/// docs/behaviour.md §6 US Federal, one valid contact with a unique email in org `org_id`: no
/// user → create; an agent or admin is never modified (`protected_user` when it
/// differs); an end-user is updated when its name or org differs.
fn decide_contact_user(
    plan: &mut UserPlan,
    contact: &ValidContact,
    org_id: ZendeskOrgId,
    user: Option<&ZendeskUser>,
) {
    let ValidContact { email, name, .. } = contact;
    let Some(user) = user else {
        plan.actions.push(UserAction::Create {
            name: name.clone(),
            email: email.clone(),
            organization_id: org_id,
        });
        return;
    };
    let new_name = (user.name.trim() != name).then(|| name.clone());
    let new_org = (user.organization_id != Some(org_id)).then_some(org_id);
    if new_name.is_none() && new_org.is_none() {
        plan.unchanged += 1;
    } else if user.is_protected() {
        plan.findings.push(Finding::email(
            FindingKind::ProtectedUser,
            email,
            format!(
                "user {} is an agent or admin; never modified by the sync",
                user.id
            ),
        ));
    } else {
        plan.actions.push(UserAction::Update {
            user_id: user.id,
            email: email.clone(),
            name: new_name,
            organization_id: new_org,
        });
    }
}

/// US Federal contacts → user decisions. `org_ids` maps `salesforce_id` → org id
/// (including orgs created this run); `users` are all Zendesk users.
///
/// docs/behaviour.md §6, in order: invalid contacts are reported (`validate_contact`); every
/// contact whose lowercased email another contact shares is dropped
/// (`duplicate_email`); one whose account has no org is `no_organization`; the rest
/// are matched to users by email (`decide_contact_user`).
pub fn plan_federal_users(
    contacts: &[Contact],
    org_ids: &BTreeMap<SalesforceId, ZendeskOrgId>,
    users: &[ZendeskUser],
) -> UserPlan {
    let mut plan = UserPlan {
        records: contacts.len(),
        ..UserPlan::default()
    };
    let mut valid = Vec::new();
    for c in contacts {
        match validate_contact(c) {
            Ok(contact) => valid.push(contact),
            Err(finding) => plan.findings.push(finding),
        }
    }
    valid.sort();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &valid {
        *count.entry(c.email.as_str()).or_default() += 1;
    }
    let by_email: BTreeMap<String, &ZendeskUser> = users
        .iter()
        .filter_map(|u| u.email_key().map(|e| (e, u)))
        .collect();
    let mut reported = BTreeSet::new();
    for contact in &valid {
        let email = contact.email.as_str();
        let n = count.get(email).copied().unwrap_or(0);
        if n > 1 {
            if reported.insert(email) {
                plan.findings.push(Finding::email(
                    FindingKind::DuplicateEmail,
                    email,
                    format!("{n} contacts share this email (case-insensitive); all are skipped"),
                ));
            }
            continue;
        }
        // A contact's account may be any text: looked up by its `str` form.
        let Some(org_id) = org_ids.get(contact.account.as_str()).copied() else {
            let mut f = Finding::email(
                FindingKind::NoOrganization,
                email,
                format!("no Zendesk org has salesforce_id {}", contact.account),
            );
            f.salesforce_id = Some(contact.account.clone());
            plan.findings.push(f);
            continue;
        };
        decide_contact_user(&mut plan, contact, org_id, by_email.get(email).copied());
    }
    plan
}

/// Records per page of a cursor list of users (`GET users`).
pub const LIST_PAGE_SIZE: u64 = 100;
/// Records per page of the incremental user export.
pub const EXPORT_PAGE_SIZE: u64 = 1000;
/// The incremental exports' own limit in requests per minute, on top of the account's.
pub const EXPORT_REQUESTS_PER_MINUTE: u32 = 10;

/// How the user reads of a run are made (docs/behaviour.md §6, "lookups are bounded").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserReadWay {
    /// One `users/search?query=email:"…"` per email and one `organizations/{id}/users`
    /// per org.
    Lookups,
    /// One scan of the users: `GET users`, cursor pages of 100.
    ListScan,
    /// One scan with the incremental user export: 1,000 a page, 10 requests a minute.
    ExportScan,
}

impl UserReadWay {
    /// A short name for the log.
    pub fn as_str(self) -> &'static str {
        match self {
            UserReadWay::Lookups => "lookups",
            UserReadWay::ListScan => "list scan",
            UserReadWay::ExportScan => "export scan",
        }
    }
}

/// What the user reads of a run are weighed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserReadInputs {
    /// Emails to look up.
    pub emails: u64,
    /// Orgs whose users are needed.
    pub orgs: u64,
    /// Estimated number of users a scan reads (an estimate only: `users/count`).
    pub users_estimate: u64,
    /// The account's request limit per minute (`--zd-rate-limit`).
    pub requests_per_minute: u32,
}

/// One way of reading, costed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserReadCost {
    /// The way.
    pub way: UserReadWay,
    /// Requests it makes.
    pub calls: u64,
    /// Its wall time at the rate limits that apply, in milliseconds.
    pub wall_ms: u64,
}

/// Milliseconds `calls` requests take at `per_minute` (at least 1 a minute).
fn wall_ms(calls: u64, per_minute: u32) -> u64 {
    let per_minute = u64::from(per_minute.max(1));
    calls.saturating_mul(60_000).div_ceil(per_minute)
}

/// The three ways of reading, costed: targeted lookups (one call per email and per
/// org), a cursor list of the end-users (`⌈users/100⌉` pages, at least one), and the
/// incremental export (`⌈users/1,000⌉` pages, at least one, at the slower of the account's
/// limit and the export's own 10 a minute).
pub fn user_read_costs(inputs: &UserReadInputs) -> [UserReadCost; 3] {
    let rate = inputs.requests_per_minute;
    let lookups = inputs.emails.saturating_add(inputs.orgs);
    let list = inputs.users_estimate.div_ceil(LIST_PAGE_SIZE).max(1);
    let export = inputs.users_estimate.div_ceil(EXPORT_PAGE_SIZE).max(1);
    let export_rate = rate.min(EXPORT_REQUESTS_PER_MINUTE);
    [
        UserReadCost {
            way: UserReadWay::Lookups,
            calls: lookups,
            wall_ms: wall_ms(lookups, rate),
        },
        UserReadCost {
            way: UserReadWay::ListScan,
            calls: list,
            wall_ms: wall_ms(list, rate),
        },
        UserReadCost {
            way: UserReadWay::ExportScan,
            calls: export,
            wall_ms: wall_ms(export, export_rate),
        },
    ]
}

/// The cheaper way (docs/behaviour.md §6): the shorter wall time at the rate limits that apply,
/// fewer calls breaking a tie (then lookups before a scan, the list before the export:
/// the fresher read). Nothing to read → lookups, which make no call.
pub fn choose_user_reads(inputs: &UserReadInputs) -> UserReadCost {
    let costs = user_read_costs(inputs);
    let [lookups, ..] = costs;
    if inputs.emails.saturating_add(inputs.orgs) == 0 {
        return lookups;
    }
    costs
        .into_iter()
        .min_by_key(|c| (c.wall_ms, c.calls, c.way))
        .unwrap_or(lookups)
}

#[cfg(test)]
mod tests {
    use super::{is_valid_email, lowercase_trimmed};
    use proptest::prelude::*;

    /// The first definition of `is_valid_email`, kept as the reference.
    fn is_valid_email_reference(email: &str) -> bool {
        let Some((local, domain)) = email.split_once('@') else {
            return false;
        };
        !local.is_empty()
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
    }

    proptest! {
        #[test]
        fn is_valid_email_is_what_it_was(email in "[a.@ \\t\\x7fé\u{a0}\u{2028}b]{0,12}") {
            prop_assert_eq!(is_valid_email(&email), is_valid_email_reference(&email));
        }

        #[test]
        fn an_ascii_email_is_judged_as_it_was(email in "[a.@ \\t\\x7fb-]{0,12}") {
            prop_assert_eq!(is_valid_email(&email), is_valid_email_reference(&email));
        }

        #[test]
        fn lowercase_trimmed_is_trim_and_to_lowercase(text in "[aZ.@ \\t\\x0bÉé\u{a0}\u{2028}]{0,12}") {
            prop_assert_eq!(lowercase_trimmed(&text), text.trim().to_lowercase());
        }
    }
}
