//! The user directory (docs/behaviour.md §6, "lookups are bounded"): what the user rules need to
//! know of Zendesk — the user of an email, the users of an org, the emails among the
//! deleted users — read once, before the first write, the cheaper way.
//!
//! Before reading, [`UserDirectory::read`] weighs targeted lookups
//! (`users/search?query=email:"…"` per email, `organizations/{id}/users` per org)
//! against one scan of the users (`GET users`, cursor pages of 100, or the incremental
//! user export, 1,000 a page at 10 requests a minute), sized with `users/count` (an
//! estimate only, \[UNCONFIRMED\]), with
//! [`sync_core::users::choose_user_reads`], and logs the choice. A scan keeps only the
//! users of the emails and orgs in play: compact typed records, nothing else.
//!
//! The US Federal job reads every user, all roles (its agents and admins must be seen
//! to be left alone): [`UserDirectory::read_everyone`].
//!
//! Every error here is a read failure: before the first write, the caller stops the
//! run with nothing written (exit 4).

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use zendesk_client::{Client, Error as ZdError, User};

use crate::convert::{client_org_id, zendesk_user};
use crate::progress::{Progress, Total};
use sync_core::users::{choose_user_reads, user_read_costs, UserReadInputs, UserReadWay};
use sync_core::{ZendeskOrgId, ZendeskUser};

/// Targeted lookups in flight at once (the client's rate limiter paces them).
const LOOKUP_CONCURRENCY: usize = 8;

/// Users assumed per Zendesk org when `users/count` cannot size the scan.
pub const FALLBACK_USERS_PER_ORG: u64 = 10;

/// At most this many lookups are made without asking `users/count` first: a count and
/// the smallest scan would cost as many calls.
const LOOKUPS_WITHOUT_COUNT: u64 = 2;

/// What a run needs to know of Zendesk's users.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wanted {
    /// Emails (lowercased, trimmed) whose user is needed.
    pub emails: BTreeSet<String>,
    /// Orgs whose users are needed.
    pub orgs: BTreeSet<ZendeskOrgId>,
}

impl Wanted {
    /// Nothing to read.
    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.orgs.is_empty()
    }
}

/// The sizes the choice was made on, for the log and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// The number of users a scan would read, as estimated.
    pub users_estimate: u64,
    /// Whether `users/count` gave it (else the estimate from the orgs).
    pub counted: bool,
}

/// The answers of one read: users by email, users per org, deleted emails.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserDirectory {
    /// Live users of the wanted emails, by lowercased email (every user with an email in
    /// [`UserDirectory::read_everyone`]).
    by_email: BTreeMap<String, ZendeskUser>,
    /// Users seen per wanted org (in lookups, at most one page).
    org_users: BTreeMap<ZendeskOrgId, usize>,
    /// Wanted emails found among the deleted users.
    deleted: BTreeSet<String>,
    /// How the users were read.
    way: Option<UserReadWay>,
    /// What the choice was sized on (`None`: no count needed).
    sizing: Option<Sizing>,
    /// Users read, all ways together (the report's `zendesk.users`).
    read: usize,
}

impl UserDirectory {
    /// The live user with this email (lowercased, trimmed), if any.
    pub fn user(&self, email: &str) -> Option<&ZendeskUser> {
        self.by_email.get(email)
    }

    /// Every live user found, by lowercased email.
    pub fn by_email(&self) -> &BTreeMap<String, ZendeskUser> {
        &self.by_email
    }

    /// Every user found (US Federal: every user of the account with an email).
    pub fn users(&self) -> impl Iterator<Item = &ZendeskUser> {
        self.by_email.values()
    }

    /// The users seen in a wanted org.
    pub fn org_user_count(&self, org: ZendeskOrgId) -> usize {
        self.org_users.get(&org).copied().unwrap_or(0)
    }

    /// The wanted emails found among Zendesk's deleted users.
    pub fn deleted(&self) -> &BTreeSet<String> {
        &self.deleted
    }

    /// How the users were read (`None`: nothing was read).
    pub fn way(&self) -> Option<UserReadWay> {
        self.way
    }

    /// What the choice was sized on.
    pub fn sizing(&self) -> Option<Sizing> {
        self.sizing
    }

    /// Users read.
    pub fn users_read(&self) -> usize {
        self.read
    }

    /// Reads what `wanted` asks, the cheaper way, then the deleted users when an email
    /// has no live user. `orgs_in_zendesk` sizes the scan when `users/count` cannot.
    pub async fn read(
        client: &Client,
        wanted: &Wanted,
        orgs_in_zendesk: usize,
        requests_per_minute: u32,
    ) -> Result<UserDirectory, ZdError> {
        let mut dir = Self::read_live(client, wanted, orgs_in_zendesk, requests_per_minute).await?;
        let missing = wanted
            .emails
            .iter()
            .any(|e| !dir.by_email.contains_key(e) && !dir.deleted.contains(e));
        if missing {
            dir.read_deleted(client, &wanted.emails).await?;
        }
        Ok(dir)
    }

    /// The live users `wanted` asks, the cheaper way.
    async fn read_live(
        client: &Client,
        wanted: &Wanted,
        orgs_in_zendesk: usize,
        requests_per_minute: u32,
    ) -> Result<UserDirectory, ZdError> {
        let mut dir = UserDirectory::default();
        if wanted.is_empty() {
            return Ok(dir);
        }
        let targeted = (wanted.emails.len() + wanted.orgs.len()) as u64;
        let mut inputs = UserReadInputs {
            emails: wanted.emails.len() as u64,
            orgs: wanted.orgs.len() as u64,
            users_estimate: 0,
            requests_per_minute,
        };
        let way = if targeted <= LOOKUPS_WITHOUT_COUNT {
            tracing::info!(
                emails = wanted.emails.len(),
                orgs = wanted.orgs.len(),
                "users: {targeted} lookups, too few to weigh against a scan"
            );
            UserReadWay::Lookups
        } else {
            let sizing = size_scan(client, orgs_in_zendesk).await?;
            inputs.users_estimate = sizing.users_estimate;
            dir.sizing = Some(sizing);
            let choice = choose_user_reads(&inputs);
            log_choice(&inputs, choice.way);
            choice.way
        };
        dir.way = Some(way);
        match way {
            UserReadWay::Lookups => dir.lookup(client, wanted).await?,
            UserReadWay::ListScan | UserReadWay::ExportScan => {
                dir.scan(client, wanted, way).await?
            }
        }
        Ok(dir)
    }

    /// Every user, all roles (cursor pages of 100): the US Federal job matches every
    /// contact and must see its agents and admins. Compact records; users without an
    /// email cannot match a contact and are not kept.
    pub async fn read_everyone(client: &Client) -> Result<UserDirectory, ZdError> {
        let mut dir = UserDirectory {
            way: Some(UserReadWay::ListScan),
            ..UserDirectory::default()
        };
        let mut progress = Progress::read("Zendesk users", Total::Unknown);
        let mut stream = client.users().list(None);
        while let Some(user) = stream.try_next().await? {
            progress.add(1);
            dir.read += 1;
            let user = zendesk_user(user);
            if let Some(email) = user.email_key() {
                dir.by_email.entry(email).or_insert(user);
            }
        }
        progress.read_all();
        Ok(dir)
    }

    /// One `users/search` per email, then one `organizations/{id}/users` page per wanted
    /// org that no found user already shows to have a user.
    async fn lookup(&mut self, client: &Client, wanted: &Wanted) -> Result<(), ZdError> {
        let targets = (wanted.emails.len() + wanted.orgs.len()) as u64;
        let mut progress = Progress::read("Zendesk user lookups", Total::Exact(targets));
        let found: Vec<(String, Option<ZendeskUser>)> =
            futures::stream::iter(wanted.emails.iter().cloned())
                .map(|email| async move {
                    let user = lookup_email(client, &email).await?;
                    Ok::<_, ZdError>((email, user))
                })
                .buffer_unordered(LOOKUP_CONCURRENCY)
                .inspect_ok(|_| progress.add(1))
                .try_collect()
                .await?;
        for (email, user) in found {
            if let Some(user) = user {
                self.read += 1;
                self.keep(email, user, wanted);
            }
        }
        let orgs: Vec<ZendeskOrgId> = wanted
            .orgs
            .iter()
            .copied()
            .filter(|o| self.org_user_count(*o) == 0)
            .collect();
        progress.set_total(Total::Exact(progress.done() + orgs.len() as u64));
        let counts: Vec<(ZendeskOrgId, usize)> = futures::stream::iter(orgs)
            .map(|org| async move {
                let mut pages = client.organizations().users(client_org_id(org));
                // One page says whether the org has users; its count is at least that.
                let mut n = 0;
                while let Some(_user) = pages.try_next().await? {
                    n += 1;
                    if n >= sync_core::users::LIST_PAGE_SIZE as usize {
                        break;
                    }
                }
                Ok::<_, ZdError>((org, n))
            })
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .inspect_ok(|_| progress.add(1))
            .try_collect()
            .await?;
        progress.read_all();
        for (org, n) in counts {
            self.read += n;
            let seen = self.org_users.entry(org).or_insert(0);
            *seen = (*seen).max(n);
        }
        Ok(())
    }

    /// One scan of every user, all roles (cursor list or incremental export): a sold-to
    /// email of an agent or admin must be seen to be left alone (`protected_user`), and
    /// staff are few next to the end-users. Keeps the users of the wanted emails and
    /// counts those of the wanted orgs.
    async fn scan(
        &mut self,
        client: &Client,
        wanted: &Wanted,
        way: UserReadWay,
    ) -> Result<(), ZdError> {
        let total = self
            .sizing
            .map_or(Total::Unknown, |s| Total::About(s.users_estimate));
        let mut progress = Progress::read("Zendesk users (scan)", total);
        let mut stream = match way {
            UserReadWay::ExportScan => client.users().incremental(0),
            _ => client.users().list(None),
        };
        while let Some(user) = stream.try_next().await? {
            progress.add(1);
            self.read += 1;
            self.take(user, wanted);
        }
        progress.read_all();
        Ok(())
    }

    /// Keeps what `wanted` asks of one scanned user. A user the export marks inactive
    /// is a deleted one.
    fn take(&mut self, user: User, wanted: &Wanted) {
        let deleted = user.active == Some(false);
        let user = zendesk_user(user);
        let email = user.email_key().filter(|e| wanted.emails.contains(e));
        if deleted {
            if let Some(email) = email {
                self.deleted.insert(email);
            }
            return;
        }
        if let Some(org) = user.organization_id.filter(|o| wanted.orgs.contains(o)) {
            *self.org_users.entry(org).or_insert(0) += 1;
        }
        if let Some(email) = email {
            self.by_email.insert(email, user);
        }
    }

    /// Records a user found by email (and counts it in its org when that org is wanted).
    fn keep(&mut self, email: String, user: ZendeskUser, wanted: &Wanted) {
        if let Some(org) = user.organization_id.filter(|o| wanted.orgs.contains(o)) {
            *self.org_users.entry(org).or_insert(0) += 1;
        }
        self.by_email.insert(email, user);
    }

    /// One scan of `deleted_users`, keeping the wanted emails found there (a permanently
    /// deleted user has no email left).
    async fn read_deleted(
        &mut self,
        client: &Client,
        emails: &BTreeSet<String>,
    ) -> Result<(), ZdError> {
        let mut stream = client.users().deleted();
        let mut n = 0usize;
        while let Some(user) = stream.try_next().await? {
            n += 1;
            if let Some(email) = zendesk_user(user)
                .email_key()
                .filter(|e| emails.contains(e))
            {
                if !self.by_email.contains_key(&email) {
                    self.deleted.insert(email);
                }
            }
        }
        tracing::info!(
            deleted_users = n,
            in_play = self.deleted.len(),
            "users: deleted users read"
        );
        Ok(())
    }

    /// Looks again (after writes: confirming their outcome) for the live users of
    /// `emails`, the cheaper way, replacing what was known of them.
    pub async fn confirm(
        &mut self,
        client: &Client,
        emails: &BTreeSet<String>,
        orgs_in_zendesk: usize,
        requests_per_minute: u32,
    ) -> Result<(), ZdError> {
        let wanted = Wanted {
            emails: emails.clone(),
            orgs: BTreeSet::new(),
        };
        let fresh =
            UserDirectory::read_live(client, &wanted, orgs_in_zendesk, requests_per_minute).await?;
        for email in emails {
            self.by_email.remove(email);
        }
        self.read += fresh.read;
        self.by_email.extend(fresh.by_email);
        self.deleted.extend(fresh.deleted);
        Ok(())
    }
}

/// The number of users a scan would read: `users/count` (an estimate),
/// else [`FALLBACK_USERS_PER_ORG`] per Zendesk org, said in the log. An error that
/// stops the run stops it here too.
async fn size_scan(client: &Client, orgs_in_zendesk: usize) -> Result<Sizing, ZdError> {
    match client.users().count(None).await {
        Ok(n) => Ok(Sizing {
            users_estimate: n,
            counted: true,
        }),
        Err(e) if e.stops_run() => Err(e),
        Err(e) => {
            let estimate = (orgs_in_zendesk as u64).saturating_mul(FALLBACK_USERS_PER_ORG);
            tracing::warn!(
                error = %e,
                "users/count gave no estimate; estimating {estimate} users from {orgs_in_zendesk} orgs \
                 ({FALLBACK_USERS_PER_ORG} a org) instead"
            );
            Ok(Sizing {
                users_estimate: estimate,
                counted: false,
            })
        }
    }
}

/// `users: 17,575 emails in play, scanning 1,900 pages instead` (or the lookups made).
fn log_choice(inputs: &UserReadInputs, way: UserReadWay) {
    let costs = user_read_costs(inputs);
    let cost_of = |w: UserReadWay| costs.iter().find(|c| c.way == w).copied();
    let in_play = format!(
        "{} emails and {} orgs in play",
        thousands(inputs.emails),
        thousands(inputs.orgs)
    );
    let summary: Vec<String> = costs
        .iter()
        .map(|c| {
            format!(
                "{} {} calls {:.1} min",
                c.way.as_str(),
                thousands(c.calls),
                c.wall_ms as f64 / 60_000.0
            )
        })
        .collect();
    let chosen = cost_of(way).map(|c| c.calls).unwrap_or(0);
    let line = match way {
        UserReadWay::Lookups => format!("users: {in_play}, {} lookups", thousands(chosen)),
        UserReadWay::ListScan => format!(
            "users: {in_play}, scanning {} pages instead",
            thousands(chosen)
        ),
        UserReadWay::ExportScan => format!(
            "users: {in_play}, scanning {} export pages instead",
            thousands(chosen)
        ),
    };
    tracing::info!(
        users_estimate = inputs.users_estimate,
        rate_per_minute = inputs.requests_per_minute,
        costs = %summary.join("; "),
        "{line}"
    );
}

/// 17575 → `17,575`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The live user whose email matches (case-insensitive), if any. An email the API
/// cannot search (a quote in it) is treated as unknown.
pub async fn lookup_email(client: &Client, email: &str) -> Result<Option<ZendeskUser>, ZdError> {
    match client.users().search_by_email(email).await {
        Ok(users) => Ok(users
            .into_iter()
            .filter(|u| u.active != Some(false))
            .map(zendesk_user)
            .find(|u| u.email_key().as_deref() == Some(email))),
        Err(ZdError::InvalidInput(message)) => {
            tracing::warn!(%email, %message, "email cannot be searched; treated as unknown");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::ZendeskUserId;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_900), "1,900");
        assert_eq!(thousands(17_575), "17,575");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    fn user(id: u64, email: &str, org: Option<u64>, active: Option<bool>) -> User {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": "N", "email": email, "role": "end-user",
            "organization_id": org, "active": active
        }))
        .unwrap()
    }

    /// One scan answers both questions and keeps only what is in play.
    #[test]
    fn a_scan_answers_user_by_email_and_users_of_an_org_keeping_only_what_is_wanted() {
        let wanted = Wanted {
            emails: ["a@x.example".to_string(), "gone@x.example".to_string()].into(),
            orgs: [ZendeskOrgId(7)].into(),
        };
        let mut dir = UserDirectory::default();
        dir.take(user(1, "A@x.example", None, Some(true)), &wanted);
        dir.take(user(2, "b@x.example", Some(7), None), &wanted);
        dir.take(user(3, "c@x.example", Some(8), None), &wanted);
        dir.take(user(4, "gone@x.example", Some(7), Some(false)), &wanted);
        assert_eq!(
            dir.user("a@x.example").map(|u| u.id),
            Some(ZendeskUserId(1))
        );
        assert!(dir.user("b@x.example").is_none(), "not in play, not kept");
        assert_eq!(dir.by_email().len(), 1);
        assert_eq!(dir.org_user_count(ZendeskOrgId(7)), 1);
        assert_eq!(dir.org_user_count(ZendeskOrgId(8)), 0);
        assert!(dir.deleted().contains("gone@x.example"));
    }
}
