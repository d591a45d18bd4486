//! Signed ticket webhooks (§8): when a ticket is created or closed, POST
//! `{"ticket_id":"<id>","event":"…"}` (the id a string, as a trigger placeholder renders)
//! with `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + body)).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::http::now_iso;
use super::ZendeskSim;

/// Where webhooks go and the signing secret. `Debug` hides the secret.
#[derive(Clone)]
pub struct WebhookTarget {
    /// Receiver URL, e.g. `http://127.0.0.1:8080/webhooks/zendesk`.
    pub url: String,
    /// Signing secret, used as its literal bytes.
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// One delivery attempt, as recorded in the state dump.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDelivery {
    /// `X-Zendesk-Webhook-Invocation-Id`.
    pub invocation_id: String,
    /// Ticket id.
    pub ticket_id: u64,
    /// `created` or `closed`.
    pub event: String,
    /// Receiver's status, if it answered.
    pub status: Option<u16>,
    /// Transport error, if it did not.
    pub error: Option<String>,
}

/// `base64(HMAC_SHA256(secret, timestamp + body))`, the secret's string bytes as the key.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A fixed webhook id in the ULID form the real API uses.
const WEBHOOK_ID: &str = "01HANAHHBNJDDW768TX5J4YFX7";

impl ZendeskSim {
    /// Sets or replaces (or, with `None`, removes) where ticket webhooks go from now on,
    /// e.g. a receiver started after the sandbox on a port it chose itself.
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.lock().webhook = target;
    }

    /// Sends the webhook for a ticket event in the background, if a target is configured.
    pub(crate) fn fire_webhook(&self, ticket_id: u64, event: &'static str) {
        let (target, invocation_id) = {
            let mut st = self.lock();
            let Some(target) = st.webhook.clone() else {
                return;
            };
            st.webhook_seq += 1;
            (target, format!("{:026}", st.webhook_seq))
        };
        let body = format!(r#"{{"ticket_id":"{ticket_id}","event":"{event}"}}"#);
        let timestamp = now_iso();
        let signature = sign(&target.secret, &timestamp, body.as_bytes());
        let invocation_header = invocation_id.clone();
        let sim = self.clone();
        let record = move |status: Option<u16>, error: Option<String>| {
            sim.lock().webhooks.push(WebhookDelivery {
                invocation_id: invocation_id.clone(),
                ticket_id,
                event: event.to_owned(),
                status,
                error,
            });
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            record(
                None,
                Some("no tokio runtime to send the webhook from".to_owned()),
            );
            return;
        };
        let request = self
            .shared
            .http
            .post(&target.url)
            .header("content-type", "application/json")
            .header("x-zendesk-webhook-signature", signature)
            .header("x-zendesk-webhook-signature-timestamp", timestamp)
            .header("x-zendesk-webhook-id", WEBHOOK_ID)
            .header("x-zendesk-webhook-invocation-id", invocation_header)
            .header("x-zendesk-account-id", self.config().account_id.to_string())
            .timeout(std::time::Duration::from_secs(10))
            .body(body);
        // Zendesk can deliver one action more than once (§11.24): a fault repeats it.
        let copies = if self.shared.faults.duplicate_webhook(event) {
            2
        } else {
            1
        };
        rt.spawn(async move {
            for _ in 0..copies {
                let Some(attempt) = request.try_clone() else {
                    break;
                };
                match attempt.send().await {
                    Ok(resp) => record(Some(resp.status().as_u16()), None),
                    Err(e) => record(None, Some(e.to_string())),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::sign;

    /// Self-computed TIMESTAMP+BODY vectors from reference/zendesk-api.md §8.2.
    #[test]
    fn signature_matches_reference_vectors() {
        let ts = "2021-07-25T10:00:00Z";
        let test_secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
        assert_eq!(
            sign(test_secret, ts, br#"{"say": "hello"}"#),
            "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0="
        );
        assert_eq!(
            sign(test_secret, ts, b""),
            "Quv38XAfu9ZaMGBsk0NSntquALrZBp815j0203kelQA="
        );
        assert_eq!(
            sign(
                "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=",
                ts,
                br#"{"say": "hello"}"#
            ),
            "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
        );
    }
}
