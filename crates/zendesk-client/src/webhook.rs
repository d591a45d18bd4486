//! Zendesk webhook signatures (reference §8.2), pure functions with an injected `now`:
//! `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + raw body)),
//! the secret's string bytes as the key, no separator, standard base64. Compared in
//! constant time (`Mac::verify_slice`).

use crate::{Error, Result, SignatureFailure};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-Zendesk-Webhook-Signature";
/// The timestamp header's name.
pub const TIMESTAMP_HEADER: &str = "X-Zendesk-Webhook-Signature-Timestamp";
/// The age beyond which a delivery is refused by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5 * 60);

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail; the fallback keeps it total.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(timestamp.as_bytes());
    mac.update(body);
    mac
}

/// The signature Zendesk would send for this timestamp and body.
///
/// ```
/// let sig = zendesk_client::webhook::sign(
///     "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==",
///     "2021-07-25T10:00:00Z",
///     br#"{"say": "hello"}"#,
/// );
/// assert_eq!(sig, "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=");
/// ```
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// Parses a signature timestamp: ISO-8601 (what Zendesk sends) or, leniently, unix seconds.
fn parse_timestamp(ts: &str) -> Result<OffsetDateTime> {
    let ts = ts.trim();
    if let Ok(t) = OffsetDateTime::parse(ts, &Rfc3339) {
        return Ok(t);
    }
    ts.parse::<i64>()
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .ok_or_else(|| Error::Signature(SignatureFailure::BadTimestamp(ts.to_owned())))
}

/// Verifies one delivery: the header values as received (`None` when absent), the raw
/// body bytes, the signing secret, `now`, and the largest allowed distance between the
/// timestamp and `now` (either way, against replays and clock tricks).
///
/// ```
/// use time::macros::datetime;
/// use zendesk_client::webhook::{sign, verify, DEFAULT_MAX_AGE};
/// let (secret, ts, body) = ("s3cret", "2021-07-25T10:00:00Z", br#"{"ticket_id":"1"}"#);
/// let sig = sign(secret, ts, body);
/// let now = datetime!(2021-07-25 10:01:00 UTC);
/// assert!(verify(secret, Some(&sig), Some(ts), body, now, DEFAULT_MAX_AGE).is_ok());
/// assert!(verify("other", Some(&sig), Some(ts), body, now, DEFAULT_MAX_AGE).is_err());
/// ```
pub fn verify(
    secret: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
    max_age: Duration,
) -> Result<()> {
    let fail = |f| Err(Error::Signature(f));
    let signature = match signature.map(str::trim) {
        Some(s) if !s.is_empty() => s,
        _ => return fail(SignatureFailure::MissingSignature),
    };
    let timestamp = match timestamp {
        Some(t) if !t.trim().is_empty() => t,
        _ => return fail(SignatureFailure::MissingTimestamp),
    };
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return fail(SignatureFailure::BadBase64);
    };
    if mac(secret, timestamp, body).verify_slice(&given).is_err() {
        return fail(SignatureFailure::Mismatch);
    }
    // Checked after the HMAC so the timestamp is known to be Zendesk's.
    let at = parse_timestamp(timestamp)?;
    let age = now.unix_timestamp().saturating_sub(at.unix_timestamp());
    let max = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    if age.abs() > max {
        return fail(SignatureFailure::Stale {
            age_secs: age,
            max_age_secs: max,
        });
    }
    Ok(())
}
