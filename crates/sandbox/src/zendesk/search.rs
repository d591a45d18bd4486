//! Search as the simulator serves it (§4.13, §5.8): `users/search?query=` in the forms
//! clients send (a bare email or name, `email:"…"`, `email:…`, `name:`, `external_id:`,
//! `role:`, `type:user`), and the general `search?query=type:user|organization …` with its
//! `results[]` envelope, each record tagged with `result_type`. Only these terms are
//! simulated; any other is refused with a message naming it, never silently ignored.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::http;
use super::model::{Organization, User};
use super::paging;
use super::{Req, State, ZendeskSim};

/// One search term: `key:value` (the value may be quoted) or a bare word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Term {
    /// `key:value`, key lowercased, quotes removed.
    Field(String, String),
    /// A word with no key.
    Bare(String),
}

/// Splits a query into terms; double quotes group words (`name:"Ada Lovelace"`).
pub(super) fn terms(query: &str) -> Vec<Term> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
        .into_iter()
        .map(|w| match w.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains('@') => {
                Term::Field(k.to_lowercase(), v.trim().to_owned())
            }
            _ => Term::Bare(w),
        })
        .collect()
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn eq_ci(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// Whether `u` matches every term; `Err` names a term the simulator does not support.
fn user_matches(u: &User, terms: &[Term]) -> Result<bool, String> {
    for t in terms {
        let ok = match t {
            Term::Field(k, v) => match k.as_str() {
                "type" => v == "user",
                "email" => eq_ci(u.email.as_deref(), v),
                "name" => contains_ci(&u.name, v),
                "external_id" => eq_ci(u.external_id.as_deref(), v),
                "role" => u.role.eq_ignore_ascii_case(v),
                "organization_id" => u.organization_id.map(|o| o.to_string()).as_deref() == Some(v),
                "tags" | "tag" => u.tags.iter().any(|x| x.eq_ignore_ascii_case(v)),
                _ => return Err(format!("{k}:{v}")),
            },
            // A bare address matches the email exactly; other words the name or email.
            Term::Bare(w) if w.contains('@') => eq_ci(u.email.as_deref(), w),
            Term::Bare(w) => {
                contains_ci(&u.name, w) || u.email.as_deref().is_some_and(|e| contains_ci(e, w))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `o` matches every term; custom fields are searched as `<field_key>:value`.
fn org_matches(o: &Organization, terms: &[Term]) -> Result<bool, String> {
    for t in terms {
        let ok = match t {
            Term::Field(k, v) => match k.as_str() {
                "type" => v == "organization",
                "name" => contains_ci(&o.name, v),
                "external_id" => eq_ci(o.external_id.as_deref(), v),
                "tags" | "tag" => o.tags.iter().any(|x| x.eq_ignore_ascii_case(v)),
                key => match o.organization_fields.get(key) {
                    Some(Value::String(s)) => s.eq_ignore_ascii_case(v),
                    Some(Value::Null) => false,
                    Some(Value::Number(n)) => n.as_f64() == v.parse::<f64>().ok(),
                    Some(Value::Bool(b)) => v.parse::<bool>() == Ok(*b),
                    Some(_) => false,
                    None => return Err(format!("{k}:{v}")),
                },
            },
            Term::Bare(w) => contains_ci(&o.name, w),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn unsupported(term: &str) -> Response {
    http::error(
        StatusCode::BAD_REQUEST,
        "UnsupportedSearchTerm",
        &format!("the Zendesk sandbox does not simulate the search term `{term}`"),
    )
}

fn query<'a>(req: &'a Req<'_>) -> Result<&'a str, Response> {
    req.query
        .get("query")
        .ok_or_else(|| http::error(StatusCode::BAD_REQUEST, "InvalidValue", "query is required"))
}

/// `users/search?query=…` (or `?external_id=`, exact): the users list envelope.
pub(super) fn users(sim: &ZendeskSim, st: &State, req: &Req<'_>) -> Response {
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
    let terms = match query(req) {
        Ok(q) => terms(q),
        Err(resp) => return resp,
    };
    let mut found = Vec::new();
    for u in st.data.users.values() {
        match user_matches(u, &terms) {
            Ok(true) => found.push(sim.user_view(u)),
            Ok(false) => {}
            Err(term) => return unsupported(&term),
        }
    }
    paging::all(found, "users")
}

/// The records of one `result_type` matching every term, each tagged with its type;
/// `Err` names a term this type cannot be searched by.
fn matching(
    sim: &ZendeskSim,
    st: &State,
    kind: &str,
    terms: &[Term],
) -> Result<Vec<Value>, String> {
    let tag = |mut v: Value| {
        if let Value::Object(m) = &mut v {
            m.insert("result_type".to_owned(), json!(kind));
        }
        v
    };
    let mut found = Vec::new();
    if kind == "user" {
        for u in st.data.users.values() {
            if user_matches(u, terms)? {
                found.push(tag(json!(sim.user_view(u))));
            }
        }
    } else {
        for o in st.data.orgs.values() {
            if org_matches(o, terms)? {
                found.push(tag(json!(sim.org_view(o))));
            }
        }
    }
    Ok(found)
}

/// `search?query=…`: users and organizations (or one `type:`), each with `result_type`.
/// Without `type:`, a term only one type has (`email:`) just rules the other type out.
pub(super) fn general(sim: &ZendeskSim, st: &State, req: &Req<'_>) -> Response {
    let terms = match query(req) {
        Ok(q) => terms(q),
        Err(resp) => return resp,
    };
    let wanted = terms.iter().find_map(|t| match t {
        Term::Field(k, v) if k == "type" => Some(v.to_lowercase()),
        _ => None,
    });
    let kinds: Vec<&str> = match wanted.as_deref() {
        None => vec!["user", "organization"],
        Some(w @ ("user" | "organization")) => vec![w],
        Some(w) => return unsupported(&format!("type:{w}")),
    };
    let mut results: Vec<Value> = Vec::new();
    let mut refused = None;
    let mut searched = false;
    for kind in kinds {
        match matching(sim, st, kind, &terms) {
            Ok(found) => {
                searched = true;
                results.extend(found);
            }
            Err(term) => refused = refused.or(Some(term)),
        }
    }
    if let (false, Some(term)) = (searched, refused) {
        return unsupported(&term);
    }
    let count = results.len();
    http::ok(&json!({
        "results": results,
        "facets": null,
        "next_page": null,
        "previous_page": null,
        "count": count,
    }))
}

#[cfg(test)]
mod tests {
    use super::{terms, Term};

    #[test]
    fn terms_in_the_forms_clients_send() {
        assert_eq!(
            terms(r#"type:user email:"A@B.co""#),
            vec![
                Term::Field("type".into(), "user".into()),
                Term::Field("email".into(), "A@B.co".into())
            ]
        );
        assert_eq!(
            terms("ada@example.com"),
            vec![Term::Bare("ada@example.com".into())]
        );
        assert_eq!(
            terms(r#"name:"Ada Lovelace"  x"#),
            vec![
                Term::Field("name".into(), "Ada Lovelace".into()),
                Term::Bare("x".into())
            ]
        );
        assert_eq!(terms("  "), Vec::<Term>::new());
    }
}
