//! Unit tests of the cases rules and the webhook body (the lookup query's are in
//! `sync_jobs::cases::salesforce`).

use serde_json::json;

use super::rules::{after_create_met_a_case, agent_url, cut_chars, MAX_DESCRIPTION_CHARS};
use super::*;
use crate::mapping::{CaseSettings, Instance, Mapping};
use crate::report::ChangeAction;
use crate::ZendeskOrgId;

fn settings(instance: Instance) -> CaseSettings {
    Mapping::embedded(instance).unwrap().cases().clone()
}

fn facts(status: &str, org: TicketOrg) -> TicketFacts {
    TicketFacts {
        ticket_id: 4711,
        status: status.to_string(),
        subject: Some("Cannot log in".into()),
        description: Some("Login fails with a 500.".into()),
        priority: Some(TicketPriority::Urgent),
        org,
        requester_email: Some("ellen@acme.example.com".into()),
        requester_name: Some("Ellen Ripley".into()),
        agent_url: "https://acme.zendesk.com/agent/tickets/4711".into(),
    }
}

fn account() -> TicketOrg {
    TicketOrg::Account {
        salesforce_id: "0018SDEMO000001QPA".into(),
    }
}

fn existing(closed: bool, s: &CaseSettings) -> ExistingCase {
    let f = facts("open", account());
    ExistingCase {
        id: "500000000000001AAA".into(),
        status: Some(if closed { "Closed" } else { "Working" }.into()),
        is_closed: closed,
        fields: CaseFields::from_ticket(&f, "0018SDEMO000001QPA", s),
    }
}

#[test]
fn keys_differ_by_instance() {
    assert_eq!(case_key(&settings(Instance::Global), 1234), "1234");
    assert_eq!(case_key(&settings(Instance::UsFederal), 1234), "usfed-1234");
}

#[test]
fn priorities_map_to_case_priorities() {
    let p = |p: TicketPriority| case_priority(Some(&p));
    assert_eq!(p(TicketPriority::Urgent), Some("High"));
    assert_eq!(p(TicketPriority::High), Some("High"));
    assert_eq!(p(TicketPriority::Normal), Some("Medium"));
    assert_eq!(p(TicketPriority::Low), Some("Low"));
    assert_eq!(p(TicketPriority::Other("critical".into())), None);
    assert_eq!(case_priority(None), None);
}

#[test]
fn description_is_cut_to_32000_characters_not_bytes() {
    let long = "é".repeat(MAX_DESCRIPTION_CHARS + 5);
    let s = settings(Instance::Global);
    let mut f = facts("open", account());
    f.description = Some(long);
    let fields = CaseFields::from_ticket(&f, "0018SDEMO000001QPA", &s);
    let d = fields.description.unwrap();
    assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
    assert_eq!(cut_chars("abc", 5), "abc");
    assert_eq!(cut_chars("abcdef", 3), "abc");
}

#[test]
fn agent_url_from_any_base_form() {
    for base in [
        "https://acme.zendesk.com",
        "https://acme.zendesk.com/",
        "https://acme.zendesk.com/api/v2/",
    ] {
        assert_eq!(
            agent_url(base, 7),
            "https://acme.zendesk.com/agent/tickets/7"
        );
    }
}

#[test]
fn created_without_a_case_creates_it_new_with_every_field() {
    let s = settings(Instance::Global);
    let d = decide(&facts("open", account()), None, &s, Mode::Event);
    let Decision::Create { key, body, closed } = d else {
        panic!("expected a create, got {d:?}");
    };
    assert_eq!(key, "4711");
    assert!(!closed);
    assert_eq!(
        serde_json::Value::Object(body),
        json!({
            "AccountId": "0018SDEMO000001QPA",
            "Subject": "Cannot log in",
            "Description": "Login fails with a 500.",
            "Priority": "High",
            "Origin": "Web",
            "SuppliedEmail": "ellen@acme.example.com",
            "SuppliedName": "Ellen Ripley",
            "Zendesk_Support_Ticket_URL__c": "https://acme.zendesk.com/agent/tickets/4711",
            "Status": "New"
        })
    );
}

#[test]
fn closed_without_a_case_creates_it_closed() {
    let s = settings(Instance::UsFederal);
    let d = decide(&facts("closed", account()), None, &s, Mode::Event);
    match d {
        Decision::Create { key, body, closed } => {
            assert_eq!(key, "usfed-4711");
            assert!(closed);
            assert_eq!(body["Status"], "Closed");
        }
        other => panic!("expected a create, got {other:?}"),
    }
}

#[test]
fn no_org_or_no_salesforce_id_gives_no_case() {
    let s = settings(Instance::Global);
    for org in [
        TicketOrg::None,
        TicketOrg::NoSalesforceId {
            organization_id: ZendeskOrgId(9),
        },
    ] {
        for status in ["open", "closed"] {
            let d = decide(&facts(status, org.clone()), None, &s, Mode::Event);
            assert!(matches!(d, Decision::NoAccount { .. }), "{d:?}");
            assert_eq!(d.body(), None);
        }
    }
}

#[test]
fn a_replayed_created_writes_nothing() {
    let s = settings(Instance::Global);
    let case = existing(false, &s);
    let d = decide(&facts("open", account()), Some(&case), &s, Mode::Event);
    assert!(matches!(d, Decision::Unchanged { .. }), "{d:?}");
}

#[test]
fn an_existing_case_gets_changed_fields_but_never_status() {
    let s = settings(Instance::Global);
    let case = existing(false, &s);
    let mut f = facts("open", account());
    f.subject = Some("Cannot log in (again)".into());
    f.priority = Some(TicketPriority::Low);
    let d = decide(&f, Some(&case), &s, Mode::Event);
    assert_eq!(d.action(), Some(ChangeAction::UpdateCase));
    assert_eq!(
        serde_json::Value::Object(d.body().unwrap()),
        json!({"Subject": "Cannot log in (again)", "Priority": "Low"})
    );
    // A closed Case is updated the same way, without reopening it.
    let closed_case = existing(true, &s);
    let d = decide(&f, Some(&closed_case), &s, Mode::Event);
    assert!(!d.body().unwrap().contains_key("Status"), "{d:?}");
}

#[test]
fn closing_closes_an_open_case_once() {
    let s = settings(Instance::Global);
    let open = existing(false, &s);
    let d = decide(&facts("closed", account()), Some(&open), &s, Mode::Event);
    assert_eq!(d.action(), Some(ChangeAction::CloseCase));
    assert_eq!(
        serde_json::Value::Object(d.body().unwrap()),
        json!({"Status": "Closed"})
    );
    let closed = existing(true, &s);
    let d = decide(&facts("closed", account()), Some(&closed), &s, Mode::Event);
    assert!(matches!(d, Decision::Unchanged { .. }), "{d:?}");
    // The org went away: the Case is still closed.
    let d = decide(
        &facts("closed", TicketOrg::None),
        Some(&open),
        &s,
        Mode::Event,
    );
    assert_eq!(d.action(), Some(ChangeAction::CloseCase));
}

#[test]
fn closed_statuses_come_from_the_mapping() {
    let mut s = settings(Instance::Global);
    let d = decide(&facts("solved", account()), None, &s, Mode::Event);
    assert!(matches!(d, Decision::Create { closed: false, .. }));
    s.closed_statuses = vec!["Solved".into(), "closed".into()];
    let d = decide(&facts("solved", account()), None, &s, Mode::Event);
    assert!(matches!(d, Decision::Create { closed: true, .. }));
}

#[test]
fn repair_only_creates_and_closes() {
    let s = settings(Instance::Global);
    let case = existing(false, &s);
    let mut f = facts("open", account());
    f.subject = Some("changed".into());
    let d = decide(&f, Some(&case), &s, Mode::Repair);
    assert!(matches!(d, Decision::Unchanged { .. }), "{d:?}");
    let d = decide(&facts("closed", account()), Some(&case), &s, Mode::Repair);
    assert_eq!(d.action(), Some(ChangeAction::CloseCase));
    let d = decide(&facts("open", account()), None, &s, Mode::Repair);
    assert_eq!(d.action(), Some(ChangeAction::CreateCase));
}

#[test]
fn webhook_bodies() {
    let ok = |b: &str| parse_webhook_body(b.as_bytes());
    assert_eq!(
        ok(r#"{"ticket_id":"12","event":"created"}"#).unwrap(),
        WebhookPayload {
            ticket_id: 12,
            event: TicketEvent::Created
        }
    );
    assert_eq!(
        ok(r#"{"ticket_id":12,"event":"Closed","extra":true}"#).unwrap(),
        WebhookPayload {
            ticket_id: 12,
            event: TicketEvent::Closed
        }
    );
    for (body, needle) in [
        ("not json", "ticket_id"),
        (r#"{"event":"created"}"#, "ticket_id"),
        (r#"{"ticket_id":"12"}"#, "event"),
        (r#"{"ticket_id":"abc","event":"created"}"#, "ticket_id"),
        (r#"{"ticket_id":"0","event":"created"}"#, "ticket_id"),
        (r#"{"ticket_id":"12","event":"solved"}"#, "solved"),
    ] {
        let err = ok(body).unwrap_err();
        assert!(err.contains(needle), "{body}: {err}");
    }
}

#[test]
fn events_parse_from_cli_text() {
    assert_eq!(" created ".parse::<TicketEvent>(), Ok(TicketEvent::Created));
    assert!("open".parse::<TicketEvent>().is_err());
}

/// A create's upsert that met a Case created in between (200 "updated") set its
/// Status: the Case is closed again when the ticket is closed now, never reopened,
/// and an open ticket's Case is left as the upsert made it.
#[test]
fn a_case_met_by_a_create_ends_closed_if_the_ticket_is_closed_now() {
    let s = settings(Instance::Global);
    let reopened = existing(false, &s);
    let closed = existing(true, &s);
    assert_eq!(
        after_create_met_a_case("4711".into(), true, Some(&reopened)),
        Decision::Close {
            key: "4711".into(),
            case_id: "500000000000001AAA".into()
        }
    );
    for (ticket_closed, case) in [
        (true, Some(&closed)),
        (false, Some(&reopened)),
        (true, None),
    ] {
        let d = after_create_met_a_case("4711".into(), ticket_closed, case);
        assert!(matches!(d, Decision::Unchanged { .. }), "{d:?}");
        assert_eq!(d.body(), None);
    }
}
