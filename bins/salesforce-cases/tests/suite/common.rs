//! Shared setup: sandboxes, running the binary with the environment pointing at them
//! (through `sandbox::testing`), and reading Cases back from the simulated Salesforce.

use std::time::Duration;

use sandbox::testing;
use sandbox::zendesk::model::{CommentInput, TicketInput};
use sandbox::{Instance, Sandbox, SandboxConfig, WebhookTarget};
use serde_json::Value;

pub use sandbox::testing::{env_for, Run};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_salesforce-cases");

/// Seed ticket ids (fixtures/sandbox/zendesk/global/tickets.json).
pub const ACME_TICKET: u64 = 360_300_000_001;
/// A seed ticket whose requester and ticket have no organization.
pub const NO_ORG_TICKET: u64 = 360_300_000_003;
/// Acme's Zendesk org and its Salesforce account.
pub const ACME_ORG: u64 = 360_100_000_001;
/// Acme's account id.
pub const ACME_ACCOUNT: &str = "0018SDEMO000001QPA";
/// Ellen Ripley, an Acme end-user.
pub const ELLEN: u64 = 360_200_000_003;
/// Defunct Holdings: its `salesforce_id` is not in Salesforce.
pub const DEFUNCT_ORG: u64 = 360_100_000_012;
/// Community Forum: no `salesforce_id`.
pub const FORUM_ORG: u64 = 360_100_000_011;

/// A sandbox with the demo seed of `instance`.
pub async fn sandbox(instance: Instance) -> Sandbox {
    sandbox_with(instance, None).await
}

/// A sandbox whose Zendesk sends ticket webhooks to `target`.
pub async fn sandbox_with(instance: Instance, target: Option<WebhookTarget>) -> Sandbox {
    let mut config = SandboxConfig::default_fixtures();
    config.instance = instance;
    config.webhook = target;
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A command for the binary with a clean environment plus `RUST_LOG=info` (which
/// `env` may override) and `env`.
pub fn command(args: &[&str], env: &[(&str, String)]) -> tokio::process::Command {
    testing::command(BIN, args, &with_log(env))
}

/// Runs the binary to the end with `args` (a subcommand first), the environment of
/// [`command`], and a report file.
pub async fn run(args: &[&str], env: &[(&str, String)]) -> Run {
    testing::run_binary(BIN, args, &with_log(env), None).await
}

fn with_log<'a>(env: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
    let mut all = vec![("RUST_LOG", "info".to_string())];
    all.extend_from_slice(env);
    all
}

/// Runs `event --ticket-id N --event E` against one sandbox (both APIs).
pub async fn event(sb: &Sandbox, instance: &str, ticket: u64, event: &str) -> Run {
    let id = ticket.to_string();
    run(
        &[
            "event",
            "--instance",
            instance,
            "--ticket-id",
            &id,
            "--event",
            event,
        ],
        &env_for(sb, sb),
    )
    .await
}

/// The live Cases of a Salesforce sandbox.
pub fn cases(sb: &Sandbox) -> Vec<Value> {
    sb.admin().salesforce_state()["Case"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["IsDeleted"] != Value::Bool(true))
        .collect()
}

/// The Cases holding `key`.
pub fn cases_with_key(sb: &Sandbox, key: &str) -> Vec<Value> {
    cases(sb)
        .into_iter()
        .filter(|c| c["Zendesk_Support_Ticket_ID__c"] == key)
        .collect()
}

/// The one Case holding `key`.
pub fn case(sb: &Sandbox, key: &str) -> Value {
    let found = cases_with_key(sb, key);
    assert_eq!(found.len(), 1, "Cases with key {key}: {found:#?}");
    found[0].clone()
}

/// Requests the Salesforce sandbox received for an endpoint key (`PATCH sobjects/Case upsert`).
pub fn sf_count(sb: &Sandbox, endpoint: &str) -> u64 {
    sb.admin()
        .request_counts()
        .salesforce
        .get(endpoint)
        .copied()
        .unwrap_or(0)
}

/// Creates a ticket through the sandbox's admin handle (fires a webhook if configured).
pub async fn new_ticket(sb: &Sandbox, subject: &str, org: Option<u64>, requester: u64) -> u64 {
    sb.admin()
        .create_ticket(TicketInput {
            subject: Some(subject.to_string()),
            comment: Some(CommentInput {
                body: Some(format!("{subject}: details")),
                public: Some(true),
            }),
            priority: Some("normal".to_string()),
            requester_id: Some(requester),
            organization_id: org,
            ..TicketInput::default()
        })
        .await
        .expect("ticket created")
        .id
}

/// Closes a ticket through the admin handle.
pub async fn close_ticket(sb: &Sandbox, id: u64) {
    sb.admin().close_ticket(id).await.expect("ticket closed");
}

/// Waits until `check` holds, polling; panics with `what` after 15 s.
pub async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The name of a Case's owner (the integration user unless an assignment rule ran).
pub fn owner_name(sb: &Sandbox, case: &Value) -> Option<String> {
    let owner = case["OwnerId"].as_str()?;
    sb.admin().salesforce_state()["User"]
        .as_array()?
        .iter()
        .find(|u| u["Id"] == owner)
        .and_then(|u| u["Name"].as_str().map(str::to_string))
}
