//! The body a Zendesk trigger's webhook sends (docs/behaviour.md §7):
//! `{"ticket_id": "{{ticket.id}}", "event": "created"}`. Placeholders render inside
//! quotes, so the id arrives as a string; a bare number is accepted too. Other keys are
//! ignored.

use serde::Deserialize;

use super::rules::{parse_ticket_id, TicketEvent};

/// One webhook delivery, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookPayload {
    /// The ticket.
    pub ticket_id: u64,
    /// What happened to it.
    pub event: TicketEvent,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
struct RawPayload {
    ticket_id: RawId,
    event: String,
}

/// Parses a webhook body; the error says what is wrong and where.
///
/// ```
/// use sync_core::cases::{parse_webhook_body, TicketEvent};
/// let p = parse_webhook_body(br#"{"ticket_id": "1234", "event": "closed"}"#).unwrap();
/// assert_eq!((p.ticket_id, p.event), (1234, TicketEvent::Closed));
/// assert!(parse_webhook_body(br#"{"ticket_id": "{{ticket.id}}", "event": "closed"}"#).is_err());
/// ```
pub fn parse_webhook_body(body: &[u8]) -> Result<WebhookPayload, String> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let raw: RawPayload = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        format!(
            "body is not {{\"ticket_id\", \"event\"}} JSON (at `{path}`): {}",
            e.inner()
        )
    })?;
    let ticket_id = match raw.ticket_id {
        RawId::Number(0) => return Err("ticket_id: 0 is not a Zendesk ticket id".to_string()),
        RawId::Number(n) => n,
        RawId::Text(s) => parse_ticket_id(&s).map_err(|e| format!("ticket_id: {e}"))?,
    };
    let event = raw.event.parse().map_err(|e| format!("event: {e}"))?;
    Ok(WebhookPayload { ticket_id, event })
}
