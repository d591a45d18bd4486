//! Property tests (issue 16) of the parsers that take outside input on the way into a
//! job, bounded so CI stays fast (the unbounded runs are the `cargo fuzz` targets in
//! `fuzz/`, see docs/reliability.md): Zendesk webhook verification
//! (`zendesk_client::webhook::verify`) and payload parsing
//! (`sync_core::cases::parse_webhook_body`), and the sandbox's SOQL parser that every
//! end-to-end test's queries go through. Never a panic; every refusal says what it
//! refused.

use proptest::prelude::*;
use sync_core::cases::parse_webhook_body;
use time::macros::datetime;
use time::OffsetDateTime;
use zendesk_client::webhook::{sign, verify, DEFAULT_MAX_AGE};

const NOW: OffsetDateTime = datetime!(2026-11-25 10:00:00 UTC);

/// RFC 3339 timestamps near [`NOW`], and some that are not timestamps at all.
fn timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        (-600i64..600).prop_map(|s| {
            (NOW + time::Duration::seconds(s))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        }),
        "\\PC{0,40}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
        Just("-9999-01-01T00:00:00Z".to_string()),
        Just("+9999-12-31T23:59:59Z".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any signature, timestamp and body: an answer, never a panic; a refusal is a
    /// signature error that says why.
    #[test]
    fn verify_never_panics(
        secret in "\\PC{0,20}",
        signature in proptest::option::of("\\PC{0,60}"),
        ts in proptest::option::of(timestamp()),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        if let Err(e) = verify(&secret, signature.as_deref(), ts.as_deref(), &body, NOW, DEFAULT_MAX_AGE) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    /// A body signed with the secret verifies; one changed byte, another secret or a
    /// stale timestamp does not.
    #[test]
    fn only_the_signed_body_verifies(
        secret in "[ -~]{1,32}",
        body in proptest::collection::vec(any::<u8>(), 1..512),
        flip in any::<prop::sample::Index>(),
        skew in -290i64..290,
    ) {
        let ts = (NOW + time::Duration::seconds(skew))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let sig = sign(&secret, &ts, &body);
        prop_assert!(verify(&secret, Some(&sig), Some(&ts), &body, NOW, DEFAULT_MAX_AGE).is_ok());
        let mut changed = body.clone();
        let at = flip.index(changed.len());
        changed[at] ^= 0x01;
        prop_assert!(verify(&secret, Some(&sig), Some(&ts), &changed, NOW, DEFAULT_MAX_AGE).is_err());
        let other = format!("{secret}x");
        prop_assert!(verify(&other, Some(&sig), Some(&ts), &body, NOW, DEFAULT_MAX_AGE).is_err());
        let late = NOW + time::Duration::hours(2);
        prop_assert!(verify(&secret, Some(&sig), Some(&ts), &body, late, DEFAULT_MAX_AGE).is_err());
    }

    /// Any bytes as a webhook body: a payload or an error naming the key at fault.
    #[test]
    fn any_webhook_body_parses_or_names_the_problem(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            ("\\PC{0,12}", "\\PC{0,12}").prop_map(|(id, ev)| {
                serde_json::json!({"ticket_id": id, "event": ev}).to_string().into_bytes()
            }),
            (any::<i64>(), prop_oneof![Just("created"), Just("closed"), Just("solved")])
                .prop_map(|(id, ev)| format!(r#"{{"ticket_id": {id}, "event": "{ev}"}}"#).into_bytes()),
        ],
    ) {
        match parse_webhook_body(&body) {
            Ok(p) => prop_assert!(p.ticket_id > 0),
            Err(e) => prop_assert!(
                e.contains("ticket_id") || e.contains("event") || e.contains("body"),
                "{}", e
            ),
        }
    }

    /// Any text as SOQL: a query or a Salesforce-shaped error (a code and a message).
    #[test]
    fn the_soql_parser_never_panics(text in "\\PC{0,120}") {
        if let Err(e) = sandbox::salesforce::soql::parse(&text) {
            prop_assert!(!e.code.is_empty() && !e.message.is_empty());
        }
    }

    /// SOQL-shaped token soup (keywords, names, literals, operators), and every
    /// prefix of the jobs' own queries: never a panic; errors carry a code.
    #[test]
    fn soql_token_soup_never_panics(
        tokens in proptest::collection::vec(
            prop_oneof![
                Just("SELECT"), Just("FROM"), Just("WHERE"), Just("AND"), Just("OR"),
                Just("NOT"), Just("IN"), Just("LIKE"), Just("ORDER BY"), Just("LIMIT"),
                Just("OFFSET"), Just("("), Just(")"), Just(","), Just("="), Just("!="),
                Just("<"), Just(">="), Just("Id"), Just("Name"), Just("Account.Name"),
                Just("Account"), Just("'x'"), Just("'it''s'"), Just("'\\''"), Just("null"),
                Just("TODAY"), Just("LAST_N_DAYS:3"), Just("2025-01-01"),
                Just("2025-01-01T00:00:00Z"), Just("42"), Just("-1.5"), Just("99999999999999999999"),
                Just("COUNT()"), Just("\n"), Just("ASC"), Just("DESC NULLS LAST"),
            ],
            0..24,
        ),
        cut in any::<prop::sample::Index>(),
    ) {
        let text = tokens.join(" ");
        if let Err(e) = sandbox::salesforce::soql::parse(&text) {
            prop_assert!(!e.code.is_empty());
        }
        for query in [
            sync_core::soql::GLOBAL_ACCOUNTS,
            sync_core::soql::US_FEDERAL_ACCOUNTS,
            sync_core::soql::US_FEDERAL_CONTACTS,
        ] {
            let chars: Vec<char> = query.chars().collect();
            let prefix: String = chars[..cut.index(chars.len() + 1)].iter().collect();
            let _ = sandbox::salesforce::soql::parse(&prefix);
        }
    }
}

#[test]
fn the_jobs_own_queries_parse() {
    for query in [
        sync_core::soql::GLOBAL_ACCOUNTS,
        sync_core::soql::US_FEDERAL_ACCOUNTS,
    ] {
        assert!(sandbox::salesforce::soql::parse(query).is_ok(), "{query}");
    }
}
