//! Ticket endpoints (§7): show, show_many, list, create, update (description read-only,
//! tags replace, closed tickets refuse updates with 422, stale safe updates 409), delete
//! (the ticket stays, `deleted`, for the export), `include=users,organizations` sideloads
//! on show, the tag endpoints, and the ticket events that fire webhooks. Exports are in
//! `incremental.rs`.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::http::{self, decode, now_iso};
use super::model::{Ticket, TicketInput, Via, ViaSource};
use super::paging::{self, ListUrl};
use super::store::normalise_tags;
use super::{unexpected, Req, State, ZendeskSim};

#[derive(Deserialize)]
struct One {
    ticket: TicketInput,
}

const STATUSES: [&str; 6] = ["new", "open", "pending", "hold", "solved", "closed"];
const PRIORITIES: [&str; 4] = ["urgent", "high", "normal", "low"];

/// Ticket events waiting to be sent as webhooks once the lock is released.
pub(super) fn take_events(st: &mut State) -> Vec<(u64, &'static str)> {
    std::mem::take(&mut st.events)
}

/// Routes `/api/v2/tickets…`.
pub(super) fn route(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    let base = sim.config().base_url.clone();
    match (req.method, req.rest()) {
        (&Method::GET, ["tickets"]) => {
            let items: Vec<_> = st
                .data
                .tickets
                .values()
                .filter(|t| !is_deleted(t))
                .map(|t| (t.id, t))
                .collect();
            let url = ListUrl {
                base: &base,
                path: "/api/v2/tickets.json",
                extra: Vec::new(),
            };
            paging::page(items, |t| sim.ticket_view(t), "tickets", &req.query, &url)
        }
        (&Method::POST, ["tickets"]) => {
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            match create(st, &body.ticket, "api", req.agent_email.as_deref()) {
                Ok(id) => {
                    let ticket = st.data.tickets.get(&id).map(|t| sim.ticket_view(t));
                    let location = format!("{base}/api/v2/tickets/{id}.json");
                    http::created(
                        &location,
                        &json!({"ticket": ticket, "audit": audit(id, Vec::new())}),
                    )
                }
                Err(resp) => resp,
            }
        }
        (&Method::GET, ["tickets", "show_many"]) => {
            let ids = req.query.list("ids").unwrap_or_default();
            if ids.len() > paging::MAX_PAGE {
                return http::too_many_values();
            }
            let found: Vec<_> = ids
                .iter()
                .filter_map(|id| id.parse::<u64>().ok())
                .filter_map(|id| st.data.tickets.get(&id))
                .filter(|t| !is_deleted(t))
                .map(|t| sim.ticket_view(t))
                .collect();
            paging::all(found, "tickets")
        }
        (&Method::DELETE, ["tickets", id]) => {
            // Kept with status `deleted`: the incremental export reports it so (§5.10).
            match id
                .parse::<u64>()
                .ok()
                .and_then(|id| st.data.tickets.get_mut(&id))
                .filter(|t| !is_deleted(t))
            {
                Some(t) => {
                    t.status = "deleted".to_owned();
                    t.updated_at = now_iso();
                    StatusCode::NO_CONTENT.into_response()
                }
                None => http::not_found(),
            }
        }
        (&Method::GET, ["tickets", id]) => match id
            .parse::<u64>()
            .ok()
            .and_then(|id| st.data.tickets.get(&id))
            .filter(|t| !is_deleted(t))
        {
            Some(t) => http::ok(&with_sideloads(sim, st, t, req)),
            None => http::not_found(),
        },
        (&Method::PUT, ["tickets", id]) => {
            let Some(id) = id.parse::<u64>().ok() else {
                return http::not_found();
            };
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            match update(st, id, &body.ticket) {
                Ok(events) => {
                    let ticket = st.data.tickets.get(&id).map(|t| sim.ticket_view(t));
                    http::ok(&json!({"ticket": ticket, "audit": audit(id, events)}))
                }
                Err(resp) => resp,
            }
        }
        (method, ["tickets", id, "tags"]) => tags(st, id, method, req),
        _ => unexpected(req),
    }
}

#[derive(Deserialize)]
struct TagsBody {
    tags: Vec<String>,
    #[serde(default)]
    safe_update: Option<bool>,
    #[serde(default)]
    updated_stamp: Option<String>,
}

/// `tickets/{id}/tags` (§7.3, §11.18): GET lists, PUT adds, POST sets (201), DELETE
/// removes. Writes go through [`update`], so a closed ticket refuses them (422) and a
/// stale safe update is a 409.
fn tags(st: &mut State, id: &str, method: &Method, req: &Req<'_>) -> Response {
    let Some(current) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| st.data.tickets.get(&id))
        .filter(|t| !is_deleted(t))
        .map(|t| (t.id, t.tags.clone()))
    else {
        return http::not_found();
    };
    let (id, current) = current;
    if method == Method::GET {
        return http::ok(&json!({ "tags": current }));
    }
    let body: TagsBody = match decode(req.body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let sent = normalise_tags(&body.tags);
    let new_tags = match *method {
        Method::PUT => current.into_iter().chain(sent).collect(),
        Method::POST => sent,
        Method::DELETE => current.into_iter().filter(|t| !sent.contains(t)).collect(),
        _ => return unexpected(req),
    };
    let input = TicketInput {
        tags: Some(new_tags),
        safe_update: body.safe_update,
        updated_stamp: body.updated_stamp,
        ..TicketInput::default()
    };
    if let Err(resp) = update(st, id, &input) {
        return resp;
    }
    let tags = st
        .data
        .tickets
        .get(&id)
        .map(|t| t.tags.clone())
        .unwrap_or_default();
    let status = if *method == Method::POST {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    http::json(status, &json!({ "tags": tags }))
}

/// `{"ticket": …}`, plus the `users` (requester, submitter, assignee) and `organizations`
/// that `?include=users,organizations` asks for: Zendesk's sideloading.
fn with_sideloads(sim: &ZendeskSim, st: &State, t: &Ticket, req: &Req<'_>) -> Value {
    let include = req.query.list("include").unwrap_or_default();
    let mut body = serde_json::Map::new();
    body.insert("ticket".to_owned(), json!(sim.ticket_view(t)));
    if include.iter().any(|i| i == "users") {
        let mut ids: Vec<u64> = [t.requester_id, t.submitter_id, t.assignee_id]
            .into_iter()
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let users: Vec<_> = ids
            .iter()
            .filter_map(|id| st.data.users.get(id))
            .map(|u| sim.user_view(u))
            .collect();
        body.insert("users".to_owned(), json!(users));
    }
    if include.iter().any(|i| i == "organizations") {
        let orgs: Vec<_> = t
            .organization_id
            .and_then(|id| st.data.orgs.get(&id))
            .map(|o| sim.org_view(o))
            .into_iter()
            .collect();
        body.insert("organizations".to_owned(), json!(orgs));
    }
    Value::Object(body)
}

/// A deleted ticket is gone for every endpoint but the incremental export.
fn is_deleted(t: &Ticket) -> bool {
    t.status == "deleted"
}

fn audit(ticket_id: u64, events: Vec<Value>) -> Value {
    json!({"ticket_id": ticket_id, "created_at": now_iso(), "events": events})
}

fn check_enum(attr: &str, value: Option<&str>, allowed: &[&str]) -> Result<(), Response> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(http::record_invalid(
            attr,
            &format!("{attr}: {v} is not a valid value"),
            Some("InvalidValue"),
        )),
        _ => Ok(()),
    }
}

/// Creates a ticket: without a requester, the API user (`agent`, by email; else the first
/// admin) is the requester, and the requester's org is inherited when none is given (§7.2).
pub(super) fn create(
    st: &mut State,
    input: &TicketInput,
    channel: &str,
    agent: Option<&str>,
) -> Result<u64, Response> {
    check_enum("status", input.status.as_deref(), &STATUSES)?;
    check_enum("priority", input.priority.as_deref(), &PRIORITIES)?;
    let description = input
        .comment
        .as_ref()
        .and_then(|c| c.body.clone())
        .or_else(|| input.description.clone())
        .unwrap_or_default();
    if description.trim().is_empty() {
        return Err(http::record_invalid(
            "description",
            "Description: cannot be blank",
            Some("BlankValue"),
        ));
    }
    let requester_id = input.requester_id.or_else(|| {
        agent
            .and_then(|e| st.data.user_by_email(e))
            .or_else(|| st.data.users.values().find(|u| u.role == "admin"))
            .map(|u| u.id)
    });
    if let Some(r) = input.requester_id {
        if !st.data.users.contains_key(&r) {
            return Err(http::record_invalid(
                "requester_id",
                "Requester: is invalid",
                Some("InvalidValue"),
            ));
        }
    }
    let organization_id = input.organization_id.or_else(|| {
        requester_id
            .and_then(|r| st.data.users.get(&r))
            .and_then(|u| u.organization_id)
    });
    let id = st.data.new_id();
    let now = now_iso();
    let status = input.status.clone().unwrap_or_else(|| "new".to_owned());
    let ticket = Ticket {
        url: String::new(),
        id,
        external_id: None,
        via: Via {
            channel: channel.to_owned(),
            source: ViaSource::default(),
        },
        created_at: now.clone(),
        updated_at: now,
        ticket_type: None,
        subject: input.subject.clone(),
        raw_subject: input.subject.clone(),
        description,
        priority: input.priority.clone(),
        status: status.clone(),
        recipient: None,
        requester_id,
        submitter_id: requester_id,
        assignee_id: input.assignee_id,
        organization_id,
        group_id: None,
        collaborator_ids: Vec::new(),
        follower_ids: Vec::new(),
        email_cc_ids: Vec::new(),
        problem_id: None,
        has_incidents: false,
        is_public: true,
        due_at: None,
        tags: input
            .tags
            .as_deref()
            .map(normalise_tags)
            .unwrap_or_default(),
        custom_fields: input.custom_fields.clone().unwrap_or_default(),
        fields: input.custom_fields.clone().unwrap_or_default(),
        satisfaction_rating: None,
        sharing_agreement_ids: Vec::new(),
        followup_ids: Vec::new(),
        ticket_form_id: None,
        brand_id: None,
        allow_channelback: false,
        allow_attachments: true,
    };
    st.data.tickets.insert(id, ticket);
    st.events.push((id, "created"));
    if status == "closed" {
        st.events.push((id, "closed"));
    }
    Ok(id)
}

/// Updates a ticket; returns the audit's change events.
pub(super) fn update(st: &mut State, id: u64, input: &TicketInput) -> Result<Vec<Value>, Response> {
    let Some(ticket) = st.data.tickets.get_mut(&id).filter(|t| !is_deleted(t)) else {
        return Err(http::not_found());
    };
    if ticket.status == "closed" {
        return Err(http::record_invalid(
            "status",
            "Status: closed prevents ticket update",
            None,
        ));
    }
    if input.safe_update == Some(true)
        && input.updated_stamp.as_deref() != Some(ticket.updated_at.as_str())
    {
        // [UNCONFIRMED] body (§12.9).
        return Err(http::error(
            StatusCode::CONFLICT,
            "UpdateConflict",
            "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.",
        ));
    }
    check_enum("status", input.status.as_deref(), &STATUSES)?;
    check_enum("priority", input.priority.as_deref(), &PRIORITIES)?;
    let mut events = Vec::new();
    let mut change = |field: &str, old: Value, new: Value| {
        if old != new {
            events.push(
                json!({"type": "Change", "field_name": field, "value": new, "previous_value": old}),
            );
        }
    };
    let mut closed = false;
    if let Some(s) = &input.subject {
        change("subject", json!(ticket.subject), json!(s));
        ticket.subject = Some(s.clone());
        ticket.raw_subject = Some(s.clone());
    }
    if let Some(p) = &input.priority {
        change("priority", json!(ticket.priority), json!(p));
        ticket.priority = Some(p.clone());
    }
    if let Some(s) = &input.status {
        closed = s == "closed" && ticket.status != "closed";
        change("status", json!(ticket.status), json!(s));
        ticket.status = s.clone();
    }
    if let Some(a) = input.assignee_id {
        change("assignee_id", json!(ticket.assignee_id), json!(a));
        ticket.assignee_id = Some(a);
    }
    if let Some(o) = input.organization_id {
        change("organization_id", json!(ticket.organization_id), json!(o));
        ticket.organization_id = Some(o);
    }
    if let Some(tags) = &input.tags {
        let tags = normalise_tags(tags);
        change("tags", json!(ticket.tags), json!(tags));
        ticket.tags = tags;
    }
    if let Some(values) = &input.custom_fields {
        for v in values {
            match ticket.custom_fields.iter_mut().find(|f| f.id == v.id) {
                Some(f) => f.value = v.value.clone(),
                None => ticket.custom_fields.push(v.clone()),
            }
        }
        ticket.fields = ticket.custom_fields.clone();
    }
    // `description` is read-only after creation: silently ignored (REAL, §7.3).
    ticket.updated_at = now_iso();
    if closed {
        st.events.push((id, "closed"));
    }
    Ok(events)
}
