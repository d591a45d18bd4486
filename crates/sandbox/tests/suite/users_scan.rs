//! What a bounded user scan needs (issue 13), in the real shapes of
//! reference/zendesk-api.md: the users list with `role` filters and cursor pages (§5.1,
//! §3.1), `users/count` (§5.11, a cached estimate), the incremental user export with its
//! own 10 requests/minute (§5.10, §9), the ticket export's limit, the deleted users
//! (§5.12), and the generated seed that puts sold-to emails in play.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use reqwest::Method;
use sandbox::faults::FaultPlan;
use sandbox::salesforce::{GenerateConfig, Store};
use sandbox::zendesk::generate::{self, Extras};
use sandbox::zendesk::ZendeskConfig;
use sandbox::{Instance, Sandbox, SandboxConfig, Seed};
use serde_json::{json, Value};

use crate::zd_common::{fast, start, start_with, Zd};

fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 25)
}

async fn new_user(zd: &Zd, name: &str, email: &str, role: Option<&str>) -> u64 {
    let mut user = json!({"name": name, "email": email});
    if let Some(role) = role {
        user["role"] = json!(role);
    }
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/users.json",
            Some(json!({ "user": user })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["user"]["id"].as_u64().unwrap()
}

fn ids(records: &[Value]) -> BTreeSet<u64> {
    records.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

/// A generated Global data set of `accounts` accounts plus `extra` unrelated end-users.
fn generated(accounts: usize, extras: Extras) -> sandbox::zendesk::Data {
    let store = Store::generate(&GenerateConfig {
        accounts,
        seed: 3,
        today: today(),
    });
    generate::generate_from(&store, Instance::Global, 3, today(), extras)
}

#[tokio::test]
async fn users_list_filters_by_role_and_walks_cursor_pages() {
    let zd = start(fast(), FaultPlan::default()).await;
    for n in 0..5 {
        new_user(
            &zd,
            &format!("Scan {n}"),
            &format!("scan{n}@example.com"),
            None,
        )
        .await;
    }
    new_user(&zd, "An Agent", "agent-scan@example.com", Some("agent")).await;
    let state = zd.sim.dump();
    let by_role = |roles: &[&str]| -> BTreeSet<u64> {
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| roles.contains(&u["role"].as_str().unwrap()))
            .map(|u| u["id"].as_u64().unwrap())
            .collect()
    };
    let end_users = zd
        .walk("/api/v2/users.json?role=end-user&page%5Bsize%5D=2", "users")
        .await;
    assert!(end_users.len() >= 5);
    assert_eq!(ids(&end_users), by_role(&["end-user"]));
    assert_eq!(ids(&end_users).len(), end_users.len(), "no user twice");
    let staff = zd
        .walk(
            "/api/v2/users.json?role%5B%5D=agent&role%5B%5D=admin&page%5Bsize%5D=1",
            "users",
        )
        .await;
    assert_eq!(ids(&staff), by_role(&["agent", "admin"]));
    assert!(!staff.is_empty());
    // The size is capped at 100 and the envelope has no count in cursor mode.
    let (status, body) = zd.get("/api/v2/users.json?page[size]=500").await;
    assert_eq!(status, 200);
    assert!(body.get("count").is_none());
    assert!(body["users"].as_array().unwrap().len() <= 100);
}

#[tokio::test]
async fn users_count_is_a_cached_estimate_until_its_refresh() {
    let zd = start(fast(), FaultPlan::default()).await;
    let (status, first) = zd.get("/api/v2/users/count.json").await;
    assert_eq!(status, 200, "{first}");
    let all = zd.sim.dump()["users"].as_array().unwrap().len() as u64;
    assert_eq!(first["count"]["value"], all);
    assert!(first["count"]["refreshed_at"].is_string());
    let (_, end_users) = zd.get("/api/v2/users/count.json?role=end-user").await;
    assert!(end_users["count"]["value"].as_u64().unwrap() < all);
    new_user(&zd, "Counted Later", "later@example.com", None).await;
    let (_, again) = zd.get("/api/v2/users/count.json").await;
    assert_eq!(
        again, first,
        "the cached value misses the user created since"
    );

    // A refresh on every call counts it.
    let zd = start(
        ZendeskConfig {
            users_count_refresh: Duration::ZERO,
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    let (_, before) = zd.get("/api/v2/users/count").await;
    new_user(&zd, "Counted Now", "now@example.com", None).await;
    let (_, after) = zd.get("/api/v2/users/count").await;
    assert_eq!(
        after["count"]["value"].as_u64(),
        before["count"]["value"].as_u64().map(|n| n + 1)
    );
}

#[tokio::test]
async fn the_incremental_user_export_pages_a_thousand_and_allows_ten_a_minute() {
    let data = generated(
        30,
        Extras {
            sold_to_users: false,
            extra_users: 1_500,
        },
    );
    let total = data.users.len();
    assert!(total > 1_000);
    let zd = start_with(data, fast(), FaultPlan::default()).await;
    let (status, retry, first) = zd
        .get_full("/api/v2/incremental/users/cursor.json?start_time=0")
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(retry, None);
    assert_eq!(first["users"].as_array().unwrap().len(), 1_000);
    assert_eq!(first["end_of_stream"], false);
    assert!(first["before_cursor"].is_null());
    let cursor = first["after_cursor"].as_str().unwrap().to_owned();
    assert!(first["after_url"].as_str().unwrap().contains("cursor="));
    let (status, _, second) = zd
        .get_full(&format!(
            "/api/v2/incremental/users/cursor.json?cursor={}",
            urlencode(&cursor)
        ))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["end_of_stream"], true);
    let mut seen = ids(first["users"].as_array().unwrap());
    seen.extend(ids(second["users"].as_array().unwrap()));
    assert_eq!(seen.len(), total);

    // Two calls made; eight more are allowed this minute, then 429 with Retry-After.
    for _ in 0..8 {
        let (status, _, _) = zd
            .get_full("/api/v2/incremental/users/cursor.json?start_time=0&per_page=1")
            .await;
        assert_eq!(status, 200);
    }
    let (status, retry, _) = zd
        .get_full("/api/v2/incremental/users/cursor.json?start_time=0")
        .await;
    assert_eq!(status, 429);
    let wait: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // The time-based user export shares the users' window; the ticket export has its own.
    let (status, _, _) = zd
        .get_full("/api/v2/incremental/users.json?start_time=0")
        .await;
    assert_eq!(status, 429);
    let (status, _, body) = zd
        .get_full("/api/v2/incremental/tickets/cursor.json?start_time=0")
        .await;
    assert_eq!(status, 200, "{body}");
    // Other endpoints are not held back.
    assert_eq!(zd.get("/api/v2/users/count").await.0, 200);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn the_incremental_ticket_export_allows_ten_a_minute_unless_raised() {
    let zd = start(fast(), FaultPlan::default()).await;
    let statuses = {
        let mut v = Vec::new();
        for _ in 0..11 {
            v.push(
                zd.get_full("/api/v2/incremental/tickets/cursor.json?start_time=0")
                    .await
                    .0,
            );
        }
        v
    };
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10], 429);

    for limit in [None, Some(50)] {
        let zd = start(
            ZendeskConfig {
                incremental_rate_limit: limit,
                ..fast()
            },
            FaultPlan::default(),
        )
        .await;
        for _ in 0..12 {
            let (status, _, _) = zd
                .get_full("/api/v2/incremental/tickets.json?start_time=0")
                .await;
            assert_eq!(status, 200, "limit {limit:?}");
        }
    }
}

#[tokio::test]
async fn deleted_users_list_the_users_deleted_through_the_api() {
    let zd = start(fast(), FaultPlan::default()).await;
    let id = new_user(&zd, "Leaving Soon", "leaving@example.com", None).await;
    let (status, body) = zd
        .send(Method::DELETE, &format!("/api/v2/users/{id}.json"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["active"], false);
    assert_eq!(zd.get(&format!("/api/v2/users/{id}")).await.0, 404);
    assert_eq!(
        zd.send(Method::DELETE, &format!("/api/v2/users/{id}"), None)
            .await
            .0,
        404
    );
    let users = zd.walk("/api/v2/users?page[size]=100", "users").await;
    assert!(!ids(&users).contains(&id));

    let deleted = zd
        .walk(
            "/api/v2/deleted_users.json?page%5Bsize%5D=1",
            "deleted_users",
        )
        .await;
    let row = deleted
        .iter()
        .find(|u| u["id"] == id)
        .expect("listed as deleted");
    assert_eq!(row["email"], "leaving@example.com");
    assert_eq!(row["active"], false);
    let (_, count) = zd.get("/api/v2/deleted_users/count").await;
    assert_eq!(count["count"]["value"], deleted.len());
    let (status, shown) = zd.get(&format!("/api/v2/deleted_users/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["deleted_user"]["email"], "leaving@example.com");
    // Offset pages too.
    let (_, offset) = zd.get("/api/v2/deleted_users.json").await;
    assert_eq!(offset["count"], deleted.len());

    // The email is free again; a permanent deletion drops it from the deleted user.
    let again = new_user(&zd, "Back Again", "leaving@example.com", None).await;
    assert_ne!(again, id);
    let (status, purged) = zd
        .send(Method::DELETE, &format!("/api/v2/deleted_users/{id}"), None)
        .await;
    assert_eq!(status, 200, "{purged}");
    assert!(purged["deleted_user"]["email"].is_null());
    assert_eq!(purged["deleted_user"]["name"], "Permanently Deleted User");
    // The export still shows the deleted user, inactive.
    let (_, export) = zd
        .get("/api/v2/incremental/users/cursor.json?start_time=0")
        .await;
    let exported = export["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id);
    assert_eq!(exported.map(|u| u["active"].clone()), Some(json!(false)));
}

#[test]
fn the_generated_seed_puts_sold_to_emails_in_play_in_the_documented_ways() {
    let store = Store::generate(&GenerateConfig {
        accounts: 600,
        seed: 3,
        today: today(),
    });
    let plain = generate::generate_from(&store, Instance::Global, 3, today(), Extras::default());
    let data = generate::generate_from(
        &store,
        Instance::Global,
        3,
        today(),
        Extras {
            sold_to_users: true,
            extra_users: 40,
        },
    );
    let emails = generate::sold_to_emails(&store, Instance::Global);
    // account id → its org, and email → account id.
    let org_of: HashMap<String, u64> = data
        .orgs
        .values()
        .filter_map(|o| {
            Some((
                o.organization_fields
                    .get("salesforce_id")?
                    .as_str()?
                    .to_owned(),
                o.id,
            ))
        })
        .collect();
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (account, list) in &emails {
        for e in list {
            owner.insert(e.as_str(), account.as_str());
        }
    }
    let account18: HashMap<String, String> = store
        .accounts()
        .iter()
        .filter_map(|a| {
            Some((
                a["Id"].as_str()?.to_owned(),
                a["Account_ID_18__c"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let (mut own, mut none, mut other) = (0, 0, 0);
    for u in data.users.values() {
        let Some(account) = u.email.as_deref().and_then(|e| owner.get(e)) else {
            continue;
        };
        let own_org = account18.get(*account).and_then(|sfid| org_of.get(sfid));
        match (u.organization_id, own_org) {
            (None, _) => none += 1,
            (Some(o), Some(mine)) if o == *mine => own += 1,
            (Some(_), _) => other += 1,
        }
    }
    assert!(
        own > 5 && none > 3 && other > 3,
        "own {own}, none {none}, other {other}"
    );
    let deleted = data
        .deleted_users
        .values()
        .filter(|u| u.email.as_deref().is_some_and(|e| owner.contains_key(e)))
        .count();
    assert!(deleted > 0);
    let week_ago = format!("{}", today() - time::Duration::days(7));
    let recent: Vec<u64> = data
        .orgs
        .values()
        .filter(|o| o.created_at.as_str() > week_ago.as_str())
        .map(|o| o.id)
        .collect();
    let with_users: BTreeSet<u64> = data
        .users
        .values()
        .filter_map(|u| u.organization_id)
        .collect();
    assert!(recent.len() > 5, "{}", recent.len());
    assert!(recent.iter().any(|o| !with_users.contains(o)));
    let unrelated = data
        .users
        .values()
        .filter(|u| u.email.as_deref().is_some_and(|e| e.contains("@unrelated")))
        .count();
    assert_eq!(unrelated, 40);
    // Off, the generated data is as before: no deleted users, no recent orgs.
    assert!(plain.deleted_users.is_empty());
    assert!(plain
        .orgs
        .values()
        .all(|o| o.created_at.as_str() < week_ago.as_str()));
    assert_eq!(plain.orgs.len(), data.orgs.len());
}

#[tokio::test]
async fn a_sandbox_with_sold_to_users_serves_them_and_its_deleted_users() {
    let sandbox = Sandbox::start(SandboxConfig {
        seed: Seed::Generated {
            accounts: 300,
            seed: 5,
            today: today(),
        },
        sold_to_users: true,
        extra_users: 250,
        ..SandboxConfig::default_fixtures()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let url = format!("{}{path}", sandbox.zendesk_url());
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let count = get("/api/v2/users/count?role=end-user").await;
    assert!(count["count"]["value"].as_u64().unwrap() > 250, "{count}");
    let deleted = get("/api/v2/deleted_users?page[size]=100").await;
    assert!(
        !deleted["deleted_users"].as_array().unwrap().is_empty(),
        "{deleted}"
    );
    assert_eq!(
        sandbox.admin().zendesk_state()["deleted_users"]
            .as_array()
            .unwrap()
            .len(),
        deleted["deleted_users"].as_array().unwrap().len()
    );
}
