//! Progress with totals for every long phase (docs/behaviour.md §8): the reads (Salesforce
//! records, Zendesk organizations, the user scan or lookups) and the bulk jobs
//! (organizations, deletions, users). On a terminal with text logs, a progress bar per
//! phase (`indicatif`), the log lines printed above the bars; elsewhere (CI,
//! `--log-format json`, stderr redirected, `NO_COLOR`, `TERM=dumb`) plain log lines
//! every few seconds, such as `user jobs 3/16 done, 39 calls left, ~0.1 min at 700
//! rpm` or `Salesforce accounts 2,000/10,000 read, ~1.6 min left at 5,000 a minute`
//! (the lines the unit tests below compute).
//!
//! A job phase also logs a line when it starts and when it ends, and a read phase when
//! it ends, whatever the display: each is one `info` event with the fields `phase`,
//! `done` and (when known) `total`. The calls left and the time are estimates from what
//! the phase has measured so far (calls per job, calls or items per minute); never
//! asserted on.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

/// How often a phase logs a line in plain-line mode.
pub const EVERY: Duration = Duration::from_secs(3);

/// How often a progress bar's estimate is refreshed.
const BAR_EVERY: Duration = Duration::from_millis(250);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A progress bar per phase on stderr, the log lines printed above the bars.
    Bar,
    /// Log lines every few seconds (and at the start and end of a phase).
    Lines,
}

/// What the choice of [`Display`] depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// stderr is a terminal.
    pub stderr_is_terminal: bool,
    /// `--log-format json`.
    pub json_logs: bool,
    /// `NO_COLOR` is set (and not empty).
    pub no_color: bool,
    /// `TERM`, when set.
    pub term: Option<String>,
    /// `CI` is set (and not empty): GitLab, GitHub and most CI services set it.
    pub ci: bool,
}

impl Surroundings {
    /// The process's own: stderr, `NO_COLOR`, `TERM` and `CI`.
    pub fn detect(json_logs: bool) -> Surroundings {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        Surroundings {
            stderr_is_terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            json_logs,
            no_color: set("NO_COLOR"),
            term: std::env::var("TERM").ok(),
            ci: set("CI"),
        }
    }

    /// Whether log lines may carry colours: a terminal that is not dumb, no `NO_COLOR`.
    pub fn ansi(&self) -> bool {
        self.stderr_is_terminal && !self.no_color && !self.dumb()
    }

    fn dumb(&self) -> bool {
        self.term.as_deref() == Some("dumb")
    }
}

/// A progress bar only for a person at a terminal reading text logs: stderr a terminal,
/// text logs, not in CI, and neither `NO_COLOR` nor `TERM=dumb`. Plain lines otherwise.
pub fn choose(s: &Surroundings) -> Display {
    if s.ansi() && !s.json_logs && !s.ci {
        Display::Bar
    } else {
        Display::Lines
    }
}

/// The bars of the process, when it shows bars ([`install`]).
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Sets how this process shows progress (the first call wins). With [`Display::Bar`],
/// returns the writer the log lines must go through so they do not garble the bars.
pub fn install(display: Display) -> Option<BarWriter> {
    match display {
        Display::Lines => None,
        Display::Bar => {
            let bars =
                BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
            Some(BarWriter(bars.clone()))
        }
    }
}

/// A `tracing` writer that prints each log line above the progress bars (the bars are
/// cleared, the line written, the bars drawn again).
#[derive(Debug, Clone)]
pub struct BarWriter(MultiProgress);

impl std::io::Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BarWriter {
    type Writer = BarWriter;

    fn make_writer(&'a self) -> BarWriter {
        self.clone()
    }
}

/// How many items a phase will have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Not known (a cursor read without a count).
    Unknown,
    /// Known (jobs to wait for, lookups to make, a query's `totalSize`).
    Exact(u64),
    /// Estimated (`users/count`), shown as `~N`.
    About(u64),
}

impl Total {
    fn value(self) -> Option<u64> {
        match self {
            Total::Unknown => None,
            Total::Exact(n) | Total::About(n) => Some(n),
        }
    }

    fn shown(self) -> Option<String> {
        match self {
            Total::Unknown => None,
            Total::Exact(n) => Some(thousands(n)),
            Total::About(n) => Some(format!("~{}", thousands(n))),
        }
    }
}

/// Bulk jobs (the estimate is in calls) or a read (in items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jobs { calls_at_start: u64 },
    Read,
}

/// The progress of one long phase: a bar, or log lines every [`EVERY`].
#[derive(Debug)]
pub struct Progress {
    what: &'static str,
    kind: Kind,
    total: Total,
    done: u64,
    started: Instant,
    last: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A phase of `total` bulk jobs starting now, the client having made
    /// `calls_at_start` requests so far. Logs its first line (`0/total done`).
    pub fn jobs(what: &'static str, total: usize, calls_at_start: u64) -> Progress {
        let phase = Progress::new(
            what,
            Kind::Jobs { calls_at_start },
            Total::Exact(total as u64),
        );
        phase.log(&phase.line(calls_at_start));
        phase
    }

    /// A read of `total` items (records, organizations, users, lookups) starting now.
    pub fn read(what: &'static str, total: Total) -> Progress {
        Progress::new(what, Kind::Read, total)
    }

    fn new(what: &'static str, kind: Kind, total: Total) -> Progress {
        let now = Instant::now();
        let bar = BARS.get().map(|bars| {
            // Added before it ticks: a bar drawn outside the bars would stay on screen.
            let bar = bars.add(new_bar(what, kind, total));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            what,
            kind,
            total,
            done: 0,
            started: now,
            last: now,
            bar,
        }
    }

    /// Items or jobs done so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// The total, learnt after the start (a query's `totalSize` comes with its first
    /// page).
    pub fn set_total(&mut self, total: Total) {
        self.total = total;
        if let (Some(bar), Some(n)) = (&self.bar, total.value()) {
            bar.set_length(n.max(self.done));
            bar.set_style(bar_style(self.kind, total));
        }
    }

    /// `n` more items read.
    pub fn add(&mut self, n: u64) {
        self.advance(n, || 0);
    }

    /// `n` more items or jobs done; `calls` (the client's requests so far, asked only
    /// when a line or the bar is due) feeds the estimate.
    pub fn advance(&mut self, n: u64, calls: impl FnOnce() -> u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            if self.total.value().is_some_and(|t| self.done > t) {
                bar.set_length(self.done);
            }
            bar.set_position(self.done);
        }
        self.tick(calls, "");
    }

    /// Brings the count up to `done` (never down), as [`advance`](Self::advance).
    pub fn advance_to(&mut self, done: u64, calls: impl FnOnce() -> u64) {
        self.advance(done.saturating_sub(self.done), calls);
    }

    /// Refreshes the bar's estimate, or logs a line when [`EVERY`] has passed since the
    /// last one; `note` is added to a logged line.
    fn tick(&mut self, calls: impl FnOnce() -> u64, note: &str) {
        if self.last.elapsed() < self.every() {
            return;
        }
        self.refresh(calls, note);
    }

    /// How often the bar's estimate is refreshed, or a line logged.
    fn every(&self) -> Duration {
        if self.bar.is_some() {
            BAR_EVERY
        } else {
            EVERY
        }
    }

    /// Refreshes the bar's estimate, or logs a line, now.
    fn refresh(&mut self, calls: impl FnOnce() -> u64, note: &str) {
        self.last = Instant::now();
        let calls = calls();
        match &self.bar {
            Some(bar) => bar.set_message(self.estimate(calls)),
            None => self.log(&format!("{}{note}", self.line(calls))),
        }
    }

    /// Waits for `work` (jobs being submitted or polled), refreshing the bar or logging
    /// a line every few seconds meanwhile; `doing` (e.g. `25 jobs running`) is added to
    /// a logged line.
    pub async fn waiting<T>(
        &mut self,
        doing: &str,
        calls: impl Fn() -> u64,
        work: impl Future<Output = T>,
    ) -> T {
        let mut work = std::pin::pin!(work);
        // The interval sets the pace: each of its ticks refreshes (checking the time
        // again would skip ticks that land a little early of the last refresh).
        let mut tick = tokio::time::interval(self.every());
        tick.tick().await;
        let note = format!(" ({doing})");
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tick.tick() => self.refresh(&calls, &note),
            }
        }
    }

    /// The end of a job phase, the client being at `calls_now` requests: its last line
    /// logged, its bar cleared.
    pub fn finish(self, calls_now: u64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.log(&self.line(calls_now));
    }

    /// The end of a read: `read all what` logged (its count in `read` and `done`), its
    /// bar cleared.
    pub fn read_all(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let (what, done) = (self.what, self.done);
        match self.total.value() {
            Some(total) => {
                tracing::info!(phase = what, done, total, read = done, "read all {what}")
            }
            None => tracing::info!(phase = what, done, read = done, "read all {what}"),
        }
    }

    /// The phase's line now, the client being at `calls_now` requests.
    pub fn line(&self, calls_now: u64) -> String {
        self.line_after(calls_now, self.started.elapsed().as_secs_f64() / 60.0)
    }

    /// The phase's line `minutes` after its start.
    fn line_after(&self, calls_now: u64, minutes: f64) -> String {
        match self.kind {
            Kind::Jobs { calls_at_start } => jobs_line(
                self.what,
                self.done,
                self.total.value().unwrap_or(self.done),
                calls_now.saturating_sub(calls_at_start),
                minutes,
            ),
            Kind::Read => read_line(self.what, self.done, self.total, minutes),
        }
    }

    /// What a bar shows after its counts: the estimate of [`Progress::line`].
    fn estimate(&self, calls_now: u64) -> String {
        let line = self.line(calls_now);
        match line.split_once(", ") {
            Some((_, rest)) => rest.to_string(),
            None => String::new(),
        }
    }

    fn log(&self, line: &str) {
        match self.total.value() {
            Some(total) => tracing::info!(phase = self.what, done = self.done, total, "{line}"),
            None => tracing::info!(phase = self.what, done = self.done, "{line}"),
        }
    }
}

/// A new bar for a phase, hidden until added to the bars.
fn new_bar(what: &'static str, kind: Kind, total: Total) -> ProgressBar {
    ProgressBar::with_draw_target(total.value(), ProgressDrawTarget::hidden())
        .with_style(bar_style(kind, total))
        .with_prefix(what)
        .with_finish(ProgressFinish::AndClear)
}

fn bar_style(kind: Kind, total: Total) -> ProgressStyle {
    let verb = match kind {
        Kind::Jobs { .. } => "done",
        Kind::Read => "read",
    };
    let template = match total {
        Total::Unknown => format!("{{spinner}} {{prefix}} {{human_pos}} {verb} {{msg}}"),
        Total::Exact(_) => {
            format!("{{prefix}} [{{bar:30}}] {{human_pos}}/{{human_len}} {verb} {{msg}}")
        }
        Total::About(_) => {
            format!("{{prefix}} [{{bar:30}}] {{human_pos}}/~{{human_len}} {verb} {{msg}}")
        }
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// `what done/total done, N calls left, ~M min at R rpm`, from `calls` made in
/// `minutes` for `done` jobs (no estimate before the first job is done).
pub fn jobs_line(what: &str, done: u64, total: u64, calls: u64, minutes: f64) -> String {
    let head = format!("{what} {done}/{total} done");
    if done == 0 || minutes <= 0.0 {
        return format!("{head}, {} calls so far", thousands(calls));
    }
    let per_job = calls as f64 / done as f64;
    let left = (per_job * total.saturating_sub(done) as f64).round() as u64;
    let rpm = calls as f64 / minutes;
    let eta = if rpm > 0.0 { left as f64 / rpm } else { 0.0 };
    format!(
        "{head}, {} calls left, ~{eta:.1} min at {} rpm",
        thousands(left),
        thousands(rpm.round() as u64)
    )
}

/// `what done/total read, ~M min left at R a minute` (`~total` for an estimate; no
/// total: `what done read, R a minute`), from `done` items read in `minutes`.
pub fn read_line(what: &str, done: u64, total: Total, minutes: f64) -> String {
    let head = match total.shown() {
        Some(total) => format!("{what} {}/{total} read", thousands(done)),
        None => format!("{what} {} read", thousands(done)),
    };
    if done == 0 || minutes <= 0.0 {
        return head;
    }
    let rate = done as f64 / minutes;
    let per_minute = thousands(rate.round() as u64);
    match total.value() {
        Some(total) => {
            let eta = total.saturating_sub(done) as f64 / rate;
            format!("{head}, ~{eta:.1} min left at {per_minute} a minute")
        }
        None => format!("{head}, {per_minute} a minute"),
    }
}

/// `2310` → `2,310`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jobs_line_has_the_totals_and_an_estimate() {
        // 12 jobs took 990 calls in 1.414 min: 82.5 calls a job, 28 jobs left.
        assert_eq!(
            jobs_line("jobs", 12, 40, 990, 990.0 / 700.0),
            "jobs 12/40 done, 2,310 calls left, ~3.3 min at 700 rpm"
        );
        // 3 of 16 user jobs took 9 calls at 700 rpm: 3 a job, 39 calls left.
        assert_eq!(
            jobs_line("user jobs", 3, 16, 9, 9.0 / 700.0),
            "user jobs 3/16 done, 39 calls left, ~0.1 min at 700 rpm"
        );
        assert_eq!(
            jobs_line("jobs", 0, 40, 25, 0.1),
            "jobs 0/40 done, 25 calls so far"
        );
        assert_eq!(
            jobs_line("jobs", 40, 40, 120, 1.0),
            "jobs 40/40 done, 0 calls left, ~0.0 min at 120 rpm"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_read_line_has_the_total_when_known_and_marks_an_estimate() {
        assert_eq!(
            read_line("Salesforce accounts", 2_000, Total::Exact(10_000), 0.4),
            "Salesforce accounts 2,000/10,000 read, ~1.6 min left at 5,000 a minute"
        );
        assert_eq!(
            read_line("Zendesk users (scan)", 3_000, Total::About(12_000), 1.0),
            "Zendesk users (scan) 3,000/~12,000 read, ~3.0 min left at 3,000 a minute"
        );
        // An estimate below what was read: nothing left, never negative.
        assert_eq!(
            read_line("Zendesk users (scan)", 12_500, Total::About(12_000), 1.0),
            "Zendesk users (scan) 12,500/~12,000 read, ~0.0 min left at 12,500 a minute"
        );
        assert_eq!(
            read_line("Zendesk organizations", 3_400, Total::Unknown, 0.5),
            "Zendesk organizations 3,400 read, 6,800 a minute"
        );
        assert_eq!(
            read_line("Zendesk organizations", 0, Total::Unknown, 0.5),
            "Zendesk organizations 0 read"
        );
    }

    fn at_a_terminal() -> Surroundings {
        Surroundings {
            stderr_is_terminal: true,
            json_logs: false,
            no_color: false,
            term: Some("xterm-256color".into()),
            ci: false,
        }
    }

    #[test]
    fn a_bar_only_at_a_terminal_with_text_logs() {
        assert_eq!(choose(&at_a_terminal()), Display::Bar);
        assert!(at_a_terminal().ansi());
        let no_term = Surroundings {
            term: None,
            ..at_a_terminal()
        };
        assert_eq!(choose(&no_term), Display::Bar);
        let plain = [
            Surroundings {
                stderr_is_terminal: false,
                ..at_a_terminal()
            },
            Surroundings {
                json_logs: true,
                ..at_a_terminal()
            },
            Surroundings {
                no_color: true,
                ..at_a_terminal()
            },
            Surroundings {
                term: Some("dumb".into()),
                ..at_a_terminal()
            },
            Surroundings {
                ci: true,
                ..at_a_terminal()
            },
            Surroundings::default(),
        ];
        for s in plain {
            assert_eq!(choose(&s), Display::Lines, "{s:?}");
        }
        // CI or JSON logs at a terminal: plain lines, colours still allowed.
        assert!(Surroundings {
            ci: true,
            ..at_a_terminal()
        }
        .ansi());
        for s in [
            Surroundings {
                no_color: true,
                ..at_a_terminal()
            },
            Surroundings {
                term: Some("dumb".into()),
                ..at_a_terminal()
            },
            Surroundings {
                stderr_is_terminal: false,
                ..at_a_terminal()
            },
        ] {
            assert!(!s.ansi(), "{s:?}");
        }
    }

    #[test]
    fn a_phase_counts_what_is_done_and_its_line_says_so() {
        let mut jobs = Progress::jobs("user jobs", 16, 100);
        assert_eq!(jobs.line(100), "user jobs 0/16 done, 0 calls so far");
        jobs.advance(3, || 109);
        assert_eq!(jobs.done(), 3);
        // The calls counted are the client's since the phase started.
        assert_eq!(
            jobs.line_after(109, 9.0 / 700.0),
            "user jobs 3/16 done, 39 calls left, ~0.1 min at 700 rpm"
        );
        let mut read = Progress::read("Salesforce accounts", Total::Unknown);
        read.add(1);
        assert_eq!(
            read.line_after(0, 0.5),
            "Salesforce accounts 1 read, 2 a minute"
        );
        read.set_total(Total::Exact(2_500));
        read.add(1_999);
        assert_eq!(
            read.line_after(0, 0.5),
            "Salesforce accounts 2,000/2,500 read, ~0.1 min left at 4,000 a minute"
        );
        // No bars were installed: a phase in a test logs lines only.
        assert!(read.bar.is_none());
    }
}
