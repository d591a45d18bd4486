//! The scenarios: job runs against a fresh sandbox, the in-process evaluate + diff, and
//! the Salesforce query read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;
use sync_core::records::AccountDecoder;
use sync_core::Mapping;
use time::Date;

use crate::floor::{self, FloorInput, ZendeskCalls, ZendeskFloor};
use crate::measure::{run_measured, Cost, Job};
use crate::reference::{self, QueryRead, Reference};
use crate::sandbox::{self, Instance, OptionalArgs, SandboxProcess, Serve};

/// What every scenario shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the release binaries are.
    pub bin_dir: PathBuf,
    /// `--today` of the sandbox and the jobs.
    pub today: Date,
    /// Generator seed.
    pub seed: u64,
    /// Zendesk job latency of the sandbox.
    pub job_latency_ms: u64,
    /// Rate limit (sandbox and job) of the unthrottled scenarios.
    pub unlimited_rate: u32,
    /// Evaluate + diff iterations.
    pub iterations: usize,
    /// Optional serve flags this sandbox has.
    pub optional: OptionalArgs,
    /// `--sandbox-arg`s.
    pub extra_serve: Vec<String>,
    /// Scratch directory (reports, logs).
    pub scratch: PathBuf,
    /// Most time one job or one sandbox start-up may take.
    pub timeout: Duration,
}

impl Settings {
    fn today_arg(&self) -> String {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        self.today.format(&format).unwrap_or_default()
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    fn start_sandbox(
        &self,
        accounts: usize,
        instance: Instance,
        rate_limit: u32,
    ) -> anyhow::Result<SandboxProcess> {
        let serve = Serve {
            accounts,
            instance,
            rate_limit,
            job_latency_ms: self.job_latency_ms,
            today: self.today_arg(),
            seed: self.seed,
        };
        let args = sandbox::serve_args(&serve, &self.optional, &self.extra_serve);
        let log = self.scratch.join(format!(
            "sandbox-{accounts}-{}.log",
            instance_name(instance)
        ));
        eprintln!("bench: zd-sfdc-sandbox {}", args.join(" "));
        SandboxProcess::start(&self.bin("zd-sfdc-sandbox"), &args, log, self.timeout)
    }
}

fn instance_name(instance: Instance) -> &'static str {
    match instance {
        Instance::Global => "global",
        Instance::UsFederal => "us-federal",
    }
}

/// The report counts the harness reads.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReportCounts {
    /// organizations.create / update / delete.
    pub org_creates: u64,
    /// organizations.update.
    pub org_updates: u64,
    /// organizations.delete.
    pub org_deletes: u64,
    /// users.create.
    pub user_creates: u64,
    /// users.update.
    pub user_updates: u64,
    /// api_calls.zendesk as the job counted them.
    pub zendesk_calls: u64,
    /// api_calls.salesforce as the job counted them.
    pub salesforce_calls: u64,
}

impl ReportCounts {
    fn of(report: &serde_json::Value) -> ReportCounts {
        let n = |a: &str, b: &str| {
            report
                .get(a)
                .and_then(|part| part.get(b))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        ReportCounts {
            org_creates: n("organizations", "create"),
            org_updates: n("organizations", "update"),
            org_deletes: n("organizations", "delete"),
            user_creates: n("users", "create"),
            user_updates: n("users", "update"),
            zendesk_calls: n("api_calls", "zendesk"),
            salesforce_calls: n("api_calls", "salesforce"),
        }
    }
}

/// One run of a job binary, measured.
#[derive(Debug, Clone, Serialize)]
pub struct SyncRun {
    /// `global`, `us-federal` or `rate-limit`.
    pub scenario: String,
    /// Generated accounts.
    pub accounts: usize,
    /// `first` or `second`.
    pub run: String,
    /// The Zendesk rate limit of the sandbox and the job.
    pub rate_limit: u32,
    /// What the job process cost.
    pub cost: Cost,
    /// Zendesk requests by endpoint (sandbox counters).
    pub zendesk: BTreeMap<String, u64>,
    /// Salesforce requests by endpoint (sandbox counters).
    pub salesforce: BTreeMap<String, u64>,
    /// Zendesk calls by kind.
    pub calls: ZendeskCalls,
    /// The report's counts.
    pub report: ReportCounts,
    /// What the harness read before the run.
    pub reference: Reference,
    /// What the floor was computed from.
    pub floor_input: FloorInput,
    /// The Zendesk floor.
    pub floor: ZendeskFloor,
    /// Zendesk calls excluding polls / floor.
    pub ratio: f64,
    /// Salesforce calls.
    pub salesforce_calls: u64,
    /// Salesforce floor: query and queryMore pages + 1 token.
    pub salesforce_floor: u64,
    /// 429 answers the job logged (`Zendesk throttled us, waiting`, status 429).
    pub throttled_429: u64,
}

impl SyncRun {
    /// Whether the calls are within 1.05 × the floor.
    pub fn calls_ok(&self) -> bool {
        self.ratio <= floor::RATIO_TARGET
    }

    /// Whether the Salesforce calls are at their floor.
    pub fn salesforce_ok(&self) -> bool {
        self.salesforce_calls <= self.salesforce_floor
    }

    /// Wall time allowed under the rate limit.
    pub fn wall_target_s(&self) -> f64 {
        floor::rate_limited_wall_target_s(self.calls.total, self.rate_limit)
    }
}

/// Counts the job's `Zendesk throttled us` warnings for status 429 (JSON log lines).
fn count_429(stderr: &Path) -> u64 {
    let Ok(text) = std::fs::read_to_string(stderr) else {
        return 0;
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v.get("message").and_then(serde_json::Value::as_str)
                == Some("Zendesk throttled us, waiting")
                && v.get("status").and_then(serde_json::Value::as_u64) == Some(429)
        })
        .count() as u64
}

async fn run_job(
    settings: &Settings,
    sandbox: &SandboxProcess,
    instance: Instance,
    scenario: &str,
    accounts: usize,
    run: &str,
    rate_limit: u32,
) -> anyhow::Result<SyncRun> {
    let reference = reference::reference(sandbox, instance, settings.today)
        .await
        .context("reference read")?;
    let binary = match instance {
        Instance::Global => "zd-sfdc-sync-global",
        Instance::UsFederal => "zd-sfdc-sync-us-federal",
    };
    let stem = format!("{scenario}-{accounts}-{run}");
    let report_path = settings.scratch.join(format!("{stem}-report.json"));
    let stderr = settings.scratch.join(format!("{stem}.log"));
    let program = settings.bin(binary);
    let job = Job {
        program: &program,
        args: vec![
            "--today".into(),
            settings.today_arg(),
            "--allow-mass-changes".into(),
            "--zd-rate-limit".into(),
            rate_limit.to_string(),
            "--log-format".into(),
            "json".into(),
            "--report".into(),
            report_path.display().to_string(),
        ],
        env: vec![
            ("SFDC_CLIENT_ID", "bench".into()),
            ("SFDC_CLIENT_SECRET", "bench".into()),
            ("SFDC_LOGIN_URL", sandbox.salesforce.clone()),
            ("ZD_URL", sandbox.zendesk.clone()),
            ("ZD_EMAIL", "bench@example.com".into()),
            ("ZD_API_TOKEN", "bench".into()),
        ],
        stdout: settings.scratch.join(format!("{stem}.out")),
        stderr: stderr.clone(),
        timeout: settings.timeout,
    };
    eprintln!("bench: {scenario} {accounts} accounts, {run} run");
    let before = sandbox.request_counts().await?;
    let cost = run_measured(job, &settings.scratch).await?;
    let counts = before.delta(&sandbox.request_counts().await?);
    let report: serde_json::Value = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let report_counts = ReportCounts::of(&report);
    let calls = ZendeskCalls::of(&counts.zendesk);
    let floor_input = FloorInput {
        orgs: reference.orgs,
        org_creates: report_counts.org_creates,
        org_updates: report_counts.org_updates,
        org_deletes: report_counts.org_deletes,
        user_creates: report_counts.user_creates,
        user_updates: report_counts.user_updates,
        emails_in_play: reference.emails_in_play,
        end_users: reference.end_users,
    };
    let zendesk_floor = ZendeskFloor::of(&floor_input);
    let result = SyncRun {
        scenario: scenario.to_string(),
        accounts,
        run: run.to_string(),
        rate_limit,
        cost,
        salesforce_calls: counts.salesforce.values().sum(),
        salesforce_floor: reference.salesforce_pages + 1,
        zendesk: counts.zendesk,
        salesforce: counts.salesforce,
        ratio: floor::ratio(calls.without_polls(), zendesk_floor.total),
        calls,
        report: report_counts,
        reference,
        floor_input,
        floor: zendesk_floor,
        throttled_429: count_429(&stderr),
    };
    eprintln!(
        "bench:   exit {} wall {:.1} s cpu {:.1} s rss {:.0} MiB; Zendesk {} calls ({} polls), floor {}, ratio {:.2}",
        result.cost.code,
        result.cost.wall_s,
        result.cost.cpu_s(),
        result.cost.rss_mib(),
        result.calls.total,
        result.calls.polls,
        result.floor.total,
        result.ratio
    );
    if result.cost.code != 0 {
        eprintln!(
            "bench:   non-zero exit; the job's log: {}",
            stderr.display()
        );
    }
    Ok(result)
}

/// A job's first run on a fresh sandbox, then (with `second`) its second run there.
pub async fn sync_scenario(
    settings: &Settings,
    scenario: &str,
    instance: Instance,
    accounts: usize,
    rate_limit: u32,
    second: bool,
) -> anyhow::Result<Vec<SyncRun>> {
    let sandbox = settings.start_sandbox(accounts, instance, rate_limit)?;
    let mut out = vec![
        run_job(
            settings, &sandbox, instance, scenario, accounts, "first", rate_limit,
        )
        .await?,
    ];
    if second {
        out.push(
            run_job(
                settings, &sandbox, instance, scenario, accounts, "second", rate_limit,
            )
            .await?,
        );
    }
    Ok(out)
}

/// Evaluate + diff alone, in-process.
#[derive(Debug, Clone, Serialize)]
pub struct EvalDiff {
    /// Generated accounts.
    pub accounts: usize,
    /// Account records of the Global query.
    pub records: usize,
    /// Accounts that decoded.
    pub decoded: usize,
    /// Zendesk orgs.
    pub orgs: usize,
    /// Iterations.
    pub iterations: usize,
    /// In-process generation of the data (accounts, orgs, the query's rows), seconds.
    pub generate_s: f64,
    /// This process's resident memory once the data is generated (the rows as JSON
    /// text and the orgs; the generated stores dropped), MiB.
    pub rss_data_mib: f64,
    /// This process's peak resident memory after the scenario (generation included), MiB.
    pub peak_rss_mib: f64,
    /// Decode time of each iteration, ms.
    pub decode_ms: Vec<f64>,
    /// Evaluate + diff (`plan_decoded`) wall time of each iteration, ms.
    pub plan_ms: Vec<f64>,
    /// Evaluate + diff CPU time (this thread, user + system) of each iteration, ms: on a
    /// shared machine, what the wall time would be without the other work.
    pub plan_cpu_ms: Vec<f64>,
    /// Median decode, ms.
    pub median_decode_ms: f64,
    /// Median evaluate + diff, ms.
    pub median_plan_ms: f64,
    /// Median evaluate + diff CPU time, ms.
    pub median_plan_cpu_ms: f64,
    /// The plan: creates, updates, deletes.
    pub planned: (usize, usize, usize),
}

impl EvalDiff {
    /// The target in ms where the issue states one (100k: 200 ms, 1M: 2 s).
    pub fn target_ms(&self) -> Option<f64> {
        match self.accounts {
            100_000 => Some(200.0),
            1_000_000 => Some(2_000.0),
            _ => None,
        }
    }
}

/// CPU time (user + system) of this process so far, every thread's, in seconds
/// (`CLOCK_PROCESS_CPUTIME_ID`: nanosecond scheduler accounting, not ticks). The plan's
/// parts run on threads of their own; the async runtime's threads are idle meanwhile.
fn process_cpu_s() -> anyhow::Result<f64> {
    use nix::sys::time::TimeValLike as _;
    let spent = nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)?;
    Ok(spent.num_nanoseconds() as f64 / 1e9)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    match (v.len() % 2, v.get(mid)) {
        (_, None) => 0.0,
        (1, Some(&m)) => m,
        (_, Some(&hi)) => mid
            .checked_sub(1)
            .and_then(|i| v.get(i))
            .map_or(hi, |&lo| (lo + hi) / 2.0),
    }
}

/// Generates the data in-process (the sandbox crate's generator and query engine, see
/// [`crate::generated`]: no sandbox to serve it), then times sync-core's decode and
/// `plan_decoded` (evaluate + diff) over `settings.iterations` runs. The rows are kept
/// as JSON text and parsed outside the timed part. With `plan_dir`, the last
/// iteration's `Plan` is written there as `plan-<accounts>.json` (to compare the plans
/// of two builds byte for byte).
pub fn eval_diff(
    settings: &Settings,
    accounts: usize,
    plan_dir: Option<&Path>,
) -> anyhow::Result<EvalDiff> {
    eprintln!("bench: eval-diff {accounts}: generating the accounts and the orgs in-process");
    let data = crate::generated::global(accounts, settings.seed, settings.today)?;
    let (rss_data, peak_generate) = crate::generated::rss_mib().unwrap_or_default();
    eprintln!(
        "bench:   {} rows, {} orgs in {:.1} s; RSS {rss_data:.0} MiB (peak {peak_generate:.0} MiB)",
        data.records.len(),
        data.orgs.len(),
        data.seconds
    );
    let raw = data.records;
    let orgs = data.orgs;
    let mapping = Mapping::embedded(sync_core::Instance::Global)?;
    let (mut decode_ms, mut plan_ms, mut plan_cpu_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = (0, (0, 0, 0));
    for i in 0..settings.iterations.max(1) {
        let mut decoder = AccountDecoder::new(sync_core::Instance::Global);
        let mut decode = Duration::ZERO;
        for text in &raw {
            let value: serde_json::Value = serde_json::from_str(text)?;
            let started = Instant::now();
            decoder.push(value);
            decode += started.elapsed();
        }
        let records = decoder.records();
        let decoded = decoder.finish();
        let n_decoded = decoded.items.len();
        let cpu_before = process_cpu_s()?;
        let started = Instant::now();
        let plan = sync_core::diff::plan_decoded(decoded, records, &orgs, &mapping, settings.today);
        let took = started.elapsed();
        let cpu = process_cpu_s()? - cpu_before;
        let plan = std::hint::black_box(plan);
        decode_ms.push(decode.as_secs_f64() * 1e3);
        plan_ms.push(took.as_secs_f64() * 1e3);
        plan_cpu_ms.push(cpu * 1e3);
        last = (
            n_decoded,
            (plan.creates.len(), plan.updates.len(), plan.deletes.len()),
        );
        eprintln!(
            "bench:   iteration {}: decode {:.0} ms, evaluate + diff {:.0} ms (CPU {:.0} ms)",
            i + 1,
            decode.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3,
            cpu * 1e3
        );
        let is_last = i + 1 == settings.iterations.max(1);
        if let (true, Some(dir)) = (is_last, plan_dir) {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("plan-{accounts}.json"));
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            serde_json::to_writer(file, &plan)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("bench:   plan written to {}", path.display());
        }
    }
    let (_, peak) = crate::generated::rss_mib().unwrap_or_default();
    Ok(EvalDiff {
        accounts,
        records: raw.len(),
        decoded: last.0,
        orgs: orgs.len(),
        iterations: plan_ms.len(),
        generate_s: data.seconds,
        rss_data_mib: rss_data,
        peak_rss_mib: peak,
        median_decode_ms: median(&decode_ms),
        median_plan_ms: median(&plan_ms),
        median_plan_cpu_ms: median(&plan_cpu_ms),
        decode_ms,
        plan_ms,
        plan_cpu_ms,
        planned: last.1,
    })
}

/// The Global query read through `sfdc-client`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryTiming {
    /// Generated accounts.
    pub accounts: usize,
    /// Sandbox start-up (generation and bind), seconds.
    pub sandbox_startup_s: f64,
    /// The read.
    pub read: QueryRead,
}

/// Reads the Global accounts query in full from a fresh sandbox.
pub async fn query_timing(settings: &Settings, accounts: usize) -> anyhow::Result<QueryTiming> {
    let sandbox = settings.start_sandbox(accounts, Instance::Global, settings.unlimited_rate)?;
    let client = reference::salesforce_client(&sandbox)?;
    let read = reference::read_query(&client, sync_core::soql::GLOBAL_ACCOUNTS, |_| {}).await?;
    eprintln!(
        "bench: sf-query {accounts}: {} rows, {} + {} requests, {:.2} s",
        read.rows, read.query, read.query_more, read.seconds
    );
    Ok(QueryTiming {
        accounts,
        sandbox_startup_s: sandbox.startup.as_secs_f64(),
        read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
