//! Benchmark (run by hand, not in CI): `salesforce-cases reconcile --since 1h` against
//! the demo sandbox after N tickets (default 1,000) whose `created` events were lost.
//! The first run creates their Cases, the second must find nothing to do. For each run:
//! exit code, the report's `cases` counts, API calls by endpoint (from the sandbox's
//! request counts) and wall time, printed to stdout.
//!
//! `cargo bench -p salesforce-cases --bench reconcile [-- 5000]`

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sandbox::zendesk::model::{CommentInput, TicketInput};
use sandbox::{Instance, RequestCounts, Sandbox, SandboxConfig};
use serde_json::Value;

/// Acme's Zendesk org (with a `salesforce_id`) and an Acme end-user, in the demo seed.
const ACME_ORG: u64 = 360_100_000_001;
const ELLEN: u64 = 360_200_000_003;

/// One run of the binary: what it reported and what it cost.
struct Measure {
    code: i32,
    wall: Duration,
    cases: Value,
    calls: BTreeMap<String, u64>,
}

fn delta(before: &RequestCounts, after: &RequestCounts) -> BTreeMap<String, u64> {
    let side = |name: &str, b: &BTreeMap<String, u64>, a: &BTreeMap<String, u64>| {
        a.iter()
            .map(|(k, v)| (format!("{name} {k}"), v - b.get(k).copied().unwrap_or(0)))
            .filter(|(_, v)| *v > 0)
            .collect::<Vec<_>>()
    };
    side("zendesk", &before.zendesk, &after.zendesk)
        .into_iter()
        .chain(side("salesforce", &before.salesforce, &after.salesforce))
        .collect()
}

fn reconcile(sandbox: &Sandbox, label: &str) -> Result<Measure, String> {
    let report_path = std::env::temp_dir().join(format!(
        "salesforce-cases-bench-{}-{label}.json",
        std::process::id()
    ));
    let before = sandbox.admin().request_counts();
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_salesforce-cases"))
        .args(["reconcile", "--since", "1h", "--report"])
        .arg(&report_path)
        .env_clear()
        .env("SFDC_CLIENT_ID", "bench")
        .env("SFDC_CLIENT_SECRET", "bench")
        .env("SFDC_LOGIN_URL", sandbox.salesforce_url())
        .env("ZD_URL", sandbox.zendesk_url())
        .env("ZD_EMAIL", "ops@example.com")
        .env("ZD_API_TOKEN", "bench")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run salesforce-cases: {e}"))?;
    let wall = started.elapsed();
    let calls = delta(&before, &sandbox.admin().request_counts());
    let report: Value = std::fs::read_to_string(&report_path)
        .map_err(|e| format!("no report from the {label} run: {e}"))
        .and_then(|s| serde_json::from_str(&s).map_err(|e| format!("bad report: {e}")))?;
    let _ = std::fs::remove_file(&report_path);
    Ok(Measure {
        code: status.code().unwrap_or(-1),
        wall,
        cases: report["cases"].clone(),
        calls,
    })
}

fn print(label: &str, m: &Measure) {
    let total = |side: &str| -> u64 {
        m.calls
            .iter()
            .filter(|(k, _)| k.starts_with(side))
            .map(|(_, v)| v)
            .sum()
    };
    println!(
        "{label} run: exit {}, {:.2} s, {} Zendesk and {} Salesforce calls, cases {}",
        m.code,
        m.wall.as_secs_f64(),
        total("zendesk"),
        total("salesforce"),
        m.cases
    );
    for (endpoint, n) in &m.calls {
        println!("    {n:>6}  {endpoint}");
    }
}

async fn bench(tickets: usize) -> Result<(), String> {
    let config = SandboxConfig {
        instance: Instance::Global,
        ..SandboxConfig::default_fixtures()
    };
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| format!("sandbox: {e}"))?;
    for i in 0..tickets {
        let subject = format!("Lost {i}");
        sandbox
            .admin()
            .create_ticket(TicketInput {
                subject: Some(subject.clone()),
                comment: Some(CommentInput {
                    body: Some(format!("{subject}: details")),
                    public: Some(true),
                }),
                priority: Some("normal".to_string()),
                requester_id: Some(ELLEN),
                organization_id: Some(ACME_ORG),
                ..TicketInput::default()
            })
            .await
            .map_err(|e| format!("ticket {i}: {e:?}"))?;
    }
    println!("{tickets} tickets whose created event was lost (demo seed, Global)");
    // The binary blocks this thread; the sandbox serves from the runtime's other workers.
    let first = tokio::task::block_in_place(|| reconcile(&sandbox, "first"))?;
    print("first", &first);
    let second = tokio::task::block_in_place(|| reconcile(&sandbox, "second"))?;
    print("second", &second);
    if first.cases["create"].as_u64() != Some(tickets as u64) || second.cases["create"] != 0 {
        return Err(format!(
            "unexpected counts: first {}, second {}",
            first.cases, second.cases
        ));
    }
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench`; a number is the ticket count.
    let tickets = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(1000);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(bench(tickets)) {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}
