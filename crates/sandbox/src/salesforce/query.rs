//! `query`, `queryAll` and queryMore: runs a query, keeps a cursor of the matching
//! rows, and renders pages in the REST shape (reference §3.2–3.6, §4.5): `totalSize`
//! on every page, no `nextRecordsUrl` key on the last one, children counted toward the
//! page size, child sets larger than the child page size paged through their own cursor.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::eval::{self, RItem, Resolved};
use super::soql::{self, SoqlError};
use super::SimState;

/// How many cursors are kept (least recently used dropped first).
const MAX_CURSORS: usize = 256;

/// A query locator's saved state.
#[derive(Debug, Clone)]
pub struct Cursor {
    query: Arc<Resolved>,
    /// `None`: top-level rows; `Some(i)`: rows of the child subquery at select item `i`.
    sub: Option<usize>,
    rows: Arc<Vec<usize>>,
    all_rows: bool,
}

/// A failed query call: HTTP status and `errorCode`/`message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 400 for everything here.
    pub status: u16,
    /// `errorCode`.
    pub code: &'static str,
    /// `message`.
    pub message: String,
}

impl From<SoqlError> for QueryError {
    fn from(e: SoqlError) -> Self {
        QueryError {
            status: 400,
            code: e.code,
            message: e.message,
        }
    }
}

fn new_cursor(state: &mut SimState, cursor: Cursor) -> String {
    state.next_cursor += 1;
    let id = format!("01gSIM{:012}", state.next_cursor);
    state.cursors.insert(id.clone(), cursor);
    state.cursor_order.push_back(id.clone());
    while state.cursor_order.len() > MAX_CURSORS {
        if let Some(old) = state.cursor_order.pop_front() {
            state.cursors.remove(&old);
        }
    }
    id
}

/// Runs `text` and returns the first page.
pub fn run(
    state: &mut SimState,
    text: &str,
    version: &str,
    all_rows: bool,
    page_size: usize,
) -> Result<Value, QueryError> {
    let parsed = soql::parse(text)?;
    let resolved = Arc::new(eval::resolve(&parsed, text)?);
    let rows = Arc::new(resolved.run(&state.store, all_rows));
    let cursor = Cursor {
        query: resolved,
        sub: None,
        rows,
        all_rows,
    };
    Ok(page(state, cursor, None, 0, version, page_size))
}

/// Every top-level row of `text`, rendered as a page renders it but with each child
/// set whole and inline (no cursor is kept), handed to `each` in order; returns how
/// many. For callers that read a generated org's query without serving it (the
/// benchmark harness).
pub fn each_row(
    state: &mut SimState,
    text: &str,
    version: &str,
    mut each: impl FnMut(Value),
) -> Result<usize, QueryError> {
    let parsed = soql::parse(text)?;
    let resolved = Arc::new(eval::resolve(&parsed, text)?);
    let rows = Arc::new(resolved.run(&state.store, false));
    let cursor = Cursor {
        query: resolved,
        sub: None,
        rows: Arc::clone(&rows),
        all_rows: false,
    };
    // Child sets whole: no child page size (and no change to the served one).
    for &row in rows.iter() {
        each(render_top(state, &cursor, row, version, usize::MAX).0);
    }
    Ok(rows.len())
}

/// Serves `…/query/<cursor>-<offset>`.
pub fn more(
    state: &mut SimState,
    locator: &str,
    version: &str,
    page_size: usize,
) -> Result<Value, QueryError> {
    let invalid = || QueryError {
        status: 400,
        code: "INVALID_QUERY_LOCATOR",
        message: "invalid query locator".into(),
    };
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let cursor = state.cursors.get(id).cloned().ok_or_else(invalid)?;
    if offset > cursor.rows.len() {
        return Err(invalid());
    }
    // A cursor in use is the newest: eviction drops the least recently read, so the
    // child cursors a long query opens never push out the query's own cursor.
    if let Some(at) = state.cursor_order.iter().position(|c| c == id) {
        if let Some(used) = state.cursor_order.remove(at) {
            state.cursor_order.push_back(used);
        }
    }
    Ok(page(
        state,
        cursor,
        Some(id.to_string()),
        offset,
        version,
        page_size,
    ))
}

/// Renders rows from `offset`, registering the cursor if there is a next page.
fn page(
    state: &mut SimState,
    cursor: Cursor,
    id: Option<String>,
    offset: usize,
    version: &str,
    page_size: usize,
) -> Value {
    let page_size = page_size.max(1);
    let mut records = Vec::new();
    let mut used = 0usize;
    let mut next = offset;
    while let Some(&row) = cursor.rows.get(next) {
        let (rec, cost) = match cursor.sub {
            None => {
                let child_page = state.config.child_page_size;
                render_top(state, &cursor, row, version, child_page)
            }
            Some(i) => (render_child(state, &cursor.query, i, row, version), 1),
        };
        // Children count toward the page; a page holds at least one record.
        if !records.is_empty() && used + cost > page_size {
            break;
        }
        used += cost;
        records.push(rec);
        next += 1;
    }
    let mut out = Map::new();
    out.insert("totalSize".into(), json!(cursor.rows.len()));
    if next < cursor.rows.len() {
        let id = match id {
            Some(id) => id,
            None => new_cursor(state, cursor),
        };
        out.insert("done".into(), json!(false));
        out.insert(
            "nextRecordsUrl".into(),
            json!(format!("/services/data/{version}/query/{id}-{next}")),
        );
    } else {
        out.insert("done".into(), json!(true));
    }
    out.insert("records".into(), Value::Array(records));
    Value::Object(out)
}

fn render_child(state: &SimState, q: &Resolved, sub: usize, row: usize, version: &str) -> Value {
    let Some(RItem::Sub(s)) = q.select.get(sub) else {
        return Value::Null;
    };
    let Some(rec) = state.store.rows(s.child.name).get(row) else {
        return Value::Null;
    };
    Value::Object(eval::render_fields(
        &state.store,
        s.child,
        rec,
        &s.fields,
        version,
    ))
}

/// One top-level record with its child sets; returns it and its cost (1 + inline children).
/// One top-level row, its child sets paged by `child_page` rows.
fn render_top(
    state: &mut SimState,
    cursor: &Cursor,
    row: usize,
    version: &str,
    child_page: usize,
) -> (Value, usize) {
    let q = Arc::clone(&cursor.query);
    let Some(rec) = state.store.rows(q.sobject.name).get(row).cloned() else {
        return (Value::Null, 1);
    };
    let id = rec
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        eval::attributes(q.sobject.name, &id, version),
    );
    let mut cost = 1;
    let child_page = child_page.max(1);
    for (i, item) in q.select.iter().enumerate() {
        match item {
            RItem::Field(p) => {
                let rendered = eval::render_fields(
                    &state.store,
                    q.sobject,
                    &rec,
                    std::slice::from_ref(p),
                    version,
                );
                for (k, v) in rendered {
                    if k == "attributes" {
                        continue;
                    }
                    merge(&mut out, k, v);
                }
            }
            RItem::Sub(s) => {
                let rows = s.run(&state.store, &id, cursor.all_rows);
                if rows.is_empty() {
                    // An empty child set is `null`, not an empty QueryResult (§3.6).
                    out.insert(s.rel.name.to_string(), Value::Null);
                    continue;
                }
                let inline: Vec<Value> = rows
                    .iter()
                    .take(child_page)
                    .map(|&r| render_child(state, &q, i, r, version))
                    .collect();
                cost += inline.len();
                let mut child = Map::new();
                child.insert("totalSize".into(), json!(rows.len()));
                if rows.len() > child_page {
                    let cid = new_cursor(
                        state,
                        Cursor {
                            query: Arc::clone(&q),
                            sub: Some(i),
                            rows: Arc::new(rows),
                            all_rows: cursor.all_rows,
                        },
                    );
                    child.insert("done".into(), json!(false));
                    child.insert(
                        "nextRecordsUrl".into(),
                        json!(format!("/services/data/{version}/query/{cid}-{child_page}")),
                    );
                } else {
                    child.insert("done".into(), json!(true));
                }
                child.insert("records".into(), Value::Array(inline));
                out.insert(s.rel.name.to_string(), Value::Object(child));
            }
        }
    }
    (Value::Object(out), cost)
}

/// Inserts `v` at `k`, merging nested parent objects selected through several paths.
fn merge(out: &mut Map<String, Value>, k: String, v: Value) {
    match (out.get_mut(&k), v) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k2, v2) in new {
                merge(existing, k2, v2);
            }
        }
        (_, v) => {
            out.insert(k, v);
        }
    }
}
