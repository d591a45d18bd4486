//! `bench`: the benchmark harness of issue 13. Not a test and not run in CI.
//!
//! It builds nothing: build the release binaries first,
//!
//! ```text
//! cargo build --release -p sandbox -p zd-sfdc-sync-global -p zd-sfdc-sync-us-federal
//! cargo run --release -p bench -- [--quick] [--only SCENARIO]… [--global-sizes 1000,10000]…
//! ```
//!
//! For each scenario it starts the standalone `zd-sfdc-sandbox serve` as a separate
//! process (its memory is never counted), runs the real release job binaries against it
//! under `bench measure` (wall, CPU and peak RSS of the job process alone, from
//! `getrusage(RUSAGE_CHILDREN)`), reads the calls by endpoint from the sandbox's admin
//! counters and the job's `--report`, computes the floor of issue 13, and writes
//! `docs/benchmarks.md`, `docs/benchmarks/calls.svg` and `docs/benchmarks/results.json`.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod chart;
mod doc;
mod floor;
mod generated;
mod machine;
mod measure;
mod reference;
mod sandbox;
mod scenarios;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use crate::sandbox::Instance;
use crate::scenarios::Settings;

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Benchmarks the release job binaries against the standalone sandbox and writes docs/benchmarks.md",
    args_conflicts_with_subcommands = true,
    after_help = after_help()
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

fn after_help() -> String {
    format!(
        "Build first: cargo build --release -p sandbox -p zd-sfdc-sync-global -p zd-sfdc-sync-us-federal\n\
         Optional `zd-sfdc-sandbox serve` flags passed when the sandbox has them: {}",
        doc::optional_args_help()
    )
}

#[derive(Subcommand)]
enum Command {
    /// Run CMD, wait, and write its exit code, wall and CPU time and peak RSS as JSON to
    /// FILE (used by the harness for each job run).
    Measure {
        /// Where the JSON goes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The command and its arguments.
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Global sync, first and second run.
    Global,
    /// US Federal sync, first and second run.
    UsFederal,
    /// Decode and evaluate + diff in-process.
    EvalDiff,
    /// The Global Salesforce query read through sfdc-client.
    SfQuery,
    /// One Global first run under a rate limit.
    RateLimit,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Global => "global",
            Scenario::UsFederal => "us-federal",
            Scenario::EvalDiff => "eval-diff",
            Scenario::SfQuery => "sf-query",
            Scenario::RateLimit => "rate-limit",
        }
    }
}

#[derive(clap::Args)]
struct RunArgs {
    /// Every scenario at 1,000 accounts only (size flags given explicitly still win).
    #[arg(long)]
    quick: bool,
    /// Run only these scenarios (repeatable or comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// Global sync sizes [default: 1000,10000,100000].
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    global_sizes: Option<Vec<usize>>,
    /// US Federal sync sizes [default: 10000].
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    federal_sizes: Option<Vec<usize>>,
    /// Evaluate + diff sizes [default: 100000,1000000].
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    eval_sizes: Option<Vec<usize>>,
    /// Salesforce query read sizes [default: 1000,10000,100000].
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    query_sizes: Option<Vec<usize>>,
    /// Rate-limited run sizes [default: 10000].
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    rate_limit_sizes: Option<Vec<usize>>,
    /// The rate limit of the rate-limited run (sandbox `--rate-limit`, job `--zd-rate-limit`).
    #[arg(long, default_value_t = 700)]
    rate: u32,
    /// The rate limit of every other scenario (high: no throttling).
    #[arg(long, default_value_t = 1_000_000)]
    unlimited_rate: u32,
    /// Evaluate + diff iterations (the median is reported).
    #[arg(long, default_value_t = 5)]
    iterations: usize,
    /// Time a Zendesk job takes in the sandbox.
    #[arg(long, default_value_t = 20)]
    job_latency_ms: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The day of the data and the runs (YYYY-MM-DD) [default: today UTC].
    #[arg(long, value_parser = sync_jobs::cli::parse_date)]
    today: Option<time::Date>,
    /// An extra argument for every `zd-sfdc-sandbox serve` (repeatable; e.g.
    /// `--sandbox-arg=--bulk-user-create-disabled`).
    #[arg(long = "sandbox-arg", value_name = "ARG", allow_hyphen_values = true)]
    sandbox_args: Vec<String>,
    /// Directory of the release binaries [default: this executable's directory].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The page to write [default: docs/benchmarks.md of this repository].
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Write each eval-diff size's last plan as JSON to DIR/plan-<accounts>.json (to
    /// compare two builds' plans byte for byte).
    #[arg(long, value_name = "DIR")]
    plan_dir: Option<PathBuf>,
    /// Most minutes one job run (or sandbox start-up) may take.
    #[arg(long, default_value_t = 120)]
    timeout_minutes: u64,
}

impl RunArgs {
    fn selected(&self, s: Scenario) -> bool {
        self.only.is_empty() || self.only.contains(&s)
    }

    fn sizes(&self, s: Scenario) -> Vec<usize> {
        let (given, full) = match s {
            Scenario::Global => (&self.global_sizes, vec![1_000, 10_000, 100_000]),
            Scenario::UsFederal => (&self.federal_sizes, vec![10_000]),
            Scenario::EvalDiff => (&self.eval_sizes, vec![100_000, 1_000_000]),
            Scenario::SfQuery => (&self.query_sizes, vec![1_000, 10_000, 100_000]),
            Scenario::RateLimit => (&self.rate_limit_sizes, vec![10_000]),
        };
        match given {
            Some(sizes) => sizes.clone(),
            None if self.quick => vec![1_000],
            None => full,
        }
    }

    /// Whether a selected scenario runs the release binaries (eval-diff generates its
    /// data in-process and needs none; every other scenario does).
    fn needs_binaries(&self) -> bool {
        Scenario::value_variants()
            .iter()
            .any(|&s| s != Scenario::EvalDiff && self.selected(s))
    }

    /// Whether this run is less than the full default set.
    fn partial(&self) -> bool {
        self.quick
            || !self.only.is_empty()
            || self.global_sizes.is_some()
            || self.federal_sizes.is_some()
            || self.eval_sizes.is_some()
            || self.query_sizes.is_some()
            || self.rate_limit_sizes.is_some()
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head}, with uncommitted changes")
    } else {
        head
    }
}

async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let started_at = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    let load_at_start = machine::load_average();
    let root = repo_root();
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the bench executable has no directory")?
            .to_path_buf(),
    };
    let binaries = [
        "zd-sfdc-sandbox",
        "zd-sfdc-sync-global",
        "zd-sfdc-sync-us-federal",
    ];
    for bin in binaries.into_iter().filter(|_| args.needs_binaries()) {
        anyhow::ensure!(
            bin_dir.join(bin).is_file(),
            "{} is missing: cargo build --release -p sandbox -p zd-sfdc-sync-global -p zd-sfdc-sync-us-federal",
            bin_dir.join(bin).display()
        );
    }
    let scratch = std::env::temp_dir().join(format!("zd-sfdc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    eprintln!(
        "bench: scratch files (reports, logs) in {}",
        scratch.display()
    );
    let optional = if args.needs_binaries() {
        sandbox::probe_optional_args(&bin_dir.join("zd-sfdc-sandbox"))?
    } else {
        sandbox::OptionalArgs::default()
    };
    let settings = Settings {
        bin_dir,
        today: args
            .today
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().date()),
        seed: args.seed,
        job_latency_ms: args.job_latency_ms,
        unlimited_rate: args.unlimited_rate,
        iterations: args.iterations,
        optional: optional.clone(),
        extra_serve: args.sandbox_args.clone(),
        scratch: scratch.clone(),
        timeout: Duration::from_secs(args.timeout_minutes * 60),
    };
    let mut selection = Vec::new();
    let mut failures = Vec::new();
    let mut sync = Vec::new();
    let mut eval_diff = Vec::new();
    let mut queries = Vec::new();
    let all = [
        Scenario::Global,
        Scenario::UsFederal,
        Scenario::RateLimit,
        Scenario::EvalDiff,
        Scenario::SfQuery,
    ];
    for scenario in all.into_iter().filter(|s| args.selected(*s)) {
        let sizes = args.sizes(scenario);
        selection.push(format!(
            "{} at {}",
            scenario.name(),
            sizes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for accounts in sizes {
            let outcome: anyhow::Result<()> = async {
                match scenario {
                    Scenario::Global => sync.extend(
                        scenarios::sync_scenario(
                            &settings,
                            "global",
                            Instance::Global,
                            accounts,
                            args.unlimited_rate,
                            true,
                        )
                        .await?,
                    ),
                    Scenario::UsFederal => sync.extend(
                        scenarios::sync_scenario(
                            &settings,
                            "us-federal",
                            Instance::UsFederal,
                            accounts,
                            args.unlimited_rate,
                            true,
                        )
                        .await?,
                    ),
                    Scenario::RateLimit => sync.extend(
                        scenarios::sync_scenario(
                            &settings,
                            "rate-limit",
                            Instance::Global,
                            accounts,
                            args.rate,
                            false,
                        )
                        .await?,
                    ),
                    Scenario::EvalDiff => eval_diff.push(scenarios::eval_diff(
                        &settings,
                        accounts,
                        args.plan_dir.as_deref(),
                    )?),
                    Scenario::SfQuery => {
                        queries.push(scenarios::query_timing(&settings, accounts).await?)
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = outcome {
                let line = format!("{} at {accounts}: {e:#}", scenario.name());
                eprintln!("bench: FAILED {line}");
                failures.push(line);
            }
        }
    }

    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut results = doc::Results {
        started: started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        seconds: 0.0,
        command: std::iter::once("cargo run --release -p bench --".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        commit: commit(&root),
        partial: args.partial(),
        selection,
        machine: machine::Machine::read(load_at_start),
        today: settings.today.format(&format).unwrap_or_default(),
        seed: args.seed,
        job_latency_ms: args.job_latency_ms,
        unlimited_rate: args.unlimited_rate,
        optional_serve_args: optional,
        extra_serve_args: args.sandbox_args.clone(),
        sync,
        eval_diff,
        queries,
        failures,
    };
    results.seconds = started.elapsed().as_secs_f64();

    let doc_path = args
        .doc
        .clone()
        .unwrap_or_else(|| root.join("docs/benchmarks.md"));
    let dir = doc_path
        .parent()
        .map(|p| p.join("benchmarks"))
        .unwrap_or_else(|| PathBuf::from("benchmarks"));
    std::fs::create_dir_all(&dir)?;
    let global: Vec<&scenarios::SyncRun> = results
        .sync
        .iter()
        .filter(|r| r.scenario == "global")
        .collect();
    let chart = chart::write(&dir.join("calls.svg"), &global)?;
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    std::fs::write(
        &doc_path,
        doc::render(&results, chart.then_some("benchmarks/calls.svg")),
    )?;
    eprintln!(
        "bench: wrote {} (and calls.svg, results.json in {})",
        doc_path.display(),
        dir.display()
    );
    let clean = results.failures.is_empty() && results.sync.iter().all(|r| r.cost.code == 0);
    if clean {
        let _ = std::fs::remove_dir_all(&scratch);
    } else {
        eprintln!("bench: logs and reports kept in {}", scratch.display());
    }
    Ok(results.failures.is_empty())
}

/// jemalloc: the plan is built from many small allocations, and what a phase frees goes
/// back to the system (docs/decisions.md, "The allocator, and what a run holds").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Measure { out, cmd }) => match measure::measure_mode(&out, &cmd) {
            Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(e) => {
                eprintln!("bench: {e:#}");
                ExitCode::from(2)
            }
        },
        None => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("bench: {e}");
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(run(cli.run)) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("bench: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
