//! sObject create, read, update, delete and upsert by external id (reference §5, §8):
//! field checks with Salesforce's error codes, Case status semantics (`IsClosed`,
//! `ClosedDate` derived from `Status`, `CaseNumber` autonumber), and the owner an
//! assignment rule would pick unless `Sforce-Auto-Assign: FALSE`.

use serde_json::{json, Map, Value};

use super::eval::{attributes, wire_value};
use super::schema::{self, FieldType, SObject};
use super::store::{check_value, normalize_id, Store};
use super::SimState;

/// Name of the user every write runs as (the Case owner when no assignment rule runs).
pub const INTEGRATION_USER: &str = "Sandbox Integration User";
/// Name of the user the simulated Case assignment rule assigns to.
pub const ASSIGNMENT_RULE_USER: &str = "Sandbox Assignment Rule Queue";

/// Case statuses whose `CaseStatus.IsClosed` is true.
const CLOSED_STATUSES: &[&str] = &["Closed"];

/// What a write depends on besides its body.
#[derive(Debug, Clone, Copy)]
pub struct WriteCtx<'a> {
    /// The request's version segment (`v62.0`), for URLs.
    pub version: &'a str,
    /// The same as a number (upsert answers 204 instead of 200 before 46.0).
    pub api_version: f64,
    /// Whether the Case assignment rule runs (no `Sforce-Auto-Assign: FALSE`).
    pub auto_assign: bool,
}

/// A DML answer: status, optional `Location`, body (`None` = empty).
#[derive(Debug, Clone, PartialEq)]
pub struct DmlResponse {
    /// HTTP status.
    pub status: u16,
    /// `Location` header.
    pub location: Option<String>,
    /// JSON body.
    pub body: Option<Value>,
}

pub(super) fn error(
    status: u16,
    code: &str,
    message: impl Into<String>,
    fields: &[&str],
) -> DmlResponse {
    DmlResponse {
        status,
        location: None,
        body: Some(json!([{"message": message.into(), "errorCode": code, "fields": fields}])),
    }
}

pub(super) fn not_found() -> DmlResponse {
    DmlResponse {
        status: 404,
        location: None,
        body: Some(
            json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]),
        ),
    }
}

/// Adds the integration and assignment-rule users if the seed lacks them.
pub fn ensure_system_users(store: &mut Store) {
    let Some(user) = schema::sobject("User") else {
        return;
    };
    for name in [INTEGRATION_USER, ASSIGNMENT_RULE_USER] {
        if !store
            .rows("User")
            .iter()
            .any(|u| u.get("Name").and_then(Value::as_str) == Some(name))
        {
            let mut row = Map::new();
            row.insert("Name".into(), json!(name));
            row.insert("IsActive".into(), json!(true));
            let _ = store.insert_seed(user, row);
        }
    }
}

fn user_id(store: &Store, name: &str) -> Option<String> {
    store
        .rows("User")
        .iter()
        .find(|u| u.get("Name").and_then(Value::as_str) == Some(name))
        .and_then(|u| u.get("Id").and_then(Value::as_str).map(str::to_string))
}

fn now_datetime() -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text | FieldType::Id | FieldType::Reference(..) => "string",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        FieldType::Number => "double",
    }
}

/// Checks a request body against the schema; returns the typed field values.
pub(super) fn check_body(
    store: &Store,
    sobject: &'static SObject,
    body: &[u8],
) -> Result<Vec<(&'static str, Value)>, DmlResponse> {
    let map: Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
        error(
            400,
            "JSON_PARSER_ERROR",
            format!("The request body is not a JSON object: {e}"),
            &[],
        )
    })?;
    let mut out = Vec::new();
    for (key, value) in map {
        if key == "attributes" {
            continue;
        }
        if key.eq_ignore_ascii_case("Id") {
            return Err(error(
                400,
                "INVALID_FIELD",
                "The Id field should not be specified in the sobject data.",
                &[],
            ));
        }
        let Some(field) = sobject.field(&key) else {
            return Err(error(
                400,
                "INVALID_FIELD",
                format!("No such column '{key}' on sobject of type {}", sobject.name),
                &[],
            ));
        };
        if !field.writable {
            return Err(error(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", field.name),
                &[field.name],
            ));
        }
        if let FieldType::Reference(target, _) = field.ty {
            if let Some(raw) = value.as_str() {
                let Some(id) = normalize_id(raw) else {
                    return Err(error(
                        400,
                        "MALFORMED_ID",
                        format!("{}: id value of incorrect type: {raw}", field.name),
                        &[field.name],
                    ));
                };
                if store.get(target, &id).is_none() {
                    return Err(error(
                        400,
                        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                        format!("insufficient access rights on cross-reference id: {raw}"),
                        &[],
                    ));
                }
            }
        }
        let checked = check_value(field.ty, value.clone()).map_err(|_| {
            error(
                400,
                "JSON_PARSER_ERROR",
                format!(
                    "Cannot deserialize instance of {} from {value} value for field {}",
                    type_name(field.ty),
                    field.name
                ),
                &[],
            )
        })?;
        let limit = match field.name {
            "Description" => Some(32_000),
            "Subject" => Some(255),
            _ => None,
        };
        if let (Some(max), Some(s)) = (limit, checked.as_str()) {
            if s.chars().count() > max {
                return Err(error(
                    400,
                    "STRING_TOO_LONG",
                    format!(
                        "{}: data value too large: {}... (max length={max})",
                        field.name,
                        s.chars().take(20).collect::<String>()
                    ),
                    &[field.name],
                ));
            }
        }
        out.push((field.name, checked));
    }
    Ok(out)
}

/// Applies checked values to a record, then the Case-derived fields.
pub(super) fn apply(
    state: &mut SimState,
    sobject: &'static SObject,
    id: &str,
    values: Vec<(&'static str, Value)>,
) {
    let status_changed = values.iter().any(|(k, _)| *k == "Status");
    for (k, v) in values {
        state.store.set_field(sobject, id, k, v);
    }
    let now = now_datetime();
    state
        .store
        .set_field(sobject, id, "LastModifiedDate", json!(now));
    if sobject.name == "Case" && status_changed {
        let closed = state
            .store
            .get("Case", id)
            .and_then(|r| r.get("Status"))
            .and_then(Value::as_str)
            .is_some_and(|s| CLOSED_STATUSES.iter().any(|c| c.eq_ignore_ascii_case(s)));
        let was_closed =
            state.store.get("Case", id).and_then(|r| r.get("IsClosed")) == Some(&Value::Bool(true));
        state
            .store
            .set_field(sobject, id, "IsClosed", json!(closed));
        if closed && !was_closed {
            state.store.set_field(sobject, id, "ClosedDate", json!(now));
        } else if !closed {
            state
                .store
                .set_field(sobject, id, "ClosedDate", Value::Null);
        }
    }
}

/// The Case assignment rule on an update (reference §1.2: `Sforce-Auto-Assign` applies
/// to updates too): unless the header said `FALSE`, the rule takes the Case to its owner.
pub(super) fn run_assignment_rule(
    state: &mut SimState,
    sobject: &'static SObject,
    id: &str,
    ctx: WriteCtx<'_>,
) {
    if sobject.name != "Case" || !ctx.auto_assign {
        return;
    }
    if let Some(owner) = user_id(&state.store, ASSIGNMENT_RULE_USER) {
        state
            .store
            .set_field(sobject, id, "OwnerId", Value::String(owner));
    }
}

pub(super) fn created(
    state: &mut SimState,
    sobject: &'static SObject,
    values: Vec<(&'static str, Value)>,
    ctx: WriteCtx<'_>,
    upsert: bool,
) -> DmlResponse {
    let WriteCtx {
        version,
        auto_assign,
        ..
    } = ctx;
    let id = state.store.new_id(sobject);
    let mut rec = Map::new();
    let now = now_datetime();
    if sobject.field("CreatedDate").is_some() {
        rec.insert("CreatedDate".into(), json!(now));
    }
    if sobject.name == "Case" {
        state.case_number += 1;
        rec.insert(
            "CaseNumber".into(),
            json!(format!("{:08}", state.case_number)),
        );
        rec.insert("Status".into(), json!("New"));
        let owner = if auto_assign {
            ASSIGNMENT_RULE_USER
        } else {
            INTEGRATION_USER
        };
        rec.insert(
            "OwnerId".into(),
            user_id(&state.store, owner).map_or(Value::Null, Value::String),
        );
    }
    let mut full = rec;
    for (k, v) in values {
        full.insert(k.to_string(), v);
    }
    // Derived fields (Contact.Name) are computed from the values just set.
    state.store.fill_defaults(sobject, &id, &mut full);
    let status = full.get("Status").cloned();
    state.store.push(sobject, full);
    if let (true, Some(status)) = (sobject.name == "Case", status) {
        // IsClosed / ClosedDate follow the initial Status (a Case may be created closed).
        apply(state, sobject, &id, vec![("Status", status)]);
    }
    let body = if upsert {
        json!({"id": id, "success": true, "errors": [], "created": true})
    } else {
        json!({"id": id, "success": true, "errors": []})
    };
    DmlResponse {
        status: 201,
        location: Some(format!(
            "/services/data/{version}/sobjects/{}/{id}",
            sobject.name
        )),
        body: Some(body),
    }
}

/// `POST /sobjects/{T}`.
pub fn create(state: &mut SimState, sobject: &str, body: &[u8], ctx: WriteCtx<'_>) -> DmlResponse {
    let Some(sobject) = schema::sobject(sobject) else {
        return not_found();
    };
    match check_body(&state.store, sobject, body) {
        Ok(values) => created(state, sobject, values, ctx, false),
        Err(e) => e,
    }
}

pub(super) fn live_record<'a>(
    state: &'a SimState,
    sobject: &'static SObject,
    id: &str,
) -> Result<&'a Map<String, Value>, DmlResponse> {
    if normalize_id(id).is_none() || !id.starts_with(sobject.key_prefix) {
        return Err(error(
            400,
            "MALFORMED_ID",
            // The recorded real message (reference §5.3) names no sObject.
            format!("Record ID: id value of incorrect type: {id}"),
            &["Id"],
        ));
    }
    let rec = state.store.get(sobject.name, id).ok_or_else(not_found)?;
    if rec.get("IsDeleted") == Some(&Value::Bool(true)) {
        return Err(error(404, "ENTITY_IS_DELETED", "entity is deleted", &[]));
    }
    Ok(rec)
}

/// `GET /sobjects/{T}/{id}[?fields=A,B]`.
pub fn get(
    state: &SimState,
    sobject: &str,
    id: &str,
    fields: Option<&str>,
    version: &str,
) -> DmlResponse {
    let Some(sobject) = schema::sobject(sobject) else {
        return not_found();
    };
    let rec = match live_record(state, sobject, id) {
        Ok(r) => r,
        Err(e) => return e,
    };
    render(sobject, rec, fields, version)
}

/// A record as `GET /sobjects` returns it: `attributes`, then every field or `Id` + the asked ones.
fn render(
    sobject: &'static SObject,
    rec: &Map<String, Value>,
    fields: Option<&str>,
    version: &str,
) -> DmlResponse {
    let rid = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert("attributes".into(), attributes(sobject.name, rid, version));
    let wanted: Vec<&str> = match fields {
        Some(list) => std::iter::once("Id")
            .chain(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
            .collect(),
        None => sobject.fields.iter().map(|f| f.name).collect(),
    };
    for name in wanted {
        let Some(field) = sobject.field(name) else {
            return error(
                400,
                "INVALID_FIELD",
                format!("No such column '{name}' on entity '{}'.", sobject.name),
                &[],
            );
        };
        out.insert(
            field.name.into(),
            wire_value(field.ty, rec.get(field.name).unwrap_or(&Value::Null)),
        );
    }
    DmlResponse {
        status: 200,
        location: None,
        body: Some(Value::Object(out)),
    }
}

/// Live records of `sobject` whose external-id `field` equals `value` (case-insensitive).
pub(super) fn by_external_id<'a>(
    state: &'a SimState,
    sobject: &'static SObject,
    field: &str,
    value: &str,
) -> Vec<&'a Map<String, Value>> {
    state
        .store
        .rows(sobject.name)
        .iter()
        .filter(|r| r.get("IsDeleted") != Some(&Value::Bool(true)))
        .filter(|r| {
            r.get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
        })
        .collect()
}

fn multiple_choices(sobject: &SObject, ids: &[String], version: &str) -> DmlResponse {
    DmlResponse {
        status: 300,
        location: None,
        body: Some(Value::Array(
            ids.iter()
                .map(|id| {
                    json!(format!(
                        "/services/data/{version}/sobjects/{}/{id}",
                        sobject.name
                    ))
                })
                .collect(),
        )),
    }
}

fn unknown_external_field(field: &str) -> DmlResponse {
    error(
        404,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
        &[],
    )
}

/// `GET /sobjects/{T}/{ExtField}/{value}`: the record, 404 when none, 300 when several.
pub fn get_by_external_id(
    state: &SimState,
    sobject: &str,
    field: &str,
    value: &str,
    fields: Option<&str>,
    version: &str,
) -> DmlResponse {
    let Some(sobject) = schema::sobject(sobject) else {
        return not_found();
    };
    let Some(field) = sobject.field(field).filter(|f| f.external_id) else {
        return unknown_external_field(field);
    };
    let found = by_external_id(state, sobject, field.name, value);
    match found.as_slice() {
        [] => not_found(),
        [one] => render(sobject, one, fields, version),
        many => {
            let ids: Vec<String> = many
                .iter()
                .filter_map(|r| r.get("Id").and_then(Value::as_str).map(str::to_string))
                .collect();
            multiple_choices(sobject, &ids, version)
        }
    }
}

/// `PATCH /sobjects/{T}/{id}`: 204.
pub fn update(
    state: &mut SimState,
    sobject: &str,
    id: &str,
    body: &[u8],
    ctx: WriteCtx<'_>,
) -> DmlResponse {
    let Some(sobject) = schema::sobject(sobject) else {
        return not_found();
    };
    let rid = match live_record(state, sobject, id) {
        Ok(r) => r
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_string(),
        Err(e) => return e,
    };
    match check_body(&state.store, sobject, body) {
        Ok(values) => {
            apply(state, sobject, &rid, values);
            run_assignment_rule(state, sobject, &rid, ctx);
            DmlResponse {
                status: 204,
                location: None,
                body: None,
            }
        }
        Err(e) => e,
    }
}

/// `DELETE /sobjects/{T}/{id}`: 204 (the row stays, `IsDeleted = true`, for queryAll).
pub fn delete(state: &mut SimState, sobject: &str, id: &str) -> DmlResponse {
    let Some(sobject) = schema::sobject(sobject) else {
        return not_found();
    };
    let rid = match live_record(state, sobject, id) {
        Ok(r) => r
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_string(),
        Err(e) => return e,
    };
    state
        .store
        .set_field(sobject, &rid, "IsDeleted", json!(true));
    DmlResponse {
        status: 204,
        location: None,
        body: None,
    }
}

/// `PATCH /sobjects/{T}/{ExtField}/{value}`: 201 created, 200 (v46+) or 204 updated, 300 on several matches.
pub fn upsert(
    state: &mut SimState,
    sobject: &str,
    ext_field: &str,
    value: &str,
    body: &[u8],
    ctx: WriteCtx<'_>,
) -> DmlResponse {
    let WriteCtx {
        version,
        api_version,
        ..
    } = ctx;
    let Some(sobject) = schema::sobject(sobject) else {
        return not_found();
    };
    let Some(field) = sobject.field(ext_field).filter(|f| f.external_id) else {
        return unknown_external_field(ext_field);
    };
    let mut values = match check_body(&state.store, sobject, body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    // The key in the URL wins over a copy of it in the body.
    values.retain(|(k, _)| *k != field.name);
    let matches: Vec<String> = by_external_id(state, sobject, field.name, value)
        .iter()
        .filter_map(|r| r.get("Id").and_then(Value::as_str).map(str::to_string))
        .collect();
    match matches.as_slice() {
        [] => {
            values.push((field.name, json!(value)));
            created(state, sobject, values, ctx, true)
        }
        [id] => {
            let id = id.clone();
            apply(state, sobject, &id, values);
            run_assignment_rule(state, sobject, &id, ctx);
            if api_version >= 46.0 {
                DmlResponse {
                    status: 200,
                    location: None,
                    body: Some(json!({"id": id, "success": true, "errors": [], "created": false})),
                }
            } else {
                DmlResponse {
                    status: 204,
                    location: None,
                    body: None,
                }
            }
        }
        many => multiple_choices(sobject, many, version),
    }
}
