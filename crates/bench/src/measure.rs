//! `bench measure --out FILE -- CMD [ARGS…]`: runs one command and writes what it cost.
//!
//! Why a mode of its own: `getrusage(RUSAGE_CHILDREN)` reports the user and system CPU
//! time of the children a process has waited for, and the peak resident set size of the
//! largest of them. In a fresh process whose only child is the job, that is exactly the
//! job's CPU time and peak RSS, read by the kernel at exit: no polling of
//! `/proc/PID/status` (which can miss growth after the last poll), and the harness's own
//! memory, the sandbox's (a separate process the harness started) and earlier jobs'
//! are never mixed in. `nix` wraps the call safely (the workspace forbids `unsafe`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::TimeValLike as _;
use serde::{Deserialize, Serialize};

/// What one job run cost, as `bench measure` writes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Exit code (-1: killed by a signal).
    pub code: i32,
    /// Wall time from spawn to exit, in seconds.
    pub wall_s: f64,
    /// User CPU time, in seconds.
    pub user_s: f64,
    /// System CPU time, in seconds.
    pub sys_s: f64,
    /// Peak resident set size, KiB (Linux reports `ru_maxrss` in KiB).
    pub max_rss_kib: u64,
}

impl Cost {
    /// User + system CPU time, in seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// Peak RSS in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }
}

/// The `measure` mode: spawns `cmd` (stdin closed, stdout and stderr inherited), waits,
/// writes the [`Cost`] as JSON to `out`, and exits with the command's code.
pub fn measure_mode(out: &Path, cmd: &[String]) -> anyhow::Result<i32> {
    let (program, args) = cmd.split_first().context("measure: no command given")?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("measure: cannot run {program}"))?;
    // The job's pid, for the harness to end it (by id) if it runs past its timeout.
    let _ = std::fs::write(pid_file(out), child.id().to_string());
    let status = child.wait().context("measure: waiting for the job")?;
    let wall = started.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("measure: getrusage")?;
    let micros = |tv: nix::sys::time::TimeVal| tv.num_microseconds() as f64 / 1e6;
    let cost = Cost {
        code: status.code().unwrap_or(-1),
        wall_s: wall.as_secs_f64(),
        user_s: micros(usage.user_time()),
        sys_s: micros(usage.system_time()),
        max_rss_kib: u64::try_from(usage.max_rss()).unwrap_or(0),
    };
    std::fs::write(out, serde_json::to_vec(&cost)?)
        .with_context(|| format!("measure: cannot write {}", out.display()))?;
    Ok(cost.code)
}

fn pid_file(out: &Path) -> PathBuf {
    out.with_extension("pid")
}

/// One job to run under `bench measure`.
pub struct Job<'a> {
    /// The binary.
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its whole environment (nothing is inherited).
    pub env: Vec<(&'static str, String)>,
    /// Where its stdout and stderr go.
    pub stdout: PathBuf,
    /// Its stderr (logs).
    pub stderr: PathBuf,
    /// Most time it may take.
    pub timeout: Duration,
}

/// Runs `job` through this same executable's `measure` mode and reads its [`Cost`].
pub async fn run_measured(job: Job<'_>, scratch: &Path) -> anyhow::Result<Cost> {
    let me = std::env::current_exe().context("cannot find the bench executable")?;
    let cost_file = scratch.join(format!(
        "cost-{}.json",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let mut cmd = tokio::process::Command::new(me);
    cmd.arg("measure")
        .arg("--out")
        .arg(&cost_file)
        .arg("--")
        .arg(job.program)
        .args(&job.args)
        .env_clear()
        .envs(job.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&job.stdout)?)
        .stderr(std::fs::File::create(&job.stderr)?)
        .kill_on_drop(true);
    let mut child = cmd.spawn().context("cannot start bench measure")?;
    match tokio::time::timeout(job.timeout, child.wait()).await {
        Ok(status) => {
            status.context("waiting for bench measure")?;
        }
        Err(_) => {
            // End the job first (our grandchild, by the pid `measure` wrote), then `measure`.
            if let Some(pid) = std::fs::read_to_string(pid_file(&cost_file))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill().await;
            anyhow::bail!(
                "{} did not finish within {:?}",
                job.program.display(),
                job.timeout
            );
        }
    }
    let text = std::fs::read_to_string(&cost_file)
        .with_context(|| format!("bench measure wrote no {}", cost_file.display()))?;
    let _ = std::fs::remove_file(&cost_file);
    let _ = std::fs::remove_file(pid_file(&cost_file));
    Ok(serde_json::from_str(&text)?)
}
