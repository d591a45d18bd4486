//! The command lines of the three binaries (docs/behaviour.md §8): [`GlobalCli`],
//! [`UsFederalCli`] and [`CasesCli`] (its subcommands are in
//! [`crate::cases::args`]), built from the flags they share: [`CommonArgs`] for every
//! job, [`GuardArgs`] / [`UpdateGuardArgs`] for the jobs that write organizations and
//! users.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use time::{Date, OffsetDateTime};

use sync_core::guards::GuardConfig;

/// The environment variables every binary reads (docs/behaviour.md §8), for `--help`.
pub const ENVIRONMENT_HELP: &str = "\
Environment (credentials are read from here only, never logged):
  Salesforce, the first complete set wins:
    SFDC_ACCESS_TOKEN + SFDC_INSTANCE_URL           a token issued elsewhere
    SFDC_USERNAME + SFDC_PRIVATE_KEY_FILE + SFDC_CLIENT_ID
                                                    JWT bearer flow
    SFDC_CLIENT_ID + SFDC_CLIENT_SECRET + SFDC_LOGIN_URL
                                                    client credentials (SFDC_LOGIN_URL = My Domain URL)
    SFDC_LOGIN_URL      token endpoint, default https://login.salesforce.com
    SFDC_JWT_AUDIENCE   JWT audience, default SFDC_LOGIN_URL
    SFDC_API_VERSION    default v62.0
  Zendesk:
    ZD_URL (e.g. https://example.zendesk.com) or ZD_SUBDOMAIN
    ZD_EMAIL + ZD_API_TOKEN, or ZD_OAUTH_TOKEN";

/// The exit codes of the two org-sync jobs, for their `--help`.
pub const SYNC_EXIT_CODES_HELP: &str = "\
Exit codes: 0 done (data findings are reported but do not fail the run); 1 a write failed;
2 usage or configuration error (nothing sent); 3 stopped by a safety guard, or by
--expect-plan seeing a different plan (nothing written); 4 an API was unreachable or
refused us and the run could not finish.";

/// What the org-sync binaries' `--help` ends with: the environment and the exit codes.
pub fn sync_help() -> String {
    format!("{ENVIRONMENT_HELP}\n\n{SYNC_EXIT_CODES_HELP}")
}

/// The version of the binary being run, as its `main` gave it ([`parse_for_binary`]).
static BINARY_VERSION: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Parses the command line of a binary whose version is `version` (its own
/// `CARGO_PKG_VERSION`): `--version` and the report's `version` say it, not this
/// crate's version.
pub fn parse_for_binary<T: clap::Parser>(version: &'static str) -> T {
    let _ = BINARY_VERSION.set(version);
    let matches = T::command().version(version).get_matches();
    T::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The version of the binary being run: the one its `main` gave, else this crate's.
pub fn binary_version() -> &'static str {
    BINARY_VERSION
        .get()
        .copied()
        .unwrap_or(env!("CARGO_PKG_VERSION"))
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for CI.
    Json,
}

/// Flags every sync binary takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Plan and report, but send no write request at all. The safety guards are still
    /// checked: the run exits 3 if one would trip.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Write the JSON report to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the same report as Markdown to FILE (for a merge request or a CI artifact):
    /// counts, guards, findings by kind and the first rows of each table, under 100 KB.
    #[arg(long, global = true, value_name = "FILE")]
    pub report_md: Option<PathBuf>,
    /// Write the findings and failed rows as CSV to FILE, one line each (kind, Salesforce
    /// id, account name, Zendesk org id, message), for fixing the data at the source.
    #[arg(long, global = true, value_name = "FILE")]
    pub report_csv: Option<PathBuf>,
    /// The run's date in UTC (default: today), between 1970-01-01 and 2999-12-31; the
    /// sync jobs judge subscriptions and expiry against it.
    #[arg(long, global = true, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub today: Option<Date>,
    /// A mapping file (TOML: field keys, plan aliases, drop-down options) to use instead
    /// of the embedded one.
    #[arg(long, global = true, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Run against simulated Salesforce and Zendesk APIs started in-process on loopback,
    /// seeded from fixtures/sandbox/, and print the report (credentials in the environment
    /// are ignored).
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// With --sandbox: a deterministic generated data set of N accounts instead of the
    /// demo seed.
    #[arg(long, global = true, value_name = "N", requires = "sandbox")]
    pub sandbox_accounts: Option<usize>,
    /// Zendesk requests per minute allowed to this job (Retry-After is obeyed besides).
    #[arg(long, global = true, value_name = "PER_MINUTE", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub zd_rate_limit: u32,
    /// Longest time one API call may spend retrying (429s waited out as `Retry-After`
    /// says, transient errors backed off) before the run stops with exit 4.
    #[arg(long, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub retry_budget: u64,
}

impl CommonArgs {
    /// The run's date: `--today`, else today in UTC.
    pub fn today(&self) -> Date {
        self.today
            .unwrap_or_else(|| OffsetDateTime::now_utc().date())
    }
}

/// Safety-guard flags (docs/behaviour.md §5) of the jobs that write organizations or users.
#[derive(Debug, Clone, Args)]
pub struct GuardArgs {
    /// Most deletions one run may make. Besides, when more than 100 orgs match, deleting
    /// more than 5 % of them trips the deletion_ratio guard.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub max_deletions: usize,
    /// Largest share (0–1) of matched organizations one run may update, when more than
    /// 100 match.
    #[arg(long, value_name = "RATIO", default_value_t = 0.5, value_parser = parse_ratio)]
    pub max_update_ratio: f64,
    /// Lift the deletion and update guards (max_deletions, deletion_ratio,
    /// max_update_ratio) for this run; an empty Salesforce result still stops it.
    #[arg(long)]
    pub allow_mass_changes: bool,
}

impl GuardArgs {
    /// The guard settings.
    pub fn guard_config(&self) -> GuardConfig {
        GuardConfig {
            max_deletions: Some(self.max_deletions),
            max_update_ratio: self.max_update_ratio,
            allow_mass_changes: self.allow_mass_changes,
        }
    }
}

/// The guard flags of a sync that never deletes (US Federal): the update guard only,
/// so no `--max-deletions` that would do nothing.
#[derive(Debug, Clone, Args)]
pub struct UpdateGuardArgs {
    /// Largest share (0–1) of matched organizations one run may update, when more than
    /// 100 match.
    #[arg(long, value_name = "RATIO", default_value_t = 0.5, value_parser = parse_ratio)]
    pub max_update_ratio: f64,
    /// Lift the max_update_ratio guard for this run; an empty Salesforce result (no
    /// accounts, no contacts) still stops it.
    #[arg(long)]
    pub allow_mass_changes: bool,
}

impl UpdateGuardArgs {
    /// The guard settings: no deletion guards.
    pub fn guard_config(&self) -> GuardConfig {
        GuardConfig {
            max_deletions: None,
            max_update_ratio: self.max_update_ratio,
            allow_mass_changes: self.allow_mass_changes,
        }
    }
}

/// The plan flags of the two org-sync jobs (docs/behaviour.md §5, §8).
#[derive(Debug, Clone, Default, Args)]
pub struct PlanArgs {
    /// Go ahead only if the fresh plan has this plan_hash (the `plan_hash` of a reviewed
    /// report, e.g. a dry run's); otherwise stop with exit 3 and write nothing.
    #[arg(long, value_name = "HASH", value_parser = parse_plan_hash)]
    pub expect_plan: Option<String>,
    /// Write only for this account (its 18-character Salesforce id); repeatable. Everything
    /// is still read, so conflicts and guards see the whole picture.
    #[arg(long = "only", value_name = "SALESFORCE_ID", value_parser = parse_salesforce_id)]
    pub only: Vec<String>,
}

/// The subcommands of the two org-sync jobs (without one, the job runs).
#[derive(Debug, Clone, Subcommand)]
pub enum SyncCommand {
    /// Explain one account, read-only: its subscriptions, the plan that won and why,
    /// expiration, account type, the desired fields and tags, the Zendesk org found and
    /// the exact patch a run would send. Markdown on stdout; JSON with --report.
    Explain {
        /// The account's 18-character Salesforce id (Account_ID_18__c).
        #[arg(value_name = "SALESFORCE_ID", value_parser = parse_salesforce_id)]
        salesforce_id: String,
    },
}

/// An 18-character Salesforce id (`Account_ID_18__c`): letters and digits only.
pub fn parse_salesforce_id(s: &str) -> Result<String, String> {
    let id = s.trim();
    if id.len() == 18 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(id.to_string())
    } else {
        Err(format!(
            "{s:?} is not an 18-character Salesforce id (Account_ID_18__c: 18 letters and digits)"
        ))
    }
}

/// A `plan_hash`: 64 hex digits (lowercased).
pub fn parse_plan_hash(s: &str) -> Result<String, String> {
    let h = s.trim();
    if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(h.to_ascii_lowercase())
    } else {
        Err(format!(
            "{s:?} is not a plan_hash (64 hex digits, the report's plan_hash)"
        ))
    }
}

/// The earliest `--today` accepted.
pub const EARLIEST_TODAY: Date = time::macros::date!(1970 - 01 - 01);
/// The latest `--today` accepted: far enough for any "what if", far enough from the
/// end of the calendar that the date arithmetic of a run (three years back, a week
/// back, generated sandbox data) never leaves it.
pub const LATEST_TODAY: Date = time::macros::date!(2999 - 12 - 31);

/// Parses `YYYY-MM-DD` (four-digit year, no sign) between [`EARLIEST_TODAY`] and
/// [`LATEST_TODAY`].
pub fn parse_date(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let trimmed = s.trim();
    let date = Date::parse(trimmed, &format)
        .map_err(|e| format!("{s:?} is not a date like 2025-01-31: {e}"))?;
    if trimmed.starts_with(['-', '+']) || !(EARLIEST_TODAY..=LATEST_TODAY).contains(&date) {
        return Err(format!(
            "{s:?} is outside the dates a run can be dated ({EARLIEST_TODAY} to {LATEST_TODAY})"
        ));
    }
    Ok(date)
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0..=1"))
    }
}

/// Salesforce Accounts → Zendesk Global organizations, sold-to users for new
/// organizations, and deletion of greatly-expired organizations.
#[derive(Debug, Parser)]
#[command(
    name = "zd-sfdc-sync-global",
    version,
    long_about,
    after_long_help = sync_help()
)]
pub struct GlobalCli {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Safety guards.
    #[command(flatten)]
    pub guards: GuardArgs,
    /// `--expect-plan`, `--only`.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// `explain SALESFORCE_ID`; without it, the sync runs.
    #[command(subcommand)]
    pub command: Option<SyncCommand>,
}

/// Salesforce Accounts → Zendesk US Federal organizations, then Salesforce Contacts →
/// Zendesk US Federal users (created and updated; agents and admins never touched).
#[derive(Debug, Parser)]
#[command(
    name = "zd-sfdc-sync-us-federal",
    version,
    long_about,
    after_long_help = sync_help()
)]
pub struct UsFederalCli {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Safety guards (this job never deletes: no deletion limit).
    #[command(flatten)]
    pub guards: UpdateGuardArgs,
    /// `--expect-plan`, `--only`.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// `explain SALESFORCE_ID`; without it, the sync runs.
    #[command(subcommand)]
    pub command: Option<SyncCommand>,
}

pub use crate::cases::args::Cli as CasesCli;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        guards: GuardArgs,
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert!(!cli.common.dry_run);
        assert_eq!(cli.common.zd_rate_limit, 200);
        assert_eq!(cli.common.log_format, LogFormat::Pretty);
        assert_eq!(cli.guards.guard_config(), GuardConfig::default());
    }

    #[test]
    fn every_flag_parses() {
        let cli = Cli::try_parse_from([
            "x",
            "--dry-run",
            "--report",
            "r.json",
            "--report-md",
            "r.md",
            "--today",
            "2025-02-28",
            "--mapping",
            "m.toml",
            "--log-format",
            "json",
            "--sandbox",
            "--sandbox-accounts",
            "1000",
            "--zd-rate-limit",
            "700",
            "--max-deletions",
            "3",
            "--max-update-ratio",
            "0.25",
            "--allow-mass-changes",
        ])
        .unwrap();
        assert!(cli.common.dry_run && cli.common.sandbox && cli.guards.allow_mass_changes);
        assert_eq!(cli.common.today(), parse_date("2025-02-28").unwrap());
        assert_eq!(cli.common.sandbox_accounts, Some(1000));
        assert_eq!(cli.common.log_format, LogFormat::Json);
        assert_eq!(cli.guards.max_deletions, 3);
        assert_eq!(cli.guards.max_update_ratio, 0.25);
    }

    #[test]
    fn help_describes_every_flag_and_the_guard_rules() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "--dry-run",
            "exits 3 if one would trip",
            "--report <FILE>",
            "--report-md <FILE>",
            "--today <YYYY-MM-DD>",
            "--mapping <FILE>",
            "--log-format",
            "--sandbox",
            "--sandbox-accounts <N>",
            "--zd-rate-limit",
            "--max-deletions",
            "more than 5 %",
            "--max-update-ratio",
            "--allow-mass-changes",
        ] {
            assert!(help.contains(needle), "{needle} not in:\n{help}");
        }
    }

    #[test]
    fn environment_help_names_every_variable_and_default() {
        for needle in [
            "SFDC_ACCESS_TOKEN",
            "SFDC_INSTANCE_URL",
            "SFDC_USERNAME",
            "SFDC_PRIVATE_KEY_FILE",
            "SFDC_CLIENT_ID",
            "SFDC_CLIENT_SECRET",
            "SFDC_LOGIN_URL      token endpoint, default https://login.salesforce.com",
            "SFDC_JWT_AUDIENCE   JWT audience, default SFDC_LOGIN_URL",
            "SFDC_API_VERSION    default v62.0",
            "ZD_URL",
            "ZD_SUBDOMAIN",
            "ZD_EMAIL + ZD_API_TOKEN, or ZD_OAUTH_TOKEN",
            "3 stopped by a safety guard",
            "4 an API was unreachable",
        ] {
            assert!(sync_help().contains(needle), "{needle}");
        }
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            vec!["x", "--today", "2025-13-01"],
            vec!["x", "--today=-9999-01-01"],
            vec!["x", "--today", "+10000-01-01"],
            vec!["x", "--today", "1969-12-31"],
            vec!["x", "--today", "3000-01-01"],
            vec!["x", "--today", "2025-02-30"],
            vec!["x", "--today", ""],
            vec!["x", "--max-update-ratio", "1.5"],
            vec!["x", "--zd-rate-limit", "0"],
            vec!["x", "--sandbox-accounts", "10"],
            vec!["x", "--log-format", "xml"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    mod binaries {
        use super::super::{GlobalCli, UsFederalCli};
        use clap::{CommandFactory, Parser};

        #[test]
        fn global_long_help_has_the_flags_the_environment_and_the_exit_codes() {
            let help = GlobalCli::command().render_long_help().to_string();
            for needle in [
                "--dry-run",
                "--report <FILE>",
                "--report-md <FILE>",
                "--today",
                "--mapping",
                "--log-format",
                "--sandbox",
                "--max-deletions",
                "--max-update-ratio",
                "--allow-mass-changes",
                "SFDC_JWT_AUDIENCE",
                "ZD_SUBDOMAIN",
                "3 stopped by a safety guard",
            ] {
                assert!(help.contains(needle), "{needle} not in:\n{help}");
            }
        }

        #[test]
        fn us_federal_long_help_has_the_flags_the_environment_and_the_exit_codes() {
            let help = UsFederalCli::command().render_long_help().to_string();
            for needle in [
                "--dry-run",
                "--report <FILE>",
                "--report-md <FILE>",
                "--today",
                "--mapping",
                "--log-format",
                "--sandbox",
                "--max-update-ratio",
                "--allow-mass-changes",
                "SFDC_JWT_AUDIENCE",
                "ZD_SUBDOMAIN",
                "3 stopped by a safety guard",
            ] {
                assert!(help.contains(needle), "{needle} not in:\n{help}");
            }
            // This job never deletes: a deletion limit would be a flag that does nothing.
            assert!(!help.contains("--max-deletions"), "{help}");
        }

        #[test]
        fn explain_only_and_expect_plan_parse_and_bad_ids_are_usage_errors() {
            use super::super::SyncCommand;
            let id = "0014M00001sGJ8xQAG";
            let hash = "AB".repeat(32);
            let cli = GlobalCli::try_parse_from([
                "zd-sfdc-sync-global",
                "--sandbox",
                "--only",
                id,
                "--only",
                "0014M00001sGJ8xQAH",
                "--expect-plan",
                &hash,
                "--report-csv",
                "r.csv",
            ])
            .unwrap();
            assert_eq!(cli.plan.only.len(), 2);
            assert_eq!(cli.plan.expect_plan, Some("ab".repeat(32)));
            assert!(cli.common.report_csv.is_some());
            let cli = UsFederalCli::try_parse_from([
                "zd-sfdc-sync-us-federal",
                "--sandbox",
                "explain",
                id,
            ])
            .unwrap();
            assert!(
                matches!(cli.command, Some(SyncCommand::Explain { salesforce_id }) if salesforce_id == id)
            );
            for args in [
                vec!["zd-sfdc-sync-global", "explain", "0014M00001sGJ8x"],
                vec!["zd-sfdc-sync-global", "explain", "0014M00001sGJ8xQAG'"],
                vec!["zd-sfdc-sync-global", "--only", "short"],
                vec!["zd-sfdc-sync-global", "--expect-plan", "abc"],
            ] {
                let err = GlobalCli::try_parse_from(&args).unwrap_err();
                assert_eq!(err.exit_code(), 2, "{args:?}");
            }
        }

        #[test]
        fn us_federal_refuses_max_deletions() {
            let err =
                UsFederalCli::try_parse_from(["zd-sfdc-sync-us-federal", "--max-deletions", "3"])
                    .expect_err("--max-deletions must not be accepted");
            assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
        }
    }
}
