//! Shared setup: start a US Federal sandbox, run the binary against it, read its
//! report, and look at the sandbox's state and request counts. The general part is
//! `sandbox::testing`; this module holds what is this binary's own.

use sandbox::{testing, Instance, Sandbox, SandboxConfig, Seed};
use serde_json::Value;

pub use sandbox::testing::{fixtures_with, temp_path, zendesk_fault, zendesk_state, Run};

/// The run's date in every test: the demo seed is dated relative to it.
pub const TODAY: &str = "2026-11-25";

/// Accounts of the demo seed, by number.
pub const BUREAU_OF_TESTS: &str = "0018SDEMO000103QPA";
pub const OFFICE_OF_DEMOS: &str = "0018SDEMO000104QPA";

/// The US Federal demo seed with millisecond jobs and a high rate limit.
pub fn demo() -> SandboxConfig {
    testing::demo(Instance::UsFederal)
}

/// A generated US Federal data set of `accounts` accounts, dated relative to [`TODAY`].
pub fn generated(accounts: usize) -> SandboxConfig {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    SandboxConfig {
        seed: Seed::Generated {
            accounts,
            seed: 11,
            today: time::Date::parse(TODAY, &format).expect("test date"),
        },
        ..demo()
    }
}

pub async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// Runs the binary against the sandbox with `args` (plus `--today` and `--report`).
pub async fn run(sandbox: &Sandbox, args: &[&str]) -> Run {
    let mut env = testing::env_for(sandbox, sandbox);
    env.push(("RUST_LOG", "warn".to_string()));
    let mut all_args = vec!["--today", TODAY, "--zd-rate-limit", "100000"];
    all_args.extend_from_slice(args);
    testing::run_binary(
        env!("CARGO_BIN_EXE_zd-sfdc-sync-us-federal"),
        &all_args,
        &env,
        Some(sandbox),
    )
    .await
}

/// The ids of the orgs carrying `salesforce_id`.
pub fn org_ids(state: &Value, salesforce_id: &str) -> Vec<u64> {
    state["organizations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["organization_fields"]["salesforce_id"] == salesforce_id)
                .filter_map(|o| o["id"].as_u64())
                .collect()
        })
        .unwrap_or_default()
}

/// The users of the state whose email is `email`, case-insensitively.
pub fn users<'a>(state: &'a Value, email: &str) -> Vec<&'a Value> {
    state["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|u| {
                    u["email"]
                        .as_str()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The one user with `email`; panics (the test fails) if there is not exactly one.
pub fn user<'a>(state: &'a Value, email: &str) -> &'a Value {
    let found = users(state, email);
    assert_eq!(found.len(), 1, "exactly one user {email}: {found:?}");
    found[0]
}
