//! Naming the cause of a failure without an answer (DNS, refused, timeout, TLS, reset),
//! with the host, by walking the `source()` chain of reqwest/hyper/io errors; and reading
//! an answer's body with a size cap; reading `Retry-After`. Shared by the two API clients (`sfdc-client`,
//! `zendesk-client`), which otherwise know nothing of each other.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

mod retry_after;

pub use retry_after::{parse_retry_after, MAX_RETRY_AFTER};

use bytes::{Bytes, BytesMut};
use std::error::Error as StdError;
use url::Url;

/// What a request failed on before an answer was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The host name could not be resolved.
    Dns,
    /// Nobody listens on the port.
    Refused,
    /// Connecting or answering took longer than the timeout.
    Timeout,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The connection was reset or closed mid-way.
    Reset,
    /// Anything else.
    Other,
}

impl Cause {
    fn phrase(self) -> &'static str {
        match self {
            Cause::Dns => "DNS failure for",
            Cause::Refused => "connection refused by",
            Cause::Timeout => "timed out talking to",
            Cause::Tls => "TLS failure with",
            Cause::Reset => "connection reset by",
            Cause::Other => "request failed to",
        }
    }
}

/// Longest error chain kept in a message, in bytes.
const MAX_CHAIN: usize = 600;

/// The cause of `e`, found in its chain of sources.
pub fn cause_of(e: &reqwest::Error) -> Cause {
    if e.is_timeout() {
        return Cause::Timeout;
    }
    let mut text_cause = Cause::Other;
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return Cause::Refused,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    return Cause::Reset
                }
                K::TimedOut => return Cause::Timeout,
                _ => {}
            }
        }
        let text = err.to_string().to_ascii_lowercase();
        let here = if text.contains("dns error")
            || text.contains("failed to lookup address")
            || text.contains("name or service not known")
            || text.contains("no address associated")
            || text.contains("nodename nor servname")
        {
            Cause::Dns
        } else if text.contains("certificate")
            || text.contains("tls")
            || text.contains("handshake")
            || text.contains("invalid peer")
        {
            Cause::Tls
        } else if text.contains("connection refused") {
            Cause::Refused
        } else if text.contains("timed out") {
            Cause::Timeout
        } else if text.contains("connection reset")
            || text.contains("connection closed")
            || text.contains("broken pipe")
            || text.contains("incomplete message")
            || text.contains("unexpected eof")
        {
            Cause::Reset
        } else {
            Cause::Other
        };
        // The innermost recognisable error is the most precise.
        if here != Cause::Other {
            text_cause = here;
        }
        current = err.source();
    }
    text_cause
}

/// `host:port` of `url`, for messages.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => "(no host)".to_owned(),
    }
}

/// `"{cause} {host}: {error: source: source …}"`. Carries no secret: URLs hold none
/// (credentials travel in headers) and reqwest/hyper errors do not print headers.
pub fn describe(e: &reqwest::Error, url: &Url) -> String {
    let mut chain: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        if !chain.iter().any(|c| c.contains(&text)) {
            chain.push(text);
        }
        current = err.source();
    }
    let mut chain = chain.join(": ");
    if chain.len() > MAX_CHAIN {
        let mut end = MAX_CHAIN;
        while !chain.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        chain.truncate(end);
        chain.push('…');
    }
    format!("{} {}: {chain}", cause_of(e).phrase(), host_of(url))
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum ReadFail {
    /// More than the cap.
    TooLarge,
    /// The connection failed mid-body.
    Transport(reqwest::Error),
}

/// Reads the whole body, refusing (without reading further) more than `cap` bytes.
pub async fn read_capped(mut response: reqwest::Response, cap: u64) -> Result<Bytes, ReadFail> {
    if response.content_length().is_some_and(|len| len > cap) {
        return Err(ReadFail::TooLarge);
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadFail::Transport)? {
        let after = u64::try_from(buf.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
        if after > cap {
            return Err(ReadFail::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
