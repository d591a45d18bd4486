//! User endpoints (§5): list with role filter, show, search by email, create,
//! create_or_update, create_many, update_many and create_or_update_many. The bulk
//! creates answer 403 when bulk import is switched off, as on accounts where it is.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::http::{self, decode};
use super::jobs::JobOp;
use super::model::UserInput;
use super::paging::{self, ListUrl, MAX_PAGE};
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

/// Routes `/api/v2/users…`.
pub(super) fn route(sim: &ZendeskSim, st: &mut State, req: &Req<'_>) -> Response {
    let base = sim.config().base_url.clone();
    match (req.method, &req.segs[2..]) {
        (&Method::GET, ["users"]) => {
            let mut roles: Vec<String> = req
                .query
                .all("role")
                .iter()
                .map(|s| s.to_string())
                .collect();
            roles.extend(req.query.all("role[]").iter().map(|s| s.to_string()));
            let items: Vec<_> = st
                .data
                .users
                .values()
                .filter(|u| roles.is_empty() || roles.contains(&u.role))
                .map(|u| (u.id, u))
                .collect();
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
        (&Method::GET, ["users", "search"]) => search(sim, st, req),
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
            if sim.config().bulk_user_create_disabled {
                // [UNCONFIRMED] body (§5.4); the status is what matters.
                return http::json(
                    StatusCode::FORBIDDEN,
                    &json!({"error": "Forbidden", "message": "Data imports are not enabled"}),
                );
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
                UpdateManyBody::Bulk { user } => {
                    let Some(ids) = req.query.list("ids") else {
                        return http::error(
                            StatusCode::BAD_REQUEST,
                            "InvalidValue",
                            "ids is required",
                        );
                    };
                    ids.iter()
                        .map(|s| (s.parse().ok(), (*user).clone()))
                        .collect()
                }
            };
            if items.len() > MAX_PAGE {
                return http::too_many_values();
            }
            sim.enqueue(st, req, JobOp::UpdateUsers(items))
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

/// `users/search?query=email:"a@b.c"` (also `email:a@b.c`) or `?external_id=`.
fn search(sim: &ZendeskSim, st: &State, req: &Req<'_>) -> Response {
    if let Some(ext) = req.query.get("external_id") {
        let found: Vec<_> = st
            .data
            .users
            .values()
            .filter(|u| u.external_id.as_deref() == Some(ext))
            .map(|u| sim.user_view(u))
            .collect();
        return paging::all(found, "users");
    }
    let Some(query) = req.query.get("query") else {
        return http::error(
            StatusCode::BAD_REQUEST,
            "InvalidValue",
            "query or external_id is required",
        );
    };
    let Some(email) = email_term(query) else {
        return http::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &format!("the Zendesk sandbox only searches users by email:\"…\", not `{query}`"),
        );
    };
    let found: Vec<_> = st
        .data
        .user_by_email(&email)
        .map(|u| sim.user_view(u))
        .into_iter()
        .collect();
    paging::all(found, "users")
}

/// The address in an `email:"…"` or `email:…` term, lowercased.
fn email_term(query: &str) -> Option<String> {
    let rest = query.split_once("email:")?.1.trim_start();
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split_whitespace().next()?,
    };
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::email_term;

    #[test]
    fn email_terms_in_both_forms() {
        assert_eq!(email_term(r#"email:"A@B.co""#).as_deref(), Some("a@b.co"));
        assert_eq!(
            email_term("type:user email:x@y.io").as_deref(),
            Some("x@y.io")
        );
        assert_eq!(email_term("name:bob"), None);
        assert_eq!(email_term(r#"email:"""#), None);
    }
}
