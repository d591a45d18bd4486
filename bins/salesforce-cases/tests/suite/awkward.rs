//! Legal-but-awkward behaviour for the cases job: the Salesforce token expiring
//! mid-run (renewed once), `UNABLE_TO_LOCK_ROW` on the upsert and on a Collections
//! item (retried), a ticket whose requester no longer exists, a ticket whose
//! organization was deleted. Each ends with the right Case, exit code and report, and a
//! replay writes nothing.

use sandbox::{Api, Fault, FaultPlan, FaultRule, Instance, Sandbox, SandboxConfig, When};
use serde_json::Value;

use super::common::*;

const UPSERT: &str = "PATCH sobjects/Case upsert";
const COLLECTION_UPSERT: &str = "PATCH composite/sobjects/Case upsert";
const TOKEN: &str = "POST /services/oauth2/token";

fn salesforce_fault(fault: Fault, when: When, endpoint: &str) -> FaultPlan {
    FaultPlan {
        seed: 9,
        rules: vec![FaultRule {
            fault,
            when,
            api: Some(Api::Salesforce),
            endpoint: Some(endpoint.to_string()),
        }],
    }
}

/// The token expires just before the upsert: one 401, one renewal, the call repeated,
/// one Case.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_expiring_mid_event_is_renewed_once() {
    let sb = sandbox(Instance::Global).await;
    sb.admin().set_faults(salesforce_fault(
        Fault::ExpireSalesforceTokens,
        When::Nth(1),
        "/services/data/v62.0/sobjects/Case/",
    ));
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(case(&sb, &ACME_TICKET.to_string())["Status"], "New");
    assert_eq!(sf_count(&sb, TOKEN), 2, "one login, one renewal");
    assert_eq!(run.report["cases"]["create"], 1);
}

/// The token expires before the reconcile's Collections upsert: renewed once, both
/// repairs written.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_expiring_mid_reconcile_is_renewed_once() {
    let sb = sandbox(Instance::Global).await;
    let a = new_ticket(&sb, "Lost one", Some(ACME_ORG), ELLEN).await;
    let b = new_ticket(&sb, "Lost two", Some(ACME_ORG), ELLEN).await;
    sb.admin().set_faults(salesforce_fault(
        Fault::ExpireSalesforceTokens,
        When::Nth(1),
        "/services/data/v62.0/composite/sobjects",
    ));
    let env = env_for(&sb, &sb);
    let run1 = run(&["reconcile", "--since", "1h"], &env).await;
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    assert_eq!(run1.report["cases"]["create"], 2, "{:#}", run1.report);
    for id in [a, b] {
        assert_eq!(case(&sb, &id.to_string())["Status"], "New");
    }
    assert_eq!(sf_count(&sb, TOKEN), 2, "one login, one renewal");
    sb.admin().set_faults(FaultPlan::default());
    let writes = sf_count(&sb, COLLECTION_UPSERT) + sf_count(&sb, UPSERT);
    let run2 = run(&["reconcile", "--since", "1h"], &env).await;
    assert_eq!(run2.code, 0, "{}", run2.stderr);
    assert_eq!(
        sf_count(&sb, COLLECTION_UPSERT) + sf_count(&sb, UPSERT),
        writes
    );
}

/// `UNABLE_TO_LOCK_ROW` on the event's upsert (twice) is retried: one Case, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn unable_to_lock_row_on_the_upsert_is_retried() {
    let sb = sandbox(Instance::Global).await;
    sb.admin().set_faults(salesforce_fault(
        Fault::LockRow,
        When::Range { from: 1, to: 2 },
        "PATCH /services/data/v62.0/sobjects/Case/",
    ));
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(cases_with_key(&sb, &ACME_TICKET.to_string()).len(), 1);
    // The two refused attempts never reached the handler; the sandbox's own counter
    // (not a log line, which the client writes at warn once a call) shows both fired.
    assert_eq!(sf_count(&sb, UPSERT), 1);
    assert_eq!(
        sb.admin().fired_faults().get("lock_row").copied(),
        Some(2),
        "{}",
        run.stderr
    );
    assert_eq!(run.report["cases"]["create"], 1);
    let replay = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    assert_eq!(sf_count(&sb, UPSERT), 1, "a replay writes nothing");
}

/// Every item of the reconcile's Collections upsert failing with `UNABLE_TO_LOCK_ROW`:
/// each is sent again on its own and written.
#[tokio::test(flavor = "multi_thread")]
async fn unable_to_lock_row_on_collection_items_is_retried() {
    let sb = sandbox(Instance::Global).await;
    let a = new_ticket(&sb, "Locked one", Some(ACME_ORG), ELLEN).await;
    let b = new_ticket(&sb, "Locked two", Some(ACME_ORG), ELLEN).await;
    sb.admin().set_faults(salesforce_fault(
        Fault::LockRow,
        When::Nth(1),
        "PATCH /services/data/v62.0/composite/sobjects",
    ));
    let env = env_for(&sb, &sb);
    let run1 = run(&["reconcile", "--since", "1h"], &env).await;
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    assert_eq!(run1.report["cases"]["create"], 2, "{:#}", run1.report);
    assert_eq!(run1.report["cases"]["failed"], 0);
    // The Collections call was refused item by item (before the handler); each item
    // was then sent alone.
    assert_eq!(sf_count(&sb, COLLECTION_UPSERT), 0);
    assert_eq!(sf_count(&sb, UPSERT), 2);
    for id in [a, b] {
        assert_eq!(cases_with_key(&sb, &id.to_string()).len(), 1);
    }
}

/// A ticket whose requester no longer exists (its id finds no user) still gets its
/// Case, without `SuppliedEmail`/`SuppliedName`.
#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_whose_requester_is_gone_still_gets_its_case() {
    const ORPHAN: u64 = 360_300_000_090;
    let dir = sandbox::testing::fixtures_with(|_, records| records);
    let path = dir.join("zendesk/global/tickets.json");
    let mut tickets: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let list = tickets["tickets"].as_array_mut().expect("tickets");
    let mut orphan = list[0].clone();
    orphan["id"] = ORPHAN.into();
    orphan["url"] = format!("https://sandbox.zendesk.com/api/v2/tickets/{ORPHAN}.json").into();
    orphan["requester_id"] = 360_200_000_999u64.into();
    orphan["submitter_id"] = 360_200_000_999u64.into();
    list.push(orphan);
    std::fs::write(&path, tickets.to_string()).expect("write");
    let config = SandboxConfig {
        seed: sandbox::Seed::Fixtures(dir),
        ..SandboxConfig::default_fixtures()
    };
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    let run = event(&sb, "global", ORPHAN, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let created = case(&sb, &ORPHAN.to_string());
    assert_eq!(created["AccountId"], ACME_ACCOUNT);
    assert!(created["SuppliedEmail"].is_null(), "{created:#}");
    let replay = event(&sb, "global", ORPHAN, "created").await;
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    assert_eq!(sf_count(&sb, UPSERT), 1, "a replay writes nothing");
}

/// A ticket whose organization was deleted in Zendesk after it was opened: nothing to
/// do, reported `no_organization`, exit 0; its close does not fail either.
#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_whose_org_was_deleted_is_reported_and_exits_0() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Before the merger", Some(ACME_ORG), ELLEN).await;
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{}/api/v2/organizations/{ACME_ORG}.json",
            sb.zendesk_url()
        ))
        .basic_auth("ops@example.com/token", Some("test-token"))
        .send()
        .await
        .expect("delete sent");
    assert!(deleted.status().is_success(), "{}", deleted.status());
    for event_name in ["created", "closed"] {
        if event_name == "closed" {
            close_ticket(&sb, id).await;
        }
        let run = event(&sb, "global", id, event_name).await;
        assert_eq!(run.code, 0, "{event_name}: {}", run.stderr);
        assert_eq!(
            run.report["errors"][0]["kind"], "no_organization",
            "{event_name}: {:#}",
            run.report
        );
        assert!(cases_with_key(&sb, &id.to_string()).is_empty());
    }
}

/// A token refused again right after its renewal (every token expiring): the run does
/// not loop, it stops with exit 4 and says so; nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_refused_after_its_renewal_exits_4() {
    let sb = sandbox(Instance::Global).await;
    sb.admin().set_faults(salesforce_fault(
        Fault::ExpireSalesforceTokens,
        When::Always,
        "/services/data/",
    ));
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("INVALID_SESSION_ID"), "{}", run.stderr);
    assert!(sf_count(&sb, TOKEN) <= 2, "renewed once, not in a loop");
    assert!(cases(&sb).is_empty());
    assert_eq!(run.report["errors"][0]["kind"], "run_stopped");
}

/// The Salesforce daily limit exhausted: exit 4, the message says so, no Case.
#[tokio::test(flavor = "multi_thread")]
async fn the_daily_limit_exhausted_exits_4() {
    let sb = sandbox(Instance::Global).await;
    sb.admin().set_salesforce_daily_limit(0);
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("daily API request limit"),
        "{}",
        run.stderr
    );
    assert_eq!(sf_count(&sb, TOKEN), 1, "no token refresh on 403");
    assert!(cases(&sb).is_empty());
}

/// A 429 storm then a 500 on the Zendesk ticket read: waited out and retried.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_and_a_500_on_the_ticket_read_are_retried() {
    let sb = sandbox(Instance::Global).await;
    let rule = |fault, when| FaultRule {
        fault,
        when,
        api: Some(Api::Zendesk),
        endpoint: Some("GET /api/v2/tickets/{id}".to_string()),
    };
    sb.admin().set_faults(FaultPlan {
        seed: 9,
        rules: vec![
            rule(
                Fault::RateLimited {
                    retry_after_secs: 1,
                },
                When::Range { from: 1, to: 2 },
            ),
            rule(Fault::ServerError { status: 500 }, When::Nth(3)),
        ],
    });
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(case(&sb, &ACME_TICKET.to_string())["Status"], "New");
    assert!(zendesk_requests(&sb, "GET /api/v2/tickets/{id}") >= 4);
}

/// Zendesk requests (every attempt, faulted or not) to endpoints starting with `prefix`.
fn zendesk_requests(sb: &Sandbox, prefix: &str) -> u64 {
    sb.admin()
        .request_counts()
        .zendesk
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

/// 500 and 503 on the reconcile's incremental export: retried, the repair done.
#[tokio::test(flavor = "multi_thread")]
async fn server_errors_on_the_reconcile_export_are_retried() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Exported late", Some(ACME_ORG), ELLEN).await;
    let rule = |status, n| FaultRule {
        fault: Fault::ServerError { status },
        when: When::Nth(n),
        api: Some(Api::Zendesk),
        endpoint: Some("GET /api/v2/incremental".to_string()),
    };
    sb.admin().set_faults(FaultPlan {
        seed: 9,
        rules: vec![rule(500, 1), rule(503, 2)],
    });
    let run1 = run(&["reconcile", "--since", "1h"], &env_for(&sb, &sb)).await;
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    assert_eq!(run1.report["cases"]["create"], 1, "{:#}", run1.report);
    assert_eq!(cases_with_key(&sb, &id.to_string()).len(), 1);
    assert!(zendesk_requests(&sb, "GET /api/v2/incremental") >= 3);
}

/// Salesforce refusing the reconcile for good at its second Collections call (the
/// token refused again after its renewal): the run stops with exit 4, and its report
/// still counts and lists the 200 Cases the first call created; a stop never hides a
/// write that was made.
#[tokio::test(flavor = "multi_thread")]
async fn a_reconcile_stopped_mid_way_reports_the_cases_it_wrote() {
    let sb = sandbox(Instance::Global).await;
    let mut ids = Vec::new();
    for n in 0..201 {
        ids.push(new_ticket(&sb, &format!("Lost {n}"), Some(ACME_ORG), ELLEN).await);
    }
    sb.admin().set_faults(salesforce_fault(
        Fault::ExpireSalesforceTokens,
        When::Range { from: 2, to: 1000 },
        "/services/data/v62.0/composite/sobjects",
    ));
    let run = run(&["reconcile", "--since", "1h"], &env_for(&sb, &sb)).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(cases(&sb).len(), 200);
    assert_eq!(
        run.report["cases"]["create"], 200,
        "{:#}",
        run.report["cases"]
    );
    assert_eq!(run.report["cases"]["failed"], 0);
    let changed: Vec<u64> = run.report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["ticket_id"].as_u64().expect("ticket id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(changed, ids[..200]);
    let errors = run.report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["kind"], "run_stopped");
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("INVALID_SESSION_ID")),
        "{errors:#?}"
    );
}
