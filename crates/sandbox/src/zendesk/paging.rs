//! Pagination as the real API does it (§3): cursor pagination when `page[size]` is given
//! (capped at 100, `meta`/`links`, a non-null `links.next` on the last page and an empty
//! page after it), offset pagination otherwise (`next_page`, `count`, depth limit 100).

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::http::{json, ok, Query};

/// Largest page either scheme serves.
pub const MAX_PAGE: usize = 100;

fn encode_cursor(id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(r#"{{"o":"id","v":"{id}"}}"#))
}

#[derive(serde::Deserialize)]
struct Cursor {
    v: String,
}

fn decode_cursor(raw: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    let c: Cursor = serde_json::from_slice(&bytes).ok()?;
    c.v.parse().ok()
}

fn bad_param(title: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"errors": [{"code": "InvalidPaginationParameter", "title": title}]}),
    )
}

/// Where a list lives, for the links a page carries.
pub struct ListUrl<'a> {
    /// Base URL of the sandbox (`http://127.0.0.1:P`).
    pub base: &'a str,
    /// Path such as `/api/v2/organizations.json`.
    pub path: &'a str,
    /// Filter parameters to repeat in the links.
    pub extra: Vec<(String, String)>,
}

impl ListUrl<'_> {
    fn link(&self, params: &[(&str, String)]) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.extra {
            ser.append_pair(k, v);
        }
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        format!("{}{}?{}", self.base, self.path, ser.finish())
    }
}

/// For a forward cursor page (`page[size]`, maybe `page[after]`): the id the page starts
/// after and how many records it needs (its size and one more, to know whether more
/// follow), so a big list is not collected whole for each page. `None` when the whole
/// list is needed: offset pages, `page[before]`, or a parameter that must be refused.
pub fn forward_window(q: &Query) -> Option<(Option<u64>, usize)> {
    let size = q
        .get("page[size]")?
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)?;
    if q.get("page[before]").is_some() {
        return None;
    }
    let after = match q.get("page[after]") {
        None => None,
        Some(raw) => Some(decode_cursor(raw)?),
    };
    Some((after, size.min(MAX_PAGE) + 1))
}

/// Answers one page of `items` (sorted by id) under the plural `key`; only the records
/// on the page go through `view` (the wire form), so a page costs little on big accounts.
pub fn page<T, V: Serialize>(
    items: Vec<(u64, T)>,
    view: impl Fn(T) -> V,
    key: &str,
    q: &Query,
    url: &ListUrl<'_>,
) -> Response {
    let cursor_mode = q.get("page[size]").is_some()
        || q.get("page[after]").is_some()
        || q.get("page[before]").is_some();
    if cursor_mode {
        cursor_page(items, view, key, q, url)
    } else {
        offset_page(items, view, key, q, url)
    }
}

fn cursor_page<T, V: Serialize>(
    items: Vec<(u64, T)>,
    view: impl Fn(T) -> V,
    key: &str,
    q: &Query,
    url: &ListUrl<'_>,
) -> Response {
    let size = match q.get("page[size]").map(str::parse::<usize>) {
        None => MAX_PAGE,
        Some(Ok(n)) if n > 0 => n.min(MAX_PAGE),
        Some(_) => return bad_param("page[size] must be a positive integer"),
    };
    let slice: Vec<(u64, T)>;
    let has_more;
    if let Some(raw) = q.get("page[before]") {
        let Some(before) = decode_cursor(raw) else {
            return bad_param("invalid page[before] cursor");
        };
        let mut older: Vec<(u64, T)> = items.into_iter().filter(|(id, _)| *id < before).collect();
        has_more = older.len() > size;
        let start = older.len().saturating_sub(size);
        slice = older.drain(start..).collect();
    } else {
        let after = match q.get("page[after]") {
            None => None,
            Some(raw) => match decode_cursor(raw) {
                Some(id) => Some(id),
                None => return bad_param("invalid page[after] cursor"),
            },
        };
        let mut rest: Vec<(u64, T)> = items
            .into_iter()
            .filter(|(id, _)| after.is_none_or(|a| *id > a))
            .collect();
        has_more = rest.len() > size;
        rest.truncate(size);
        slice = rest;
    }
    let size_s = size.to_string();
    let (after_cursor, before_cursor, next, prev) = match (slice.first(), slice.last()) {
        (Some((first, _)), Some((last, _))) => {
            let a = encode_cursor(*last);
            let b = encode_cursor(*first);
            // The real API keeps a next link on the last page; following it gives an
            // empty page with null cursors (§3.1).
            let next = url.link(&[("page[after]", a.clone()), ("page[size]", size_s.clone())]);
            let prev = url.link(&[("page[before]", b.clone()), ("page[size]", size_s)]);
            (
                Value::String(a),
                Value::String(b),
                Value::String(next),
                Value::String(prev),
            )
        }
        _ => (Value::Null, Value::Null, Value::Null, Value::Null),
    };
    let records: Vec<V> = slice.into_iter().map(|(_, t)| view(t)).collect();
    let mut body = Map::new();
    body.insert(key.to_owned(), json!(records));
    body.insert(
        "meta".to_owned(),
        json!({"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor}),
    );
    body.insert("links".to_owned(), json!({"prev": prev, "next": next}));
    ok(&body)
}

fn offset_page<T, V: Serialize>(
    items: Vec<(u64, T)>,
    view: impl Fn(T) -> V,
    key: &str,
    q: &Query,
    url: &ListUrl<'_>,
) -> Response {
    let page = match q.get("page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return bad_param("page must be a positive integer"),
    };
    let per_page = match q.get("per_page").map(str::parse::<usize>) {
        None => MAX_PAGE,
        Some(Ok(n)) if n > 0 => n.min(MAX_PAGE),
        Some(_) => return bad_param("per_page must be a positive integer"),
    };
    if page > 100 || page * per_page > 10_000 {
        return json(
            StatusCode::BAD_REQUEST,
            &json!({"errors": [{"code": "InvalidPaginationDepth",
                "title": "Pagination requests using Offset Pagination are limited to page 100 or up to 10000 records (page * per_page)",
                "detail": "There are limits to how deep offset pagination can go. Use cursor pagination instead."}]}),
        );
    }
    let count = items.len();
    let records: Vec<V> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(_, t)| view(t))
        .collect();
    let pp = per_page.to_string();
    let next = if page * per_page < count {
        Value::String(url.link(&[("page", (page + 1).to_string()), ("per_page", pp.clone())]))
    } else {
        Value::Null
    };
    let prev = if page > 1 {
        Value::String(url.link(&[("page", (page - 1).to_string()), ("per_page", pp)]))
    } else {
        Value::Null
    };
    let mut body = Map::new();
    body.insert(key.to_owned(), json!(records));
    body.insert("next_page".to_owned(), next);
    body.insert("previous_page".to_owned(), prev);
    body.insert("count".to_owned(), json!(count));
    ok(&body)
}

/// A one-shot list envelope (`show_many`, search): all records, no further pages.
pub fn all<T: Serialize>(records: Vec<T>, key: &str) -> Response {
    let count = records.len();
    let mut body = Map::new();
    body.insert(key.to_owned(), json!(records));
    body.insert("next_page".to_owned(), Value::Null);
    body.insert("previous_page".to_owned(), Value::Null);
    body.insert("count".to_owned(), json!(count));
    ok(&body)
}
