//! `event`: one ticket event from a CI trigger, against the sandbox.

use sandbox::Instance;
use serde_json::Value;

use super::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn created_gives_a_case_with_the_tickets_fields() {
    let sb = sandbox(Instance::Global).await;
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let case = case(&sb, &ACME_TICKET.to_string());
    assert_eq!(case["AccountId"], ACME_ACCOUNT);
    assert_eq!(case["Subject"], "Cannot log in");
    assert_eq!(
        case["Description"],
        "Login fails with a 500 since this morning."
    );
    assert_eq!(case["Priority"], "High");
    assert_eq!(case["Status"], "New");
    assert_eq!(case["IsClosed"], false);
    assert_eq!(case["Origin"], "Web");
    assert_eq!(case["SuppliedEmail"], "ellen@acme.example.com");
    assert_eq!(case["SuppliedName"], "Ellen Ripley");
    assert_eq!(
        case["Zendesk_Support_Ticket_URL__c"],
        Value::from(format!("{}/agent/tickets/{ACME_TICKET}", sb.zendesk_url()))
    );
    // Sforce-Auto-Assign: FALSE: the assignment rule did not pick the owner.
    assert_eq!(
        owner_name(&sb, &case).as_deref(),
        Some("Sandbox Integration User")
    );
    insta::assert_json_snapshot!("created_report", run.report, {
        ".started_at" => "[time]",
        ".finished_at" => "[time]",
        ".changes[].fields.Zendesk_Support_Ticket_URL__c" => "[agent url]",
        ".commit" => "[commit]",
        ".mapping_sha256" => "[mapping]",
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_created_leaves_one_case_and_writes_nothing() {
    let sb = sandbox(Instance::Global).await;
    assert_eq!(event(&sb, "global", ACME_TICKET, "created").await.code, 0);
    let upserts = sf_count(&sb, "PATCH sobjects/Case upsert");
    let again = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(cases_with_key(&sb, &ACME_TICKET.to_string()).len(), 1);
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), upserts);
    assert_eq!(again.report["cases"]["unchanged"], 1);
    assert_eq!(again.report["cases"]["create"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_closes_the_case_and_a_late_created_does_not_reopen_it() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Printer on fire", Some(ACME_ORG), ELLEN).await;
    assert_eq!(event(&sb, "global", id, "created").await.code, 0);
    assert_eq!(case(&sb, &id.to_string())["Status"], "New");
    close_ticket(&sb, id).await;
    let closed = event(&sb, "global", id, "closed").await;
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert_eq!(closed.report["cases"]["close"], 1);
    let c = case(&sb, &id.to_string());
    assert_eq!(
        (c["Status"].clone(), c["IsClosed"].clone()),
        ("Closed".into(), true.into())
    );

    let late = event(&sb, "global", id, "created").await;
    assert_eq!(late.code, 0, "{}", late.stderr);
    let c = case(&sb, &id.to_string());
    assert_eq!(
        (c["Status"].clone(), c["IsClosed"].clone()),
        ("Closed".into(), true.into())
    );
    assert_eq!(cases_with_key(&sb, &id.to_string()).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_without_a_case_creates_it_closed() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Missed create", Some(ACME_ORG), ELLEN).await;
    close_ticket(&sb, id).await;
    let run = event(&sb, "global", id, "closed").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report["cases"]["create"], 1);
    let c = case(&sb, &id.to_string());
    assert_eq!(c["Status"], "Closed");
    assert_eq!(c["IsClosed"], true);
    assert_eq!(c["AccountId"], ACME_ACCOUNT);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_without_an_organization_gives_nothing_and_exit_0() {
    let sb = sandbox(Instance::Global).await;
    let run = event(&sb, "global", NO_ORG_TICKET, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(cases(&sb).is_empty());
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), 0);
    assert_eq!(run.report["errors"][0]["kind"], "no_organization");
    assert_eq!(run.report["errors"][0]["ticket_id"], NO_ORG_TICKET);
    // An organization without salesforce_id: the same.
    let id = new_ticket(&sb, "Forum question", Some(FORUM_ORG), ELLEN).await;
    let run = event(&sb, "global", id, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(cases(&sb).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_account_is_reported_and_exits_0() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Defunct", Some(DEFUNCT_ORG), ELLEN).await;
    let run = event(&sb, "global", id, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(cases(&sb).is_empty());
    assert_eq!(run.report["errors"][0]["kind"], "missing_account");
    let message = run.report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_ticket_id_on_both_instances_gives_two_cases() {
    let global = sandbox(Instance::Global).await;
    let federal = sandbox(Instance::UsFederal).await;
    let id = ACME_TICKET.to_string();
    let args = |instance: &'static str| {
        vec![
            "event",
            "--instance",
            instance,
            "--ticket-id",
            ACME_TICKET_STR,
            "--event",
            "created",
        ]
    };
    // Both Zendesk instances feed the one Salesforce org (the Global sandbox's).
    let a = run(&args("global"), &env_for(&global, &global)).await;
    assert_eq!(a.code, 0, "{}", a.stderr);
    let b = run(&args("us-federal"), &env_for(&global, &federal)).await;
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(case(&global, &id)["AccountId"], ACME_ACCOUNT);
    let fed = case(&global, &format!("usfed-{id}"));
    assert_eq!(fed["AccountId"], "0018SDEMO000101QPA");
    assert_eq!(fed["Subject"], "Same ticket id as a Global ticket");
    assert_eq!(cases(&global).len(), 2);
}

const ACME_TICKET_STR: &str = "360300000001";

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_writes_nothing_and_reports_the_create() {
    let sb = sandbox(Instance::Global).await;
    let id = ACME_TICKET.to_string();
    let run = run(
        &[
            "event",
            "--ticket-id",
            &id,
            "--event",
            "created",
            "--dry-run",
        ],
        &env_for(&sb, &sb),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(cases(&sb).is_empty());
    assert_eq!(run.report["dry_run"], true);
    assert_eq!(run.report["cases"]["create"], 1);
    assert_eq!(run.report["changes"][0]["action"], "create_case");
    assert_eq!(run.report["changes"][0]["fields"]["Status"], "New");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trigger_environment_is_read_and_missing_credentials_exit_2() {
    let sb = sandbox(Instance::Global).await;
    let mut env = env_for(&sb, &sb);
    env.push(("TICKET_ID", ACME_TICKET.to_string()));
    env.push(("TICKET_EVENT", "created".to_string()));
    let ok = run(&["event"], &env).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(cases(&sb).len(), 1);

    let no_creds = run(
        &["event"],
        &[
            ("TICKET_ID", "1".to_string()),
            ("TICKET_EVENT", "created".to_string()),
        ],
    )
    .await;
    assert_eq!(no_creds.code, 2, "{}", no_creds.stderr);
    assert!(no_creds.stderr.contains("ZD_URL"), "{}", no_creds.stderr);
    assert!(no_creds.stderr.contains("SFDC_"), "{}", no_creds.stderr);
    let bad_event = run(&["event", "--ticket-id", "1", "--event", "reopened"], &[]).await;
    assert_eq!(bad_event.code, 2, "{}", bad_event.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_503_and_a_lost_answer_on_the_upsert_still_give_one_case() {
    use sandbox::{Api, Fault, FaultPlan, FaultRule, When};
    let sb = sandbox(Instance::Global).await;
    let upsert = "/services/data/v62.0/sobjects/Case/Zendesk_Support_Ticket_ID__c";
    let rule = |fault, n| FaultRule {
        fault,
        when: When::Nth(n),
        api: Some(Api::Salesforce),
        endpoint: Some(upsert.to_string()),
    };
    sb.admin().set_faults(FaultPlan {
        rules: vec![
            rule(Fault::ServerError { status: 503 }, 1),
            rule(Fault::DropAfterApply, 2),
        ],
        ..FaultPlan::default()
    });
    let run = event(&sb, "global", ACME_TICKET, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(cases_with_key(&sb, &ACME_TICKET.to_string()).len(), 1);
    // The 503 never reaches the handler; the dropped answer and the repeat do.
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn salesforce_unreachable_exits_4() {
    let sb = sandbox(Instance::Global).await;
    let mut env = env_for(&sb, &sb);
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    env.retain(|(k, _)| *k != "SFDC_LOGIN_URL");
    env.push(("SFDC_LOGIN_URL", format!("http://{closed}")));
    let id = ACME_TICKET.to_string();
    let run = run(&["event", "--ticket-id", &id, "--event", "created"], &env).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.report["errors"][0]["kind"], "run_stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_cases_with_one_key_are_a_failed_write_exit_1() {
    let sb = sandbox(Instance::Global).await;
    let sf = sfdc_client::Client::builder()
        .login_url(sb.salesforce_url())
        .credentials(sfdc_client::Credentials::ClientCredentials {
            client_id: "test".into(),
            client_secret: "test".to_string().into(),
        })
        .build()
        .unwrap();
    let key = ACME_TICKET.to_string();
    for subject in ["first", "second"] {
        sf.create(
            "Case",
            &serde_json::json!({"Subject": subject, "Zendesk_Support_Ticket_ID__c": key}),
        )
        .await
        .unwrap();
    }
    let run = event(&sb, "global", ACME_TICKET, "closed").await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report["cases"]["failed"], 1);
    assert_eq!(run.report["errors"][0]["kind"], "case_write_failed");
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), 0);
    assert!(cases(&sb).iter().all(|c| c["Status"] == "New"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_ticket_is_reported_and_exits_0() {
    let sb = sandbox(Instance::Global).await;
    let run = event(&sb, "global", 999, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report["errors"][0]["kind"], "ticket_not_found");
    assert!(cases(&sb).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_description_is_cut_to_32000_characters() {
    use sandbox::zendesk::model::{CommentInput, TicketInput};
    let sb = sandbox(Instance::Global).await;
    let long = "ü".repeat(40_000);
    let ticket = sb
        .admin()
        .create_ticket(TicketInput {
            subject: Some("S".repeat(300)),
            comment: Some(CommentInput {
                body: Some(long),
                public: Some(true),
            }),
            requester_id: Some(ELLEN),
            organization_id: Some(ACME_ORG),
            ..TicketInput::default()
        })
        .await
        .unwrap();
    let run = event(&sb, "global", ticket.id, "created").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = case(&sb, &ticket.id.to_string());
    assert_eq!(c["Description"].as_str().unwrap().chars().count(), 32_000);
    assert_eq!(c["Subject"].as_str().unwrap().chars().count(), 255);
    // No priority on the ticket: none sent.
    assert!(c["Priority"].is_null(), "{}", c["Priority"]);
}

/// The race of a create: worker A looks the Case up (none) and is slow to upsert;
/// meanwhile the ticket is closed and worker B's `closed` event creates the Case
/// already Closed. A's upsert then updates that Case (200, `created: false`) and sets
/// `Status` = New: A must notice, re-read, and close it again, and report an update
/// and a close, not a create.
#[tokio::test(flavor = "multi_thread")]
async fn a_case_created_between_lookup_and_upsert_is_not_left_reopened() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Raced", Some(ACME_ORG), ELLEN).await;
    let key = id.to_string();
    sb.admin().set_faults(sandbox::FaultPlan {
        seed: 1,
        rules: vec![sandbox::FaultRule {
            fault: sandbox::Fault::Slow { millis: 3000 },
            when: sandbox::When::Nth(1),
            api: Some(sandbox::Api::Salesforce),
            endpoint: Some(
                "PATCH /services/data/v62.0/sobjects/Case/Zendesk_Support_Ticket_ID__c".into(),
            ),
        }],
    });
    let queries = sf_count(&sb, "GET query");
    let env = env_for(&sb, &sb);
    let a = {
        let (env, id) = (env.clone(), key.clone());
        tokio::spawn(async move {
            run(&["event", "--ticket-id", &id, "--event", "created"], &env).await
        })
    };
    // A has looked the Case up (none): its upsert is now held by the slow fault.
    wait_for("A's lookup", || sf_count(&sb, "GET query") > queries).await;
    close_ticket(&sb, id).await;
    let b = run(&["event", "--ticket-id", &key, "--event", "closed"], &env).await;
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(b.report["cases"]["create"], 1, "{}", b.report);
    assert_eq!(case(&sb, &key)["IsClosed"], true);

    let a = a.await.expect("A finishes");
    assert_eq!(a.code, 0, "{}", a.stderr);
    let c = &a.report["cases"];
    assert_eq!(
        (c["create"].clone(), c["update"].clone(), c["close"].clone()),
        (0.into(), 1.into(), 1.into()),
        "{}",
        a.report
    );
    let raced = case(&sb, &key);
    assert_eq!(raced["IsClosed"], true, "{raced:#}");
    assert_eq!(raced["Status"], "Closed");
}
