//! `docs/benchmarks.md`, written from one run's [`Results`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::floor::RATIO_TARGET;
use crate::machine::Machine;
use crate::sandbox::{OptionalArgs, OPTIONAL_SERVE_ARGS};
use crate::scenarios::{EvalDiff, QueryTiming, SyncRun};

/// Everything one harness run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// When the run started (UTC, RFC 3339).
    pub started: String,
    /// How long the whole run took, seconds.
    pub seconds: f64,
    /// The command line.
    pub command: String,
    /// `git describe`-like commit of the tree measured.
    pub commit: String,
    /// Whether only some scenarios or sizes ran.
    pub partial: bool,
    /// Scenarios and sizes that ran.
    pub selection: Vec<String>,
    /// The machine.
    pub machine: Machine,
    /// The run's `--today`.
    pub today: String,
    /// Generator seed.
    pub seed: u64,
    /// Sandbox job latency.
    pub job_latency_ms: u64,
    /// The unthrottled scenarios' rate limit.
    pub unlimited_rate: u32,
    /// Optional sandbox flags passed / absent.
    pub optional_serve_args: OptionalArgs,
    /// `--sandbox-arg`s.
    pub extra_serve_args: Vec<String>,
    /// Job runs.
    pub sync: Vec<SyncRun>,
    /// Evaluate + diff.
    pub eval_diff: Vec<EvalDiff>,
    /// Salesforce query reads.
    pub queries: Vec<QueryTiming>,
    /// Scenarios that failed, with the error.
    pub failures: Vec<String>,
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The endpoint key without the `/api/v2` prefix, for narrow tables.
fn short(endpoint: &str) -> String {
    endpoint.replacen("/api/v2/", "", 1)
}

fn summary_table(out: &mut String, runs: &[&SyncRun], with_target_rss: bool) {
    let _ = writeln!(
        out,
        "| accounts | run | exit | wall | CPU | peak RSS | orgs c/u/d | users c/u | Zendesk calls | polls (allowed) | floor | ratio | ≤ {RATIO_TARGET} × floor | Salesforce calls / floor |"
    );
    let _ = writeln!(
        out,
        "|---:|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|"
    );
    for r in runs {
        let per_account = r.cost.max_rss_kib as f64 * 1024.0 / r.accounts.max(1) as f64 / 1e3;
        let rss = if with_target_rss && r.accounts == 100_000 {
            format!(
                "{:.0} MiB, {per_account:.1} KB/account ({} ≤ 200 MB)",
                r.cost.rss_mib(),
                yes(r.cost.max_rss_kib as f64 * 1024.0 <= 200e6)
            )
        } else {
            format!("{:.0} MiB, {per_account:.1} KB/account", r.cost.rss_mib())
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} s | {:.1} s | {} | {}/{}/{} | {}/{} | {} | {} ({:.0}, {}) | {} | {:.2} | {} | {} / {} ({}) |",
            thousands(r.accounts as u64),
            r.run,
            r.cost.code,
            r.cost.wall_s,
            r.cost.cpu_s(),
            rss,
            r.report.org_creates,
            r.report.org_updates,
            r.report.org_deletes,
            r.report.user_creates,
            r.report.user_updates,
            thousands(r.calls.total),
            r.calls.polls,
            r.calls.poll_allowance(),
            yes(r.calls.polls_ok()),
            thousands(r.floor.total),
            r.ratio,
            yes(r.calls_ok()),
            r.salesforce_calls,
            r.salesforce_floor,
            yes(r.salesforce_ok()),
        );
    }
}

/// Runs whose own count of calls (the report's `api_calls`) differs from the sandbox's.
fn count_mismatches(out: &mut String, runs: &[&SyncRun]) {
    for r in runs {
        let sandbox_sf = r.salesforce_calls;
        if r.report.zendesk_calls != r.calls.total || r.report.salesforce_calls != sandbox_sf {
            let _ = writeln!(
                out,
                "\nNote: the {} {} run's report counts {} Zendesk and {} Salesforce calls; the sandbox \
                 counted {} and {}.",
                thousands(r.accounts as u64),
                r.run,
                r.report.zendesk_calls,
                r.report.salesforce_calls,
                r.calls.total,
                sandbox_sf
            );
        }
    }
}

fn floor_table(out: &mut String, runs: &[&SyncRun]) {
    let _ = writeln!(
        out,
        "\nThe floor, term by term (issue 13), and what it was computed from:\n"
    );
    let _ = writeln!(
        out,
        "| accounts | run | orgs read → pages | fields | 2 × ⌈creates/100⌉ | ⌈updates/100⌉ | ⌈deletes/100⌉ | ⌈user creates/100⌉ | ⌈user updates/100⌉ | user reads: min(lookups, scan pages) | floor |"
    );
    let _ = writeln!(out, "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|");
    for r in runs {
        let f = &r.floor;
        let _ = writeln!(
            out,
            "| {} | {} | {} → {} | {} | {} | {} | {} | {} | {} | min({}, {} end-users → {}) = {} | {} |",
            thousands(r.accounts as u64),
            r.run,
            thousands(r.floor_input.orgs),
            f.org_pages,
            f.fields,
            f.create_jobs_and_read_backs,
            f.update_jobs,
            f.delete_jobs,
            f.user_create_jobs,
            f.user_update_jobs,
            thousands(f.user_lookups),
            thousands(r.floor_input.end_users),
            f.user_scan_pages,
            f.user_reads,
            thousands(f.total),
        );
    }
}

fn endpoint_table(out: &mut String, runs: &[&SyncRun]) {
    let endpoints: BTreeSet<&String> = runs.iter().flat_map(|r| r.zendesk.keys()).collect();
    let sf: BTreeSet<&String> = runs.iter().flat_map(|r| r.salesforce.keys()).collect();
    let _ = writeln!(out, "\nCalls by endpoint (sandbox request counters):\n");
    let header: Vec<String> = runs
        .iter()
        .map(|r| format!("{} {}", thousands(r.accounts as u64), r.run))
        .collect();
    let _ = writeln!(out, "| endpoint | {} |", header.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(runs.len()));
    for (api, keys, pick) in [("Zendesk", &endpoints, true), ("Salesforce", &sf, false)] {
        for key in keys {
            let cells: Vec<String> = runs
                .iter()
                .map(|r| {
                    let map = if pick { &r.zendesk } else { &r.salesforce };
                    thousands(map.get(*key).copied().unwrap_or(0))
                })
                .collect();
            let _ = writeln!(out, "| {api} `{}` | {} |", short(key), cells.join(" | "));
        }
    }
}

fn sync_section(out: &mut String, title: &str, intro: &str, runs: &[&SyncRun]) {
    if runs.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## {title}\n\n{intro}\n");
    for r in runs
        .iter()
        .filter(|r| r.reference.contacts > 0 && r.run == "first")
    {
        let _ = writeln!(
            out,
            "At {} accounts the generator gives {} contacts ({} distinct valid emails).\n",
            thousands(r.accounts as u64),
            thousands(r.reference.contacts),
            thousands(r.reference.emails_in_play)
        );
    }
    summary_table(out, runs, true);
    count_mismatches(out, runs);
    floor_table(out, runs);
    endpoint_table(out, runs);
}

fn rate_section(out: &mut String, runs: &[&SyncRun]) {
    if runs.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Global under a rate limit\n\nThe sandbox allows `--rate-limit` requests a minute \
         (fixed one-minute windows, with honest `X-Rate-Limit` headers) and the job runs with the \
         same `--zd-rate-limit`. Target: wall ≤ 1.1 × calls / rate + 5 s, and no 429 (counted \
         from the job's `Zendesk throttled us` log lines: the sandbox does not count answers by \
         status).\n"
    );
    summary_table(out, runs, false);
    let _ = writeln!(
        out,
        "\n| accounts | rate | Zendesk calls | wall | allowed: 1.1 × calls / rate + 5 s | met | 429s seen | none |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---|---:|---|");
    for r in runs {
        let target = r.wall_target_s();
        let _ = writeln!(
            out,
            "| {} | {}/min | {} | {:.1} s | {:.1} s | {} | {} | {} |",
            thousands(r.accounts as u64),
            r.rate_limit,
            thousands(r.calls.total),
            r.cost.wall_s,
            target,
            yes(r.cost.wall_s <= target),
            r.throttled_429,
            yes(r.throttled_429 == 0),
        );
    }
    endpoint_table(out, runs);
}

fn eval_section(out: &mut String, evals: &[EvalDiff]) {
    if evals.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Evaluate + diff alone (in-process)\n\nNo sandbox is served: the data is generated \
         in-process by the sandbox crate's own generator (the same data as `zd-sfdc-sandbox serve \
         --accounts N --sold-to-users` with the same seed and day), the Global query's rows are \
         rendered by its query engine and kept as JSON text, the orgs converted as the job \
         converts them, and the generated stores dropped. Then, each iteration, sync-core's \
         `AccountDecoder` decodes the rows (the JSON text is parsed outside the timed part) and \
         `plan_decoded` evaluates and diffs them against the orgs (from 50,000 accounts in parts, \
         one thread per core: the CPU time is the process's, every thread's). Median of the \
         iterations. Targets: 100k ≤ 200 ms, 1M ≤ 2 s (evaluate + diff). Memory: this process's resident \
         set once the data is generated, and its peak (generation included).\n"
    );
    let _ = writeln!(
        out,
        "| accounts | records | decoded | orgs | plan c/u/d | generation | RSS with the data (peak) | iterations | decode (median) | evaluate + diff (median) | its CPU time, all threads (median) | evaluate + diff, each iteration (ms) | target met |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|"
    );
    for e in evals {
        let all: Vec<String> = e.plan_ms.iter().map(|m| format!("{m:.0}")).collect();
        let target = match e.target_ms() {
            Some(t) => format!("{} (≤ {t:.0} ms)", yes(e.median_plan_ms <= t)),
            None => "no target at this size".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {}/{}/{} | {:.1} s | {} MiB ({} MiB) | {} | {:.0} ms | {:.0} ms | {:.0} ms | {} | {} |",
            thousands(e.accounts as u64),
            thousands(e.records as u64),
            thousands(e.decoded as u64),
            thousands(e.orgs as u64),
            e.planned.0,
            e.planned.1,
            e.planned.2,
            e.generate_s,
            thousands(e.rss_data_mib.round() as u64),
            thousands(e.peak_rss_mib.round() as u64),
            e.iterations,
            e.median_decode_ms,
            e.median_plan_ms,
            e.median_plan_cpu_ms,
            all.join(", "),
            target,
        );
    }
}

fn query_section(out: &mut String, queries: &[QueryTiming]) {
    if queries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Salesforce query read\n\nThe Global accounts query (`sync_core::soql::GLOBAL_ACCOUNTS`) \
         read in full through `sfdc-client` from a fresh sandbox (every page, every child-set page). \
         Sandbox start-up is its generation of the data and bind.\n"
    );
    let _ = writeln!(
        out,
        "| accounts | sandbox start-up | rows | requests (query + query_more) | read time | rows/s |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    for q in queries {
        let _ = writeln!(
            out,
            "| {} | {:.1} s | {} | {} + {} | {:.2} s | {:.0} |",
            thousands(q.accounts as u64),
            q.sandbox_startup_s,
            thousands(q.read.rows),
            q.read.query,
            q.read.query_more,
            q.read.seconds,
            q.read.rows as f64 / q.read.seconds.max(1e-9),
        );
    }
}

/// The whole page.
pub fn render(results: &Results, chart: Option<&str>) -> String {
    let mut out = String::new();
    let m = &results.machine;
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "<!-- Written by the benchmark harness (crates/bench); do not edit by hand: re-run it. -->\n"
    );
    if results.partial {
        let _ = writeln!(
            out,
            "> **Partial run**: only {}. The other scenarios and sizes were not run; run the \
             harness without `--quick`/`--only`/size flags for the full set.\n",
            results.selection.join("; ")
        );
    }
    let _ = writeln!(
        out,
        "Measured, never asserted in a test: the real release binaries against the standalone \
         sandbox (`zd-sfdc-sandbox serve`, a separate process, so its memory and CPU are not \
         counted) on loopback. Every figure below comes from one run of the harness.\n"
    );
    let _ = writeln!(out, "```sh");
    let _ = writeln!(
        out,
        "cargo build --release -p sandbox -p zd-sfdc-sync-global -p zd-sfdc-sync-us-federal"
    );
    let _ = writeln!(
        out,
        "cargo run --release -p bench                # everything (long)"
    );
    let _ = writeln!(
        out,
        "cargo run --release -p bench -- --quick     # every scenario at 1k accounts"
    );
    let _ = writeln!(
        out,
        "cargo run --release -p bench -- --only eval-diff --eval-sizes 100000"
    );
    let _ = writeln!(
        out,
        "cargo run --release -p bench -- --help      # scenarios, sizes, sandbox flags"
    );
    let _ = writeln!(out, "```\n");
    let _ = writeln!(
        out,
        "- **Run**: {} (commit {}), {:.0} s in all: `{}`.",
        results.started, results.commit, results.seconds, results.command
    );
    let _ = writeln!(
        out,
        "- **Machine**: {} CPUs, {:.1} GiB memory, {}, Linux {}; 1-minute load average {:.1} at the start, \
         {:.1} at the end (a load above the CPU count means other work shared the machine and \
         stretched the wall times; CPU times and call counts are not affected).",
        m.cpus, m.memory_gib, m.cpu_model, m.kernel, m.load_at_start, m.load_at_end
    );
    let _ = writeln!(
        out,
        "- **Sandbox**: generated data (`--accounts N --seed {}`, dated `--today {}`), Zendesk jobs \
         complete after {} ms, rate limit {} a minute except where stated (the jobs' \
         `--zd-rate-limit` the same). Optional `serve` flags passed: {}; not in this sandbox: {}{}.",
        results.seed,
        results.today,
        results.job_latency_ms,
        thousands(u64::from(results.unlimited_rate)),
        list_or_none(&results.optional_serve_args.present),
        list_or_none(&results.optional_serve_args.absent),
        if results.extra_serve_args.is_empty() {
            String::new()
        } else {
            format!(
                "; extra: `{}`",
                results.extra_serve_args.join(" ")
            )
        }
    );
    let _ = writeln!(
        out,
        "- **Job runs**: `--today`, `--allow-mass-changes` (a generated set trips the ratio guards), \
         `--log-format json`, `--report FILE`; client-credentials Salesforce login (one token call) \
         and an API token for Zendesk. Each job runs under `bench measure`, which waits for it and \
         reads `getrusage(RUSAGE_CHILDREN)`: **wall** is spawn to exit, **CPU** user + system, \
         **peak RSS** the kernel's `ru_maxrss` of the job process alone."
    );
    let _ = writeln!(
        out,
        "- **Calls** are the sandbox's request counters (`/__admin/requests`) before and after the \
         run. **Floor** (issue 13): Zendesk ⌈orgs/100⌉ + 1 (`organization_fields`) + 2 × ⌈org \
         creates/100⌉ (the job and the read-back of its ids) + ⌈org updates/100⌉ + ⌈deletes/100⌉ + \
         ⌈user creates/100⌉ + ⌈user updates/100⌉ + user reads, the cheaper of one lookup per \
         email in play and one scan of the end-users (100 a page). The harness reads its inputs \
         itself before the run: the orgs and end-users from the sandbox state, the emails in play \
         from sync-core's plan of the same Salesforce data (Global: sold-to emails of the orgs to \
         create and of the orgs created less than 7 days ago; US Federal: the valid contact \
         emails); the write counts come from the job's report. **Ratio** = Zendesk calls \
         excluding job polls / floor, target ≤ {RATIO_TARGET} (stated for 10k and 100k). Polls \
         target ≤ max(5, jobs / 4). Salesforce floor = the query and queryMore pages of the \
         harness's own read of the same queries + 1 token."
    );
    let _ = writeln!(
        out,
        "- A **first run** is on the fresh sandbox; the **second run** on the state the first left \
         (nothing to write; the orgs it created count as recent for a week)."
    );
    if !results.failures.is_empty() {
        let _ = writeln!(out, "\n**Failed scenarios:**\n");
        for f in &results.failures {
            let _ = writeln!(out, "- {f}");
        }
    }
    let by = |scenario: &str| -> Vec<&SyncRun> {
        results
            .sync
            .iter()
            .filter(|r| r.scenario == scenario)
            .collect()
    };
    sync_section(
        &mut out,
        "Global sync",
        "`zd-sfdc-sync-global`, first and second run on one sandbox per size.",
        &by("global"),
    );
    if let Some(chart) = chart {
        let _ = writeln!(out, "\n![Zendesk calls against accounts]({chart})\n");
        let _ = writeln!(
            out,
            "Zendesk calls per run against accounts (log-log), ours beside the floor; the right \
             axis reads the same calls as minutes at 700 requests a minute."
        );
    }
    sync_section(
        &mut out,
        "US Federal sync",
        "`zd-sfdc-sync-us-federal` (orgs, then users from the generated contacts), first and \
         second run on one sandbox per size. It never deletes.",
        &by("us-federal"),
    );
    rate_section(&mut out, &by("rate-limit"));
    eval_section(&mut out, &results.eval_diff);
    query_section(&mut out, &results.queries);
    let _ = writeln!(
        out,
        "\n## Other benchmarks\n\n- `salesforce-cases reconcile`: \
         [benchmarks/salesforce-cases.md](benchmarks/salesforce-cases.md) \
         (`cargo bench -p salesforce-cases --bench reconcile`).\n- The raw figures of this run: \
         [benchmarks/results.json](benchmarks/results.json)."
    );
    out
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The optional serve flags the harness knows, for `--help`.
pub fn optional_args_help() -> String {
    OPTIONAL_SERVE_ARGS
        .iter()
        .map(|(f, v)| match v {
            Some(v) => format!("{f} {v}"),
            None => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
