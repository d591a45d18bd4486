//! User endpoints (§5): list with role filter, count (a cached, approximate value),
//! show, `me`, show_many, search (in `search.rs`), create, update, delete (soft: the user
//! moves to `deleted_users`), create_or_update, create_many, update_many (batch, `ids=`
//! and `external_ids=` forms) and create_or_update_many; and the deleted users (§5.12):
//! list, count, show, permanent deletion. The bulk creates answer 403 when bulk import
//! is switched off, as on accounts where it is.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};
use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::http::{self, decode, now_iso};
use super::jobs::JobOp;
use super::model::{User, UserInput};
use super::paging::{self, ListUrl, MAX_PAGE};
use super::quirks::{User403, FORBIDDEN_BODY};
use super::store::Data;
use super::{unexpected, Req, State, ZendeskSim};

#[derive(Deserialize)]
struct One {
    user: UserInput,
}

#[derive(Deserialize)]
struct Many {
    users: Vec<UserInput>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UpdateManyBody {
    Batch { users: Vec<UserInput> },
    Bulk { user: Box<UserInput> },
}

/// The cached answer of `users/count`: the number of users by role when it was last
/// taken (§5.11: a cached estimate on big accounts, refreshed about daily).
#[derive(Debug, Clone)]
pub(super) struct UserCount {
    taken: Instant,
    refreshed_at: String,
    by_role: BTreeMap<String, u64>,
}

impl UserCount {
    /// Counts the users of `data` now.
    pub(super) fn take(data: &Data) -> UserCount {
        let mut by_role = BTreeMap::new();
        for u in data.users.values() {
            *by_role.entry(u.role.clone()).or_insert(0) += 1;
        }
        UserCount {
            taken: Instant::now(),
            refreshed_at: now_iso(),
            by_role,
        }
    }
}

/// The `role` and `role[]` filters of a list or count.
fn roles(req: &Req<'_>) -> Vec<String> {
    let mut roles: Vec<String> = req
        .query
        .all("role")
        .iter()
        .map(|s| s.to_string())
        .collect();
    roles.extend(req.query.all("role[]").iter().map(|s| s.to_string()));
    roles
}

/// Zendesk's generic 403.
fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        FORBIDDEN_BODY,
    )
        .into_response()
}

/// Routes `/api/v2/users…`.
pub(super) fn route(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    let base = sim.config().base_url.clone();
    if st.quirks.user_403 == User403::NoPermission && req.method != Method::GET {
        return forbidden();
    }
    match (req.method, &req.segs[2..]) {
        (&Method::GET, ["users", "count"]) => {
            let roles = roles(req);
            if st.user_count.taken.elapsed() >= sim.config().users_count_refresh {
                st.user_count = UserCount::take(&st.data);
            }
            let value: u64 = st
                .user_count
                .by_role
                .iter()
                .filter(|(role, _)| roles.is_empty() || roles.contains(role))
                .map(|(_, n)| n)
                .sum();
            http::ok(
                &json!({"count": {"value": value, "refreshed_at": st.user_count.refreshed_at}}),
            )
        }
        (&Method::GET, ["users"]) => {
            let roles = roles(req);
            let wanted = |u: &&User| roles.is_empty() || roles.contains(&u.role);
            let items: Vec<_> = match paging::forward_window(&req.query) {
                // A forward cursor page reads only what it shows (scans of 100k users).
                Some((after, need)) => st
                    .data
                    .users
                    .range((after.map_or(Unbounded, Excluded), Unbounded))
                    .map(|(_, u)| u)
                    .filter(wanted)
                    .take(need)
                    .map(|u| (u.id, u))
                    .collect(),
                None => st
                    .data
                    .users
                    .values()
                    .filter(wanted)
                    .map(|u| (u.id, u))
                    .collect(),
            };
            let extra = roles
                .into_iter()
                .map(|r| ("role[]".to_owned(), r))
                .collect();
            let url = ListUrl {
                base: &base,
                path: "/api/v2/users.json",
                extra,
            };
            paging::page(items, |u| sim.user_view(u), "users", &req.query, &url)
        }
        (&Method::GET, ["users", "search"]) => super::search::users(sim, st, req),
        (&Method::POST, ["users"]) => {
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            match st.data.create_user(&body.user) {
                Ok(id) => created(sim, st, id),
                Err(e) => http::record_invalid(e.attr, &e.description, e.code),
            }
        }
        (&Method::POST, ["users", "create_or_update"]) => {
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            let existing = body
                .user
                .email
                .as_deref()
                .and_then(|e| st.data.user_by_email(e))
                .or_else(|| {
                    let ext = body.user.external_id.as_deref()?;
                    st.data.users.values().find(|u| {
                        u.external_id
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(ext))
                    })
                })
                .map(|u| u.id);
            match existing {
                Some(id) => match st.data.update_user(id, &body.user) {
                    Some(Ok(())) | None => {
                        let user = st.data.users.get(&id).map(|u| sim.user_view(u));
                        let mut resp = http::ok(&json!({"user": user}));
                        set_location(&mut resp, &format!("{base}/api/v2/users/{id}.json"));
                        resp
                    }
                    Some(Err(e)) => http::record_invalid(e.attr, &e.description, e.code),
                },
                None => match st.data.create_user(&body.user) {
                    Ok(id) => created(sim, st, id),
                    Err(e) => http::record_invalid(e.attr, &e.description, e.code),
                },
            }
        }
        (&Method::POST, ["users", op @ ("create_many" | "create_or_update_many")]) => {
            match st.quirks.user_403 {
                User403::Default if sim.config().bulk_user_create_disabled => {
                    // [UNCONFIRMED] body (§5.4); the status is what matters.
                    return http::json(
                        StatusCode::FORBIDDEN,
                        &json!({"error": "Forbidden", "message": "Data imports are not enabled"}),
                    );
                }
                User403::BulkOtherBody => return forbidden(),
                User403::Default | User403::NoPermission => {}
            }
            let body: Many = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            if body.users.len() > MAX_PAGE {
                return http::too_many_users();
            }
            let job = if *op == "create_many" {
                JobOp::CreateUsers(body.users)
            } else {
                JobOp::CreateOrUpdateUsers(body.users)
            };
            sim.enqueue(st, req, job)
        }
        (&Method::PUT, ["users", "update_many"]) => {
            let body: UpdateManyBody = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            let items: Vec<(Option<u64>, UserInput)> = match body {
                UpdateManyBody::Batch { users } => users.into_iter().map(|u| (u.id, u)).collect(),
                UpdateManyBody::Bulk { user } => match target_ids(st, req) {
                    Ok(ids) => ids.into_iter().map(|id| (id, (*user).clone())).collect(),
                    Err(resp) => return resp,
                },
            };
            if items.len() > MAX_PAGE {
                return http::too_many_values();
            }
            sim.enqueue(st, req, JobOp::UpdateUsers(items))
        }
        (&Method::GET, ["users", "show_many"]) => {
            let ids = match target_ids(st, req) {
                Ok(ids) => ids,
                Err(resp) => return resp,
            };
            let found: Vec<_> = ids
                .into_iter()
                .flatten()
                .filter_map(|id| st.data.users.get(&id))
                .map(|u| sim.user_view(u))
                .collect();
            paging::all(found, "users")
        }
        (&Method::GET, ["users", "me"]) => {
            // The agent the credentials name; a bearer token stands for the first admin.
            let me = req
                .agent_email
                .as_deref()
                .and_then(|e| st.data.user_by_email(e))
                .or_else(|| st.data.users.values().find(|u| u.role == "admin"));
            match me {
                Some(u) => http::ok(&json!({"user": sim.user_view(u)})),
                None => http::not_found(),
            }
        }
        (&Method::PUT, ["users", id]) => {
            let Some(id) = id.parse::<u64>().ok() else {
                return http::not_found();
            };
            let body: One = match decode(req.body) {
                Ok(b) => b,
                Err(resp) => return resp,
            };
            match st.data.update_user(id, &body.user) {
                None => http::not_found(),
                Some(Err(e)) => http::record_invalid(e.attr, &e.description, e.code),
                Some(Ok(())) => {
                    let user = st.data.users.get(&id).map(|u| sim.user_view(u));
                    http::ok(&json!({"user": user}))
                }
            }
        }
        (&Method::DELETE, ["users", id]) => {
            match id
                .parse::<u64>()
                .ok()
                .and_then(|id| st.data.delete_user(id))
            {
                Some(u) => http::ok(&json!({"user": sim.user_view(u)})),
                None => http::not_found(),
            }
        }
        (&Method::GET, ["users", id]) => {
            match id.parse::<u64>().ok().and_then(|id| st.data.users.get(&id)) {
                Some(u) => http::ok(&json!({"user": sim.user_view(u)})),
                None => http::not_found(),
            }
        }
        _ => unexpected(req),
    }
}

/// The wire form of a deleted user (§5.12).
fn deleted_view(sim: &ZendeskSim, u: &User) -> serde_json::Value {
    json!({
        "id": u.id,
        "url": format!("{}/api/v2/deleted_users/{}.json", sim.config().base_url, u.id),
        "name": u.name,
        "email": u.email,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
        "time_zone": u.time_zone,
        "iana_time_zone": u.iana_time_zone,
        "phone": u.phone,
        "shared_phone_number": null,
        "photo": null,
        "locale_id": u.locale_id,
        "locale": u.locale,
        "organization_id": u.organization_id,
        "role": u.role,
        "active": false,
    })
}

/// Routes `/api/v2/deleted_users…` (§5.12): the list (cursor or offset pages, 100 at
/// most), `count`, show, and `DELETE` (permanent deletion: the email goes).
pub(super) fn deleted(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    match (req.method, &req.segs[2..]) {
        (&Method::GET, ["deleted_users"]) => {
            let items: Vec<_> = st.data.deleted_users.values().map(|u| (u.id, u)).collect();
            let base = sim.config().base_url.clone();
            let url = ListUrl {
                base: &base,
                path: "/api/v2/deleted_users.json",
                extra: Vec::new(),
            };
            paging::page(
                items,
                |u| deleted_view(sim, u),
                "deleted_users",
                &req.query,
                &url,
            )
        }
        (&Method::GET, ["deleted_users", "count"]) => http::ok(&json!({"count": {
            "value": st.data.deleted_users.len(),
            "refreshed_at": now_iso(),
        }})),
        (&Method::GET, ["deleted_users", id]) => {
            match id
                .parse::<u64>()
                .ok()
                .and_then(|id| st.data.deleted_users.get(&id))
            {
                Some(u) => http::ok(&json!({"deleted_user": deleted_view(sim, u)})),
                None => http::not_found(),
            }
        }
        (&Method::DELETE, ["deleted_users", id]) => {
            match id
                .parse::<u64>()
                .ok()
                .and_then(|id| st.data.purge_deleted_user(id))
            {
                Some(u) => http::ok(&json!({"deleted_user": deleted_view(sim, u)})),
                None => http::not_found(),
            }
        }
        _ => unexpected(req),
    }
}

/// Resolves `?ids=` or `?external_ids=` (§5.5, §5.8) to user ids; `None` for an id or
/// external id that names no user, so a job can report that row as not found.
fn target_ids(st: &State, req: &Req<'_>) -> Result<Vec<Option<u64>>, Response> {
    let ids: Vec<Option<u64>> = if let Some(ids) = req.query.list("ids") {
        ids.iter().map(|s| s.parse().ok()).collect()
    } else if let Some(ext) = req.query.list("external_ids") {
        ext.iter()
            .map(|e| {
                st.data
                    .users
                    .values()
                    .find(|u| {
                        u.external_id
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(e))
                    })
                    .map(|u| u.id)
            })
            .collect()
    } else {
        return Err(http::error(
            StatusCode::BAD_REQUEST,
            "InvalidValue",
            "ids or external_ids is required",
        ));
    };
    if ids.len() > MAX_PAGE {
        return Err(http::too_many_values());
    }
    Ok(ids)
}

fn set_location(resp: &mut Response, location: &str) {
    if let Ok(v) = axum::http::HeaderValue::from_str(location) {
        resp.headers_mut().insert(axum::http::header::LOCATION, v);
    }
}

fn created(sim: &ZendeskSim, st: &State, id: u64) -> Response {
    let user = st.data.users.get(&id).map(|u| sim.user_view(u));
    let location = format!("{}/api/v2/users/{id}.json", sim.config().base_url);
    http::created(&location, &json!({"user": user}))
}
