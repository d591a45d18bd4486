//! The end of a run: the JSON and Markdown report files, the summary table on stderr,
//! and (with `--sandbox`) the Markdown report on stdout, as the sync jobs print it.

use std::io::Write as _;

use anyhow::Context as _;
use sync_core::cli::CommonArgs;
use sync_core::Report;

/// Writes the report where the flags say and prints the summary.
pub fn write(report: &Report, common: &CommonArgs, print_markdown: bool) -> anyhow::Result<()> {
    if let Some(path) = &common.report {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    if let Some(path) = &common.report_md {
        std::fs::write(path, report.to_markdown())
            .with_context(|| format!("cannot write the Markdown report to {}", path.display()))?;
    }
    eprint!("{}", report.summary_table());
    if print_markdown {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", report.to_markdown()).context("cannot print the report")?;
    }
    Ok(())
}
