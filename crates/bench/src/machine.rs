//! The machine the figures were measured on, read at run time.

use serde::Serialize;

/// CPUs, memory and CPU model.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs available to this process.
    pub cpus: usize,
    /// `MemTotal`, GiB.
    pub memory_gib: f64,
    /// The first `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// The kernel release.
    pub kernel: String,
    /// The 1-minute load average when the run started (other work on a shared machine).
    pub load_at_start: f64,
    /// The same when it ended.
    pub load_at_end: f64,
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    read("/proc/loadavg")
        .split_whitespace()
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0.0)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Machine {
    /// Reads /proc; `load_at_start` as measured when the run started.
    pub fn read(load_at_start: f64) -> Machine {
        let meminfo = read("/proc/meminfo");
        let mem_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, m)| m.trim().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            cpus: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(0),
            memory_gib: mem_kib / 1024.0 / 1024.0,
            cpu_model,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            load_at_start,
            load_at_end: load_average(),
        }
    }
}
