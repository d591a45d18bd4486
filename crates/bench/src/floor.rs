//! The floor of a run as issue 13 defines it, the calls by kind, and the targets.

use std::collections::BTreeMap;

use serde::Serialize;

/// ⌈n / 100⌉.
fn per_100(n: u64) -> u64 {
    n.div_ceil(100)
}

/// What the Zendesk floor is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FloorInput {
    /// Zendesk organizations read.
    pub orgs: u64,
    /// Organizations created.
    pub org_creates: u64,
    /// Organizations updated.
    pub org_updates: u64,
    /// Organizations deleted.
    pub org_deletes: u64,
    /// Users created.
    pub user_creates: u64,
    /// Users updated.
    pub user_updates: u64,
    /// Emails whose Zendesk user the run must know (one targeted lookup each).
    pub emails_in_play: u64,
    /// End-users in Zendesk (one scan reads them 100 a page).
    pub end_users: u64,
}

/// The Zendesk floor, term by term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ZendeskFloor {
    /// ⌈orgs/100⌉ pages (at least one: an empty list is still one answer).
    pub org_pages: u64,
    /// `organization_fields`: 1.
    pub fields: u64,
    /// ⌈org creates/100⌉ jobs, and as many read-backs of their ids.
    pub create_jobs_and_read_backs: u64,
    /// ⌈org updates/100⌉.
    pub update_jobs: u64,
    /// ⌈deletes/100⌉.
    pub delete_jobs: u64,
    /// ⌈user creates/100⌉.
    pub user_create_jobs: u64,
    /// ⌈user updates/100⌉.
    pub user_update_jobs: u64,
    /// Targeted lookups: one per email in play.
    pub user_lookups: u64,
    /// One scan of the end-users: ⌈end-users/100⌉ pages.
    pub user_scan_pages: u64,
    /// The cheaper of the two (0 when no email is in play).
    pub user_reads: u64,
    /// The sum.
    pub total: u64,
}

impl ZendeskFloor {
    /// The floor of a run with `input`.
    pub fn of(input: &FloorInput) -> ZendeskFloor {
        let user_lookups = input.emails_in_play;
        let user_scan_pages = per_100(input.end_users).max(1);
        let user_reads = if user_lookups == 0 {
            0
        } else {
            user_lookups.min(user_scan_pages)
        };
        let mut floor = ZendeskFloor {
            org_pages: per_100(input.orgs).max(1),
            fields: 1,
            create_jobs_and_read_backs: 2 * per_100(input.org_creates),
            update_jobs: per_100(input.org_updates),
            delete_jobs: per_100(input.org_deletes),
            user_create_jobs: per_100(input.user_creates),
            user_update_jobs: per_100(input.user_updates),
            user_lookups,
            user_scan_pages,
            user_reads,
            total: 0,
        };
        floor.total = floor.org_pages
            + floor.fields
            + floor.create_jobs_and_read_backs
            + floor.update_jobs
            + floor.delete_jobs
            + floor.user_create_jobs
            + floor.user_update_jobs
            + floor.user_reads;
        floor
    }
}

/// Whether a Zendesk endpoint key is a job poll.
pub fn is_poll(endpoint: &str) -> bool {
    endpoint.starts_with("GET /api/v2/job_statuses")
}

/// Whether a Zendesk endpoint key starts a bulk job (`…_many` writes).
pub fn is_job(endpoint: &str) -> bool {
    !endpoint.starts_with("GET ") && endpoint.ends_with("_many")
}

/// Zendesk calls of one run, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ZendeskCalls {
    /// Every request.
    pub total: u64,
    /// Job status polls.
    pub polls: u64,
    /// Bulk jobs started.
    pub jobs: u64,
}

impl ZendeskCalls {
    /// Counts `by_endpoint`.
    pub fn of(by_endpoint: &BTreeMap<String, u64>) -> ZendeskCalls {
        let sum = |f: fn(&str) -> bool| {
            by_endpoint
                .iter()
                .filter(|(k, _)| f(k))
                .map(|(_, v)| v)
                .sum()
        };
        ZendeskCalls {
            total: by_endpoint.values().sum(),
            polls: sum(is_poll),
            jobs: sum(is_job),
        }
    }

    /// Calls the floor is compared with: all but the polls.
    pub fn without_polls(&self) -> u64 {
        self.total - self.polls
    }

    /// Most polls the target allows: max(5, jobs / 4).
    pub fn poll_allowance(&self) -> f64 {
        (self.jobs as f64 / 4.0).max(5.0)
    }

    /// Polls ≤ max(5, ¼ of the jobs).
    pub fn polls_ok(&self) -> bool {
        self.polls as f64 <= self.poll_allowance()
    }
}

/// Calls excluding polls / floor.
pub fn ratio(calls: u64, floor: u64) -> f64 {
    if floor == 0 {
        f64::INFINITY
    } else {
        calls as f64 / floor as f64
    }
}

/// Calls ≤ 1.05 × floor.
pub const RATIO_TARGET: f64 = 1.05;

/// Wall time a rate-limited run may take: 1.1 × calls / rate + 5 s.
pub fn rate_limited_wall_target_s(calls: u64, per_minute: u32) -> f64 {
    1.1 * calls as f64 / (f64::from(per_minute) / 60.0) + 5.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_is_the_sum_of_the_issue_terms() {
        let floor = ZendeskFloor::of(&FloorInput {
            orgs: 6_701,
            org_creates: 3_103,
            org_updates: 4_000,
            org_deletes: 274,
            user_creates: 1_829,
            user_updates: 0,
            emails_in_play: 2_000,
            end_users: 15_050,
        });
        assert_eq!(floor.org_pages, 68);
        assert_eq!(floor.create_jobs_and_read_backs, 64);
        assert_eq!(floor.update_jobs, 40);
        assert_eq!(floor.delete_jobs, 3);
        assert_eq!(floor.user_create_jobs, 19);
        assert_eq!(floor.user_scan_pages, 151);
        assert_eq!(floor.user_reads, 151);
        assert_eq!(floor.total, 68 + 1 + 64 + 40 + 3 + 19 + 151);
    }

    #[test]
    fn few_emails_are_looked_up_and_none_cost_nothing() {
        let few = ZendeskFloor::of(&FloorInput {
            emails_in_play: 3,
            end_users: 200_000,
            ..FloorInput::default()
        });
        assert_eq!(few.user_reads, 3);
        let none = ZendeskFloor::of(&FloorInput {
            end_users: 200_000,
            ..FloorInput::default()
        });
        assert_eq!(none.user_reads, 0);
        assert_eq!(none.total, 2);
    }

    #[test]
    fn polls_and_jobs_are_told_apart() {
        let calls: BTreeMap<String, u64> = [
            ("GET /api/v2/organizations", 10),
            ("POST /api/v2/organizations/create_many", 8),
            ("PUT /api/v2/organizations/update_many", 4),
            ("GET /api/v2/organizations/show_many", 8),
            ("GET /api/v2/job_statuses/show_many", 6),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let c = ZendeskCalls::of(&calls);
        assert_eq!((c.total, c.polls, c.jobs), (36, 6, 12));
        assert_eq!(c.without_polls(), 30);
        assert!(!c.polls_ok());
        assert!(rate_limited_wall_target_s(700, 700) > 65.9);
    }
}
