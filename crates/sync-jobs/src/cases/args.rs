//! The command line: `--instance`, then one of `event`, `serve`, `reconcile`, each
//! taking the flags every job shares (`CommonArgs`: `--dry-run`, `--report`, …).

use std::net::SocketAddr;
use std::time::Duration;

use crate::cases::setup::CallRetry;
use crate::cli::CommonArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};
use sync_core::cases::TicketEvent;
use sync_core::mapping::Instance;

/// Zendesk tickets → Salesforce Cases: by CI trigger, by signed webhook, and by a
/// reconcile pass.
#[derive(Debug, Parser)]
#[command(
    name = "salesforce-cases",
    version,
    about = "Zendesk tickets → Salesforce Cases: by CI trigger, by signed webhook, and by a reconcile pass.",
    after_long_help = cases_help()
)]
pub struct Cli {
    /// The Zendesk instance the tickets come from: picks the mapping and the Case key prefix.
    #[arg(long, value_enum, default_value = "global", global = true)]
    pub instance: InstanceArg,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InstanceArg {
    /// Zendesk Global (Case key = the ticket id).
    Global,
    /// Zendesk US Federal (Case key = `usfed-` + the ticket id).
    UsFederal,
}

impl From<InstanceArg> for Instance {
    fn from(i: InstanceArg) -> Instance {
        match i {
            InstanceArg::Global => Instance::Global,
            InstanceArg::UsFederal => Instance::UsFederal,
        }
    }
}

/// The three ways in.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Handle one ticket event (a CI pipeline trigger passes TICKET_ID and TICKET_EVENT).
    Event(EventArgs),
    /// Receive Zendesk trigger webhooks at POST /webhooks/zendesk, signed with the secret
    /// in ZD_WEBHOOK_SECRET (a missing, wrong or 5-minute-old signature gets 401); also
    /// serves /healthz and /metrics.
    Serve(ServeArgs),
    /// Repair missed creates and closes for the tickets changed in a window.
    Reconcile(ReconcileArgs),
}

impl Command {
    /// The shared flags of whichever command was given.
    pub fn common(&self) -> &CommonArgs {
        match self {
            Command::Event(a) => &a.common,
            Command::Serve(a) => &a.common,
            Command::Reconcile(a) => &a.common,
        }
    }

    /// How the clients retry one call: set by `serve`'s flags; the clients' defaults
    /// for the other commands.
    pub fn call_retry(&self) -> Option<CallRetry> {
        match self {
            Command::Serve(a) => Some(CallRetry {
                attempts: a.max_attempts,
                first_delay: Duration::from_millis(a.retry_delay_ms),
            }),
            Command::Event(_) | Command::Reconcile(_) => None,
        }
    }
}

/// `event`.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// The Zendesk ticket id.
    #[arg(long, env = "TICKET_ID", value_parser = parse_ticket_id)]
    pub ticket_id: u64,
    /// What happened: created or closed.
    #[arg(long, env = "TICKET_EVENT", value_parser = parse_event)]
    pub event: TicketEvent,
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed first on stdout).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Events processed at once (one ticket's events always run in order).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Attempts per API call when Salesforce or Zendesk cannot be reached (the clients'
    /// retry policy); then the event is reported failed.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubled each attempt, capped at 60 s.
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub retry_delay_ms: u64,
    /// Events accepted but not finished beyond which deliveries get 503 with Retry-After
    /// (never dropped silently).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_pending: u32,
    /// Connections served at once; more wait unaccepted in the listen backlog.
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers (an idle kept-alive connection
    /// is closed after as long).
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body (408 after).
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub body_timeout_secs: u64,
    /// Largest webhook body in bytes (413 above, refused before it is read whole).
    #[arg(long, value_name = "BYTES", default_value_t = 1_048_576,
          value_parser = clap::value_parser!(u64).range(1_024..=67_108_864))]
    pub max_body_bytes: u64,
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// How far back to look: e.g. 90m, 24h, 7d (at least 1m).
    #[arg(long, value_name = "WINDOW", default_value = "24h", value_parser = parse_window)]
    pub since: Duration,
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The end of `--help`: the environment (with the webhook secret) and the exit codes.
fn cases_help() -> String {
    format!(
        "{}\n  Webhook (serve): ZD_WEBHOOK_SECRET, the signing secret of the Zendesk webhook\n  \
         CI trigger (event): TICKET_ID and TICKET_EVENT stand for --ticket-id and --event\n\n\
         Exit codes: 0 done (no organization, a missing Salesforce account or a deleted ticket \
         are reported, not failures); 1 a Case write failed; 2 usage or configuration error \
         (nothing sent); 4 an API was unreachable or refused us.",
        crate::cli::ENVIRONMENT_HELP
    )
}

fn parse_ticket_id(s: &str) -> Result<u64, String> {
    sync_core::cases::rules::parse_ticket_id(s)
}

fn parse_event(s: &str) -> Result<TicketEvent, String> {
    s.parse()
}

/// The longest `--since`: ten years, far inside the dates Zendesk and `time` handle.
pub const MAX_WINDOW: Duration = Duration::from_secs(3_650 * 86_400);

/// Parses a window: a positive number followed by `s`, `m`, `h` or `d`, at most
/// [`MAX_WINDOW`] (3650d).
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a window like 24h, 90m or 7d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    match n.checked_mul(secs).map(Duration::from_secs) {
        Some(Duration::ZERO) => Err(format!("{s:?} is not a usable window")),
        Some(total) if total <= MAX_WINDOW => Ok(total),
        _ => Err(format!(
            "{s:?} is longer than the longest window, 3650d (ten years)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_window("90m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_window("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_window("3650d"), Ok(MAX_WINDOW));
        for bad in [
            "",
            "24",
            "h",
            "0h",
            "1w",
            "-1h",
            "1.5h",
            "3651d",
            "5000000d",
            "213503982334601d",
            "18446744073709551615s",
            "99999999999999999999999d",
            "24h\0",
            "\u{661}d",
        ] {
            let err = parse_window(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn flags_parse_in_both_positions() {
        let cli = Cli::try_parse_from([
            "salesforce-cases",
            "--instance",
            "us-federal",
            "event",
            "--ticket-id",
            "12",
            "--event",
            "closed",
            "--dry-run",
        ])
        .unwrap();
        assert_eq!(cli.instance, InstanceArg::UsFederal);
        let Command::Event(e) = &cli.command else {
            panic!("expected event");
        };
        assert_eq!((e.ticket_id, e.event), (12, TicketEvent::Closed));
        assert!(e.common.dry_run);
        let cli = Cli::try_parse_from([
            "salesforce-cases",
            "reconcile",
            "--instance",
            "global",
            "--since",
            "2h",
        ])
        .unwrap();
        assert_eq!(cli.instance, InstanceArg::Global);
    }

    #[test]
    fn help_names_the_environment_the_webhook_secret_and_the_exit_codes() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "SFDC_LOGIN_URL",
            "SFDC_API_VERSION    default v62.0",
            "ZD_SUBDOMAIN",
            "ZD_WEBHOOK_SECRET",
            "TICKET_ID and TICKET_EVENT",
            "1 a Case write failed",
        ] {
            assert!(help.contains(needle), "{needle} not in:\n{help}");
        }
        let mut cmd = Cli::command();
        let serve = cmd
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(serve.contains("ZD_WEBHOOK_SECRET"), "{serve}");
    }

    #[test]
    fn bad_event_flags_are_usage_errors() {
        for args in [
            vec!["x", "event", "--ticket-id", "abc", "--event", "created"],
            vec!["x", "event", "--ticket-id", "1", "--event", "solved"],
            vec!["x", "serve", "--listen", "nowhere"],
            vec!["x", "--instance", "eu", "reconcile"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
