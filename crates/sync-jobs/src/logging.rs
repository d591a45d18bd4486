//! Logging set-up shared by the binaries: `tracing` to stderr, human-readable or one
//! JSON object per line (`--log-format json`, for CI). `RUST_LOG` overrides the level
//! (default `info`). On a terminal with text logs, progress is shown as bars and the
//! log lines go through them ([`progress::choose`]); elsewhere progress is log lines.

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use crate::progress::{self, Surroundings};

/// Installs the global subscriber and chooses how progress is shown. A second call
/// (e.g. in tests) is a no-op.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let surroundings = Surroundings::detect(format == LogFormat::Json);
    let writer = match progress::install(progress::choose(&surroundings)) {
        Some(bars) => BoxMakeWriter::new(bars),
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colours only on a terminal (not dumb, no NO_COLOR): CI logs and files stay plain.
        .with_ansi(surroundings.ansi())
        .with_target(false);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
