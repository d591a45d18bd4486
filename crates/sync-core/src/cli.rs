//! The command-line flags shared by the sync binaries (SPEC §8), as clap `Args` structs
//! each binary flattens into its own parser: [`CommonArgs`] for every job, [`GuardArgs`]
//! for the jobs that write organizations and users.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use time::{Date, OffsetDateTime};

use crate::guards::GuardConfig;

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
    /// Plan and report, but send no write request at all.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the Markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_md: Option<PathBuf>,
    /// The run's date in UTC (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub today: Option<Date>,
    /// A mapping file to use instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Run against simulated Salesforce and Zendesk APIs started in-process on loopback
    /// (credentials in the environment are ignored).
    #[arg(long)]
    pub sandbox: bool,
    /// With --sandbox: a deterministic generated data set of N accounts instead of the
    /// demo seed.
    #[arg(long, value_name = "N", requires = "sandbox")]
    pub sandbox_accounts: Option<usize>,
    /// Zendesk requests per minute allowed to this job.
    #[arg(long, value_name = "PER_MINUTE", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub zd_rate_limit: u32,
}

impl CommonArgs {
    /// The run's date: `--today`, else today in UTC.
    pub fn today(&self) -> Date {
        self.today
            .unwrap_or_else(|| OffsetDateTime::now_utc().date())
    }
}

/// Safety-guard flags (SPEC §5) of the jobs that write organizations or users.
#[derive(Debug, Clone, Args)]
pub struct GuardArgs {
    /// Most deletions one run may make.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub max_deletions: usize,
    /// Largest share (0–1) of matched organizations one run may update, when more than
    /// 100 match.
    #[arg(long, value_name = "RATIO", default_value_t = 0.5, value_parser = parse_ratio)]
    pub max_update_ratio: f64,
    /// Lift the deletion and update guards for this run.
    #[arg(long)]
    pub allow_mass_changes: bool,
}

impl GuardArgs {
    /// The guard settings.
    pub fn guard_config(&self) -> GuardConfig {
        GuardConfig {
            max_deletions: self.max_deletions,
            max_update_ratio: self.max_update_ratio,
            allow_mass_changes: self.allow_mass_changes,
        }
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).map_err(|e| format!("{s:?} is not a date like 2025-01-31: {e}"))
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
    fn bad_values_are_usage_errors() {
        for args in [
            vec!["x", "--today", "2025-13-01"],
            vec!["x", "--max-update-ratio", "1.5"],
            vec!["x", "--zd-rate-limit", "0"],
            vec!["x", "--sandbox-accounts", "10"],
            vec!["x", "--log-format", "xml"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
