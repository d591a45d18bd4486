//! Webhook verification (zendesk-client `webhook::verify`) and payload parsing
//! (sync-core `cases::parse_webhook_body`): the input is split into a signature, a
//! timestamp and a body; verification answers without panicking, a body signed with
//! the secret verifies, and the payload parser names what it refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::macros::datetime;
use zendesk_client::webhook::{sign, verify, DEFAULT_MAX_AGE};

fuzz_target!(|data: &[u8]| {
    let now = datetime!(2026-11-25 10:00:00 UTC);
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let signature = parts.next().map(String::from_utf8_lossy);
    let timestamp = parts.next().map(String::from_utf8_lossy);
    let body = parts.next().unwrap_or_default();
    let _ = verify(
        "fuzz-secret",
        signature.as_deref(),
        timestamp.as_deref(),
        body,
        now,
        DEFAULT_MAX_AGE,
    );
    if let Some(ts) = timestamp.as_deref().filter(|t| !t.trim().is_empty()) {
        // With the right signature and no age limit, only an unreadable timestamp
        // is refused.
        let good = sign("fuzz-secret", ts, body);
        if let Err(e) = verify("fuzz-secret", Some(&good), Some(ts), body, now, std::time::Duration::MAX) {
            assert!(e.to_string().contains("timestamp"), "{e}");
        }
    }
    match sync_core::cases::parse_webhook_body(body) {
        Ok(p) => assert!(p.ticket_id > 0),
        Err(e) => assert!(
            e.contains("ticket_id") || e.contains("event") || e.contains("body"),
            "{e}"
        ),
    }
});
