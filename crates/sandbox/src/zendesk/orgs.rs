//! Organization endpoints (§4): list, show, show_many, search, create, update, create_many,
//! update_many (batch and `ids=` forms), destroy_many and an org's users.

use std::ops::Bound::{Excluded, Unbounded};

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::http::{self, decode};
use super::jobs::JobOp;
use super::model::OrganizationInput;
use super::paging::{self, ListUrl, MAX_PAGE};
use super::{unexpected, Req, State, ZendeskSim};

#[derive(Deserialize)]
struct One {
    organization: OrganizationInput,
}

#[derive(Deserialize)]
struct Many {
    organizations: Vec<OrganizationInput>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UpdateManyBody {
    Batch {
        organizations: Vec<OrganizationInput>,
    },
    Bulk {
        organization: Box<OrganizationInput>,
    },
}

/// Routes `/api/v2/organizations…`.
pub(super) fn route(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    let base = sim.config().base_url.clone();
    match (req.method, &req.segs[2..]) {
        (&Method::GET, ["organizations"]) => {
            let items: Vec<_> = match paging::forward_window(&req.query) {
                // A forward cursor page reads only what it shows.
                Some((after, need)) => st
                    .data
                    .orgs
                    .range((after.map_or(Unbounded, Excluded), Unbounded))
                    .take(need)
                    .map(|(id, o)| (*id, o))
                    .collect(),
                None => st.data.orgs.values().map(|o| (o.id, o)).collect(),
            };
            let url = ListUrl {
                base: &base,
                path: "/api/v2/organizations.json",
                extra: Vec::new(),
            };
            paging::page(
                items,
                |o| sim.org_view(o),
                "organizations",
                &req.query,
                &url,
            )
        }
        (&Method::GET, ["organizations", "show_many"]) => show_many(sim, st, req),
        (&Method::GET, ["organizations", "search"]) => search(sim, st, req),
        (&Method::POST, ["organizations", "create_or_update"]) => create_or_update(sim, st, req),
        (method, ["organizations", id, "tags"]) => {
            let Some(id) = parse_id(id).filter(|id| st.data.orgs.contains_key(id)) else {
                return http::not_found();
            };
            tags(st, id, method, req)
        }
        (&Method::POST, ["organizations"]) => {
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            match st.data.create_org(&body.organization) {
                Ok(id) => {
                    let org = st.data.orgs.get(&id).map(|o| sim.org_view(o));
                    let location = format!("{base}/api/v2/organizations/{id}.json");
                    http::created(&location, &json!({"organization": org}))
                }
                Err(e) => http::record_invalid(e.attr, &e.description, e.code),
            }
        }
        (&Method::POST, ["organizations", "create_many"]) => {
            let body: Many = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            if body.organizations.len() > MAX_PAGE {
                return http::too_many_values();
            }
            sim.enqueue(st, req, JobOp::CreateOrgs(body.organizations))
        }
        (&Method::PUT, ["organizations", "update_many"]) => update_many(sim, st, req),
        (&Method::DELETE, ["organizations", "destroy_many"]) => {
            let ids = match target_ids(st, req) {
                Ok(ids) => ids,
                Err(resp) => return resp,
            };
            // Unknown external ids cannot be deleted; ids are kept for a RecordNotFound row.
            let ids: Vec<u64> = ids.into_iter().map(|id| id.unwrap_or(0)).collect();
            sim.enqueue(st, req, JobOp::DestroyOrgs(ids))
        }
        (&Method::GET, ["organizations", id]) => {
            match parse_id(id).and_then(|id| st.data.orgs.get(&id)) {
                Some(o) => http::ok(&json!({"organization": sim.org_view(o)})),
                None => http::not_found(),
            }
        }
        (&Method::PUT, ["organizations", id]) => {
            let Some(id) = parse_id(id) else {
                return http::not_found();
            };
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            match st.data.update_org(id, &body.organization) {
                None => http::not_found(),
                Some(Err(e)) => http::record_invalid(e.attr, &e.description, e.code),
                Some(Ok(())) => {
                    let org = st.data.orgs.get(&id).map(|o| sim.org_view(o));
                    http::ok(&json!({"organization": org}))
                }
            }
        }
        (&Method::DELETE, ["organizations", id]) => {
            match parse_id(id).and_then(|id| st.data.remove_org(id)) {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => http::not_found(),
            }
        }
        (&Method::GET, ["organizations", id, "users"]) => {
            let Some(id) = parse_id(id).filter(|id| st.data.orgs.contains_key(id)) else {
                return http::not_found();
            };
            let items: Vec<_> = st
                .data
                .users
                .values()
                .filter(|u| u.organization_id == Some(id))
                .map(|u| (u.id, u))
                .collect();
            let path = format!("/api/v2/organizations/{id}/users.json");
            let url = ListUrl {
                base: &base,
                path: &path,
                extra: Vec::new(),
            };
            paging::page(items, |u| sim.user_view(u), "users", &req.query, &url)
        }
        _ => unexpected(req),
    }
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

/// Resolves `?ids=` or `?external_ids=` to org ids (`None` for an unknown external id).
fn target_ids(st: &State, req: &Req<'_>) -> Result<Vec<Option<u64>>, Response> {
    let bad = |what: &str| http::error(StatusCode::BAD_REQUEST, "InvalidValue", what);
    let ids = if let Some(ids) = req.query.list("ids") {
        ids.iter()
            .map(|s| {
                s.parse::<u64>()
                    .map(Some)
                    .map_err(|_| bad(&format!("ids: `{s}` is not an id")))
            })
            .collect::<Result<Vec<_>, _>>()?
    } else if let Some(ext) = req.query.list("external_ids") {
        ext.iter()
            .map(|e| {
                st.data
                    .orgs
                    .values()
                    .find(|o| {
                        o.external_id
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(e))
                    })
                    .map(|o| o.id)
            })
            .collect()
    } else {
        return Err(bad("ids or external_ids is required"));
    };
    if ids.len() > MAX_PAGE {
        return Err(http::too_many_values());
    }
    Ok(ids)
}

fn show_many(sim: &ZendeskSim, st: &State, req: &Req<'_>) -> Response {
    let ids = match target_ids(st, req) {
        Ok(ids) => ids,
        Err(resp) => return resp,
    };
    let mut found: Vec<_> = ids
        .into_iter()
        .flatten()
        .filter_map(|id| st.data.orgs.get(&id))
        .map(|o| sim.org_view(o))
        .collect();
    // The real answer is not in request order (it came back sorted by name, §4.3).
    found.sort_by_key(|o| o.name.to_lowercase());
    found.dedup_by_key(|o| o.id);
    paging::all(found, "organizations")
}

/// `organizations/search?external_id=` or `?name=`, exact and case-insensitive, not both
/// (§4.13); the offset list envelope.
fn search(sim: &ZendeskSim, st: &State, req: &Req<'_>) -> Response {
    let by: Box<dyn Fn(&super::model::Organization) -> bool> =
        match (req.query.get("external_id"), req.query.get("name")) {
            (Some(ext), None) => Box::new(move |o| {
                o.external_id
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(ext))
            }),
            (None, Some(name)) => Box::new(move |o| o.name.eq_ignore_ascii_case(name.trim())),
            _ => {
                return http::error(
                    StatusCode::BAD_REQUEST,
                    "InvalidValue",
                    "give external_id or name, not both",
                )
            }
        };
    let found: Vec<_> = st
        .data
        .orgs
        .values()
        .filter(|o| by(o))
        .map(|o| sim.org_view(o))
        .collect();
    paging::all(found, "organizations")
}

fn update_many(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    let body: UpdateManyBody = match decode(req.body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let items = match body {
        UpdateManyBody::Batch { organizations } => {
            if organizations.len() > MAX_PAGE {
                return http::too_many_values();
            }
            organizations.into_iter().map(|o| (o.id, o)).collect()
        }
        UpdateManyBody::Bulk { organization } => match target_ids(st, req) {
            Ok(ids) => ids
                .into_iter()
                .map(|id| (id, (*organization).clone()))
                .collect(),
            Err(resp) => return resp,
        },
    };
    sim.enqueue(st, req, JobOp::UpdateOrgs(items))
}

/// `create_or_update`: matches only on `id` or `external_id`, never on name (§4.7);
/// 200 when it updated, 201 when it created.
fn create_or_update(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    let body: One = match decode(req.body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let input = body.organization;
    let existing = input
        .id
        .filter(|id| st.data.orgs.contains_key(id))
        .or_else(|| {
            let ext = input.external_id.as_deref()?;
            st.data
                .orgs
                .values()
                .find(|o| {
                    o.external_id
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(ext))
                })
                .map(|o| o.id)
        });
    let base = &sim.config().base_url;
    match existing {
        Some(id) => match st.data.update_org(id, &input) {
            Some(Err(e)) => http::record_invalid(e.attr, &e.description, e.code),
            _ => {
                let org = st.data.orgs.get(&id).map(|o| sim.org_view(o));
                http::ok(&json!({"organization": org}))
            }
        },
        None => match st.data.create_org(&input) {
            Ok(id) => {
                let org = st.data.orgs.get(&id).map(|o| sim.org_view(o));
                http::created(
                    &format!("{base}/api/v2/organizations/{id}.json"),
                    &json!({"organization": org}),
                )
            }
            Err(e) => http::record_invalid(e.attr, &e.description, e.code),
        },
    }
}

#[derive(Deserialize)]
struct Tags {
    tags: Vec<String>,
}

/// `organizations/{id}/tags` (§4.12): GET lists, POST sets (replaces), PUT adds, DELETE
/// removes. Writes go through the same path as an update, so option tags move fields.
fn tags(st: &mut State, id: u64, method: &Method, req: &Req<'_>) -> Response {
    let current = st
        .data
        .orgs
        .get(&id)
        .map(|o| o.tags.clone())
        .unwrap_or_default();
    if method == Method::GET {
        return http::ok(&json!({"tags": current}));
    }
    let body: Tags = match decode(req.body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let new_tags: Vec<String> = match *method {
        Method::POST => body.tags,
        Method::PUT => current.into_iter().chain(body.tags).collect(),
        Method::DELETE => {
            let remove: Vec<String> = body.tags.iter().map(|t| t.trim().to_lowercase()).collect();
            current
                .into_iter()
                .filter(|t| !remove.contains(t))
                .collect()
        }
        _ => return unexpected(req),
    };
    let input = OrganizationInput {
        tags: Some(new_tags),
        ..OrganizationInput::default()
    };
    let _ = st.data.update_org(id, &input);
    let tags = st
        .data
        .orgs
        .get(&id)
        .map(|o| o.tags.clone())
        .unwrap_or_default();
    let status = if *method == Method::POST {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    http::json(status, &json!({"tags": tags}))
}
