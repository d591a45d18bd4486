//! Webhook signatures: the reference's TIMESTAMP+BODY vectors, wrong secret, tampered
//! body, bad base64, missing headers, stale and future timestamps.

use std::time::Duration;
use time::macros::datetime;
use zendesk_client::webhook::{sign, verify, DEFAULT_MAX_AGE};
use zendesk_client::{Error, SignatureFailure};

const TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
const TS: &str = "2021-07-25T10:00:00Z";
const BODY: &[u8] = br#"{"say": "hello"}"#;

fn failure(r: zendesk_client::Result<()>) -> SignatureFailure {
    match r {
        Err(Error::Signature(f)) => f,
        other => panic!("expected a signature failure, got {other:?}"),
    }
}

#[test]
fn reference_vectors() {
    assert_eq!(
        sign(TEST_SECRET, TS, BODY),
        "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0="
    );
    assert_eq!(
        sign(TEST_SECRET, TS, b""),
        "Quv38XAfu9ZaMGBsk0NSntquALrZBp815j0203kelQA="
    );
    assert_eq!(
        sign("HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=", TS, BODY),
        "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
    );
}

#[test]
fn valid_signature_within_age_passes() {
    let now = datetime!(2021-07-25 10:04:59 UTC);
    let sig = "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=";
    verify(TEST_SECRET, Some(sig), Some(TS), BODY, now, DEFAULT_MAX_AGE).expect("valid");
}

#[test]
fn wrong_secret_and_tampered_body_mismatch() {
    let now = datetime!(2021-07-25 10:00:30 UTC);
    let sig = sign(TEST_SECRET, TS, BODY);
    let wrong = verify(
        "not-the-secret",
        Some(&sig),
        Some(TS),
        BODY,
        now,
        DEFAULT_MAX_AGE,
    );
    assert_eq!(failure(wrong), SignatureFailure::Mismatch);
    let tampered = verify(
        TEST_SECRET,
        Some(&sig),
        Some(TS),
        br#"{"say": "hellO"}"#,
        now,
        DEFAULT_MAX_AGE,
    );
    assert_eq!(failure(tampered), SignatureFailure::Mismatch);
    let other_ts = verify(
        TEST_SECRET,
        Some(&sig),
        Some("2021-07-25T10:00:01Z"),
        BODY,
        now,
        DEFAULT_MAX_AGE,
    );
    assert_eq!(failure(other_ts), SignatureFailure::Mismatch);
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let sig = sign(TEST_SECRET, TS, BODY);
    let late = datetime!(2021-07-25 10:05:01 UTC);
    assert_eq!(
        failure(verify(
            TEST_SECRET,
            Some(&sig),
            Some(TS),
            BODY,
            late,
            DEFAULT_MAX_AGE
        )),
        SignatureFailure::Stale {
            age_secs: 301,
            max_age_secs: 300
        }
    );
    let early = datetime!(2021-07-25 09:50:00 UTC);
    assert!(matches!(
        failure(verify(
            TEST_SECRET,
            Some(&sig),
            Some(TS),
            BODY,
            early,
            Duration::from_secs(60)
        )),
        SignatureFailure::Stale { age_secs: -600, .. }
    ));
}

#[test]
fn missing_and_malformed_headers() {
    let now = datetime!(2021-07-25 10:00:00 UTC);
    assert_eq!(
        failure(verify(
            TEST_SECRET,
            None,
            Some(TS),
            BODY,
            now,
            DEFAULT_MAX_AGE
        )),
        SignatureFailure::MissingSignature
    );
    assert_eq!(
        failure(verify(
            TEST_SECRET,
            Some("abc="),
            None,
            BODY,
            now,
            DEFAULT_MAX_AGE
        )),
        SignatureFailure::MissingTimestamp
    );
    assert_eq!(
        failure(verify(
            TEST_SECRET,
            Some("%%%not base64"),
            Some(TS),
            BODY,
            now,
            DEFAULT_MAX_AGE
        )),
        SignatureFailure::BadBase64
    );
    let sig = sign(TEST_SECRET, "yesterday", BODY);
    assert_eq!(
        failure(verify(
            TEST_SECRET,
            Some(&sig),
            Some("yesterday"),
            BODY,
            now,
            DEFAULT_MAX_AGE
        )),
        SignatureFailure::BadTimestamp("yesterday".into())
    );
}

#[test]
fn unix_second_timestamps_are_read_leniently() {
    let ts = "1627207200"; // 2021-07-25T10:00:00Z
    let sig = sign(TEST_SECRET, ts, BODY);
    let now = datetime!(2021-07-25 10:01:00 UTC);
    verify(
        TEST_SECRET,
        Some(&sig),
        Some(ts),
        BODY,
        now,
        DEFAULT_MAX_AGE,
    )
    .expect("valid");
}
