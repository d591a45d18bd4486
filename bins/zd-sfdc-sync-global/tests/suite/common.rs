//! Shared setup: start a sandbox, run the binary against it, read its report, and look
//! at the sandbox's state and request counts.

use sandbox::{testing, Instance, Sandbox, SandboxConfig};
use serde_json::Value;

pub use sandbox::testing::{zendesk_fault, zendesk_state, Run};

/// The run's date in every test: the demo seed is dated relative to it.
pub const TODAY: &str = "2026-11-25";

/// The demo seed with millisecond jobs and a high rate limit.
pub fn demo() -> SandboxConfig {
    testing::demo(Instance::Global)
}

/// A generated data set of `accounts` accounts, dated relative to [`TODAY`].
pub fn generated(accounts: usize) -> SandboxConfig {
    SandboxConfig {
        seed: sandbox::Seed::Generated {
            accounts,
            seed: 7,
            today: sync_today(),
        },
        ..demo()
    }
}

pub fn sync_today() -> time::Date {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(TODAY, &format).expect("test date")
}

pub async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// The environment pointing the binary at the sandbox (client-credentials flow at the
/// simulated My Domain, API token for Zendesk).
pub fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    testing::env_for(sandbox, sandbox)
}

/// Runs the binary against the sandbox with `args` (plus `--today` and `--report`).
pub async fn run(sandbox: &Sandbox, args: &[&str]) -> Run {
    run_with_env(sandbox, sandbox_env(sandbox), args).await
}

/// Runs the binary with exactly `env` (nothing inherited but `RUST_LOG=warn`, which
/// `env` may override) and `args`.
pub async fn run_with_env(
    sandbox: &Sandbox,
    env: Vec<(&'static str, String)>,
    args: &[&str],
) -> Run {
    let mut all_env = vec![("RUST_LOG", "warn".to_string())];
    all_env.extend(env);
    let mut all_args = vec!["--today", TODAY, "--zd-rate-limit", "100000"];
    all_args.extend_from_slice(args);
    testing::run_binary(
        env!("CARGO_BIN_EXE_zd-sfdc-sync-global"),
        &all_args,
        &all_env,
        Some(sandbox),
    )
    .await
}

/// The orgs of the state carrying `salesforce_id`.
pub fn orgs_with_salesforce_id<'a>(state: &'a Value, salesforce_id: &str) -> Vec<&'a Value> {
    state["organizations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["organization_fields"]["salesforce_id"] == salesforce_id)
                .collect()
        })
        .unwrap_or_default()
}

/// A user of the state by email.
pub fn user<'a>(state: &'a Value, email: &str) -> Option<&'a Value> {
    state["users"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["email"] == email))
}
