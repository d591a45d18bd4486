//! `zd-sfdc-sandbox`: serves the simulated Salesforce and Zendesk APIs standalone.
//! `serve` prints `{"salesforce":"http://127.0.0.1:P","zendesk":"http://127.0.0.1:Q"}` as
//! its first stdout line (so port 0 works for callers), then runs until Ctrl-C.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use sandbox::{
    DestroyManyResults, DuplicateEmailRow, FaultPlan, FaultRule, Instance, JobLimitAnswer, Quirks,
    Sandbox, SandboxConfig, Seed, User403,
};

#[derive(Parser)]
#[command(
    name = "zd-sfdc-sandbox",
    about = "Simulated Salesforce and Zendesk APIs on loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve both APIs until Ctrl-C.
    #[command(after_long_help = sandbox::faults::RULE_SYNTAX)]
    Serve(ServeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum InstanceArg {
    Global,
    UsFederal,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Salesforce port (0: any free port).
    #[arg(long, default_value_t = 0)]
    salesforce_port: u16,
    /// Zendesk port (0: any free port).
    #[arg(long, default_value_t = 0)]
    zendesk_port: u16,
    /// Seed directory holding `salesforce/` and `zendesk/<instance>/` (default: the repo's).
    #[arg(long, conflicts_with = "accounts")]
    seed_dir: Option<PathBuf>,
    /// Generate N Salesforce accounts (and matching Zendesk data) instead of a seed dir.
    #[arg(long)]
    accounts: Option<usize>,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The day generated data is dated relative to (YYYY-MM-DD, default today UTC).
    #[arg(long)]
    today: Option<String>,
    /// Which Zendesk data set to serve.
    #[arg(long, value_enum, default_value = "global")]
    instance: InstanceArg,
    /// Zendesk requests allowed per minute.
    #[arg(long, default_value_t = 700)]
    rate_limit: u32,
    /// Time a Zendesk bulk job takes to complete, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    job_latency_ms: u64,
    /// Requests per minute each Zendesk incremental export allows (real: 10), on top of
    /// --rate-limit; past it the export answers 429 with Retry-After. 0: no such limit.
    #[arg(long, default_value_t = 10)]
    incremental_rate_limit: u32,
    /// With --accounts: put the accounts' sold-to emails in play (end-users in their org,
    /// with no org or in another org, deleted users with them, recently created orgs).
    #[arg(long, requires = "accounts")]
    sold_to_users: bool,
    /// With --accounts: N more end-users unrelated to Salesforce, to size a user scan.
    #[arg(long = "users", default_value_t = 0, requires = "accounts")]
    extra_users: usize,
    /// Most Zendesk bulk jobs queued or running at once (real: 30).
    #[arg(long, default_value_t = 30)]
    job_limit: usize,
    /// [UNCONFIRMED] shape: what a finished organizations/destroy_many job holds in
    /// `results` (changeable at run time: PUT /__admin/zendesk/quirks).
    #[arg(long, value_enum, default_value = "per-org")]
    destroy_many_results: DestroyManyResults,
    /// [UNCONFIRMED] shape: the row of a duplicate email in users/create_many
    /// (already-taken: error RecordInvalid, "Email: x has already been taken").
    #[arg(long, value_enum, default_value = "duplicate-value")]
    duplicate_email_row: DuplicateEmailRow,
    /// [UNCONFIRMED] shape: the answer to a bulk write past --job-limit.
    #[arg(long, value_enum, default_value = "too-many-jobs")]
    job_limit_answer: JobLimitAnswer,
    /// When Zendesk user writes answer 403: default (bulk creates, only with
    /// --bulk-user-create-disabled), bulk-other-body (bulk creates, another body),
    /// no-permission (every user write, single create_or_update included).
    #[arg(long = "user-403", value_enum, default_value = "default")]
    user_403: User403,
    /// Hold the Nth Zendesk write (POST/PUT/PATCH/DELETE under /api/v2, counted from
    /// start): it is not applied and stays open until released (DELETE /__admin/hold,
    /// POST /__admin/hold/release). GET /__admin/writes shows the counters and the held
    /// write; PUT /__admin/hold {"nth":N,"endpoint":"POST /api/v2/…"} arms another.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    hold_write: Option<u64>,
    /// With --hold-write: count only writes whose endpoint key (e.g.
    /// 'POST /api/v2/organizations/create_many') or path starts with this.
    #[arg(long, requires = "hold_write", value_name = "PREFIX")]
    hold_write_endpoint: Option<String>,
    /// Answer 403 on Zendesk bulk user creation.
    #[arg(long)]
    bulk_user_create_disabled: bool,
    /// A fault rule, JSON or the short form [API:]KIND@WHEN[ ENDPOINT], e.g.
    /// zendesk:503-after@2.5%. Repeatable; see the syntax below.
    #[arg(long = "fault", value_name = "RULE")]
    faults: Vec<String>,
    /// Seed of the fault generator (probabilities and shares): the same seed and the
    /// same requests give the same faults.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Webhook receiver URL for ticket created/closed events.
    #[arg(long, requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// Webhook signing secret.
    #[arg(long, env = "ZD_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
}

fn config(args: ServeArgs) -> anyhow::Result<SandboxConfig> {
    let mut rules: Vec<FaultRule> = Vec::new();
    for raw in &args.faults {
        let rule = sandbox::faults::parse_rule(raw)
            .map_err(|e| anyhow::anyhow!("invalid --fault: {e}"))?;
        rules.push(rule);
    }
    let seed = match (args.accounts, args.seed_dir) {
        (Some(accounts), _) => {
            let today = match &args.today {
                Some(s) => {
                    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                        .with_context(|| format!("--today {s} is not YYYY-MM-DD"))?
                }
                None => time::OffsetDateTime::now_utc().date(),
            };
            Seed::Generated {
                accounts,
                seed: args.seed,
                today,
            }
        }
        (None, Some(dir)) => Seed::Fixtures(dir),
        (None, None) => Seed::Fixtures(sandbox::fixtures_dir()),
    };
    Ok(SandboxConfig {
        instance: match args.instance {
            InstanceArg::Global => Instance::Global,
            InstanceArg::UsFederal => Instance::UsFederal,
        },
        seed,
        job_latency: Duration::from_millis(args.job_latency_ms),
        rate_limit_per_minute: args.rate_limit,
        bulk_user_create_disabled: args.bulk_user_create_disabled,
        job_limit: args.job_limit,
        hold_write: args.hold_write.map(|nth| sandbox::HoldWrite {
            nth,
            endpoint: args.hold_write_endpoint.clone(),
        }),
        zendesk_quirks: Quirks {
            destroy_many_results: args.destroy_many_results,
            duplicate_email_row: args.duplicate_email_row,
            job_limit_answer: args.job_limit_answer,
            user_403: args.user_403,
        },
        faults: FaultPlan {
            seed: args.fault_seed,
            rules,
        },
        webhook: match (args.webhook_url, args.webhook_secret) {
            (Some(url), Some(secret)) => Some(sandbox::WebhookTarget { url, secret }),
            _ => None,
        },
        incremental_rate_limit_per_minute: (args.incremental_rate_limit > 0)
            .then_some(args.incremental_rate_limit),
        sold_to_users: args.sold_to_users,
        extra_users: args.extra_users,
        salesforce_port: args.salesforce_port,
        zendesk_port: args.zendesk_port,
        ..SandboxConfig::default_fixtures()
    })
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Command::Serve(args) = cli.command;
    let sandbox = Sandbox::start(config(args)?).await?;
    let line = serde_json::json!({"salesforce": sandbox.salesforce_url(), "zendesk": sandbox.zendesk_url()});
    println!("{line}");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    drop(sandbox);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zd-sfdc-sandbox: {e:#}");
            ExitCode::from(2)
        }
    }
}
