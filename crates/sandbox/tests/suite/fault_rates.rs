//! The fault mix of the reliability tests (issue 16), together and seeded, over HTTP:
//! 10 % 429s, 5 % 500/503 of which half after the write applied, 2 % dropped connections
//! of which half after applying, 5 % failed job rows, and a Salesforce token that expires
//! every 10 requests. Rates are checked within wide bounds of a fixed seed (the seed
//! makes them exact and repeatable); what was applied is checked exactly against the
//! sandbox's own fault counters.

use std::collections::BTreeMap;
use std::time::Duration;

use sandbox::faults::parse_rule;
use sandbox::{FaultPlan, Sandbox, SandboxConfig};
use serde_json::{json, Value};

const MIX: [&str; 9] = [
    "zendesk:429@10%",
    "zendesk:500@1.25%",
    "zendesk:503@1.25%",
    "zendesk:500-after@1.25%",
    "zendesk:503-after@1.25%",
    "zendesk:drop@1%",
    "zendesk:drop-after@1%",
    "zendesk:job-row@5%",
    "salesforce:expire-token@every10",
];

async fn with_mix(seed: u64) -> Sandbox {
    let rules = MIX.iter().map(|r| parse_rule(r).unwrap()).collect();
    Sandbox::start(SandboxConfig {
        faults: FaultPlan { seed, rules },
        job_latency: Duration::from_millis(5),
        ..SandboxConfig::default_fixtures()
    })
    .await
    .unwrap()
}

/// Creates `n` orgs one after the other; the answer of each (status, or 0 for a
/// dropped connection).
async fn create_orgs(sandbox: &Sandbox, n: usize) -> Vec<u16> {
    let http = reqwest::Client::new();
    let url = format!("{}/api/v2/organizations.json", sandbox.zendesk_url());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let answer = http
            .post(&url)
            .json(&json!({"organization": {"name": format!("Rate Org {i}")}}))
            .send()
            .await;
        out.push(answer.map(|r| r.status().as_u16()).unwrap_or(0));
    }
    out
}

fn tally(statuses: &[u16]) -> BTreeMap<u16, usize> {
    let mut t = BTreeMap::new();
    for s in statuses {
        *t.entry(*s).or_insert(0) += 1;
    }
    t
}

fn created(sandbox: &Sandbox) -> usize {
    sandbox.admin().zendesk_state()["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"].as_str().unwrap().starts_with("Rate Org "))
        .count()
}

#[tokio::test]
async fn the_reliability_mix_holds_its_rates_together_and_repeats_by_seed() {
    let sandbox = with_mix(11).await;
    let statuses = create_orgs(&sandbox, 1_000).await;
    let t = tally(&statuses);
    let n = |s: u16| t.get(&s).copied().unwrap_or(0);
    assert!((70..=130).contains(&n(429)), "429s: {t:?}");
    assert!((28..=72).contains(&(n(500) + n(503))), "5xx: {t:?}");
    assert!(n(500) > 0 && n(503) > 0, "{t:?}");
    assert!((6..=36).contains(&n(0)), "dropped: {t:?}");
    assert_eq!(n(201) + n(429) + n(500) + n(503) + n(0), 1_000, "{t:?}");

    // What was applied: the 201s plus exactly the faults that fired after applying.
    let fired = sandbox.admin().fired_faults();
    let after = fired.get("server_error_after_apply").copied().unwrap_or(0)
        + fired.get("drop_after_apply").copied().unwrap_or(0);
    assert_eq!(created(&sandbox), n(201) + after as usize, "{fired:?}");
    let five_after = fired["server_error_after_apply"] as usize;
    assert!(five_after > 5 && five_after < n(500) + n(503), "{fired:?}");
    assert!(
        fired["drop_after_apply"] > 0 && fired["drop"] > 0,
        "{fired:?}"
    );
    assert_eq!(fired["rate_limited"] as usize, n(429));

    // The same seed gives the same faults on the same requests; another seed does not.
    let again = create_orgs(&with_mix(11).await, 1_000).await;
    assert_eq!(again, statuses);
    let other = create_orgs(&with_mix(12).await, 1_000).await;
    assert_ne!(other, statuses);
}

#[tokio::test]
async fn the_mix_fails_about_five_percent_of_job_rows() {
    let sandbox = with_mix(5).await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/api/v2/organizations/create_many.json",
        sandbox.zendesk_url()
    );
    let mut accepted = 0;
    for batch in 0..40 {
        if accepted == 12 {
            break;
        }
        let orgs: Vec<Value> = (0..100)
            .map(|i| json!({"name": format!("Job Org {batch}-{i}")}))
            .collect();
        let answer = http
            .post(&url)
            .json(&json!({"organizations": orgs}))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status() == 200) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 12);
    let mut jobs = Vec::new();
    for _ in 0..500 {
        let state = sandbox.admin().zendesk_state();
        jobs = state["job_statuses"].as_array().unwrap().clone();
        if jobs.iter().all(|j| j["status"] == "completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let rows: Vec<&Value> = jobs
        .iter()
        .flat_map(|j| j["results"].as_array().unwrap())
        .collect();
    assert!(rows.len() >= 1_200, "{}", rows.len());
    let failed = rows.iter().filter(|r| r["status"] == "Failed").count();
    let rate = failed as f64 / rows.len() as f64;
    assert!((0.03..=0.075).contains(&rate), "{failed} of {}", rows.len());
    assert_eq!(
        sandbox.admin().fired_faults()["fail_job_row"] as usize,
        failed,
        "every failed row is an injected one"
    );
}

#[tokio::test]
async fn the_mix_expires_the_salesforce_token_every_ten_requests() {
    let sandbox = with_mix(1).await;
    let http = reqwest::Client::new();
    let base = sandbox.salesforce_url().to_owned();
    let token = || async {
        let body: Value = http
            .post(format!("{base}/services/oauth2/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "id"),
                ("client_secret", "secret"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    };
    let mut current = token().await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let status = http
            .get(format!(
                "{base}/services/data/v62.0/sobjects/Account/0018SDEMO000001QPA"
            ))
            .bearer_auth(&current)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        statuses.push(status);
        if status == 401 {
            current = token().await;
        }
    }
    // Request 1 is the token, 2–9 succeed, 10 meets the expiry; then a new token (11), …
    let expected: Vec<u16> = (0..40)
        .map(|i| if i % 9 == 8 { 401 } else { 200 })
        .collect();
    assert_eq!(statuses, expected);
    assert_eq!(
        sandbox.admin().fired_faults()["expire_salesforce_tokens"],
        4
    );
}
