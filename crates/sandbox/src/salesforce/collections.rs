//! sObject Collections (reference §6.1): `POST /composite/sobjects` (create),
//! `PATCH /composite/sobjects` (update) and `PATCH /composite/sobjects/{T}/{ExtField}`
//! (upsert, v46+), at most 200 records, per-item results in request order with
//! `statusCode` in item errors, and `allOrNone` roll-back.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::dml::{self, DmlResponse, WriteCtx};
use super::schema::{self, SObject};
use super::SimState;

/// The most records one call may carry.
const MAX_RECORDS: usize = 200;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    all_or_none: bool,
    records: Vec<Map<String, Value>>,
}

enum Op {
    Create(&'static SObject, Vec<(&'static str, Value)>),
    Update(&'static SObject, String, Vec<(&'static str, Value)>),
}

/// The per-item error list of a failed DML answer, with `statusCode` instead of `errorCode`.
fn item_errors(resp: &DmlResponse) -> Value {
    let errors = resp
        .body
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Value::Array(
        errors
            .into_iter()
            .map(|e| {
                json!({
                    "statusCode": e.get("errorCode").cloned().unwrap_or(Value::Null),
                    "message": e.get("message").cloned().unwrap_or(Value::Null),
                    "fields": e.get("fields").cloned().unwrap_or(json!([])),
                })
            })
            .collect(),
    )
}

fn plan(state: &SimState, rec: &Map<String, Value>, update: bool) -> Result<Op, DmlResponse> {
    let ty = rec
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    let Some(sobject) = ty.and_then(schema::sobject) else {
        return Err(dml::error(
            400,
            "INVALID_TYPE",
            "sObject type must be given in attributes.type",
            &[],
        ));
    };
    let mut fields = rec.clone();
    fields.remove("attributes");
    let id = fields.remove("id").or_else(|| fields.remove("Id"));
    let bytes = serde_json::to_vec(&fields).unwrap_or_default();
    if update {
        let Some(id) = id.as_ref().and_then(Value::as_str) else {
            return Err(dml::error(
                400,
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                &[],
            ));
        };
        let rid = dml::live_record(state, sobject, id)?
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_string();
        Ok(Op::Update(
            sobject,
            rid,
            dml::check_body(&state.store, sobject, &bytes)?,
        ))
    } else {
        if id.is_some() {
            return Err(dml::error(
                400,
                "INVALID_FIELD",
                "The Id field should not be specified in the sobject data.",
                &[],
            ));
        }
        Ok(Op::Create(
            sobject,
            dml::check_body(&state.store, sobject, &bytes)?,
        ))
    }
}

/// Parses a collections body, refusing malformed JSON and more than 200 records (400).
fn parse_body(body: &[u8]) -> Result<Body, (u16, Value)> {
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        (
            400,
            json!([{"message": format!("Invalid request body: {e}"), "errorCode": "JSON_PARSER_ERROR"}]),
        )
    })?;
    if body.records.len() > MAX_RECORDS {
        return Err((
            400,
            json!([{"message": "record limit reached. cannot submit more than 200 records into this call", "errorCode": "EXCEEDED_ID_LIMIT"}]),
        ));
    }
    Ok(body)
}

fn rolled_back() -> Value {
    json!([{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
        "fields": [],
    }])
}

/// Runs a collection create (`update = false`) or update; returns status and body.
pub fn run(state: &mut SimState, body: &[u8], update: bool, ctx: WriteCtx<'_>) -> (u16, Value) {
    let body = match parse_body(body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let plans: Vec<Result<Op, DmlResponse>> = body
        .records
        .iter()
        .map(|r| plan(state, r, update))
        .collect();
    let any_failed = plans.iter().any(Result::is_err);
    let results = plans
        .into_iter()
        .map(|p| match p {
            Err(e) => json!({"id": null, "success": false, "errors": item_errors(&e)}),
            Ok(_) if body.all_or_none && any_failed => {
                json!({"id": null, "success": false, "errors": rolled_back()})
            }
            Ok(Op::Create(sobject, values)) => {
                let r = dml::created(state, sobject, values, ctx, false);
                let id = r
                    .body
                    .as_ref()
                    .and_then(|b| b.get("id"))
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({"id": id, "success": true, "errors": []})
            }
            Ok(Op::Update(sobject, id, values)) => {
                dml::apply(state, sobject, &id, values);
                dml::run_assignment_rule(state, sobject, &id, ctx);
                json!({"id": id, "success": true, "errors": []})
            }
        })
        .collect();
    (200, Value::Array(results))
}

/// One planned upsert item: create (no match) or update of the one matching record.
enum Upsert {
    Create(Vec<(&'static str, Value)>),
    Update(String, Vec<(&'static str, Value)>),
}

fn item_error(code: &str, message: String) -> DmlResponse {
    dml::error(400, code, message, &[])
}

fn plan_upsert(
    state: &SimState,
    sobject: &'static SObject,
    field: &'static str,
    rec: &Map<String, Value>,
    duplicates: &[String],
) -> Result<Upsert, DmlResponse> {
    let ty = rec
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    if !ty.is_some_and(|t| t.eq_ignore_ascii_case(sobject.name)) {
        return Err(item_error(
            "INVALID_TYPE",
            format!("every record must have attributes.type {}", sobject.name),
        ));
    }
    let mut fields = rec.clone();
    fields.remove("attributes");
    let key = fields
        .keys()
        .find(|k| k.eq_ignore_ascii_case(field))
        .cloned()
        .and_then(|k| fields.remove(&k));
    let Some(key) = key
        .as_ref()
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
    else {
        return Err(item_error(
            "MISSING_ARGUMENT",
            format!("{field} not specified"),
        ));
    };
    // Two records of one call with the same key: both fail (no order-dependent winner).
    if duplicates.iter().any(|d| d.eq_ignore_ascii_case(key)) {
        return Err(item_error(
            "DUPLICATE_EXTERNAL_ID",
            format!("Duplicate external id specified: {key}"),
        ));
    }
    let bytes = serde_json::to_vec(&fields).unwrap_or_default();
    let mut values = dml::check_body(&state.store, sobject, &bytes)?;
    let matches = dml::by_external_id(state, sobject, field, key);
    match matches.as_slice() {
        [] => {
            values.push((field, Value::String(key.to_string())));
            Ok(Upsert::Create(values))
        }
        [one] => Ok(Upsert::Update(
            one.get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            values,
        )),
        // The single-record upsert answers 300 here; a collection can only fail the item.
        // The exact errorCode for this case is not confirmed (reference §11).
        many => Err(item_error(
            "DUPLICATE_EXTERNAL_ID",
            format!(
                "{field}: more than one record found for external id field: {}",
                many.iter()
                    .filter_map(|r| r.get("Id").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// `PATCH /composite/sobjects/{T}/{ExtField}`: upserts each record by its own key value;
/// results `{id, success, errors, created}` in request order.
pub fn upsert(
    state: &mut SimState,
    sobject: &str,
    field: &str,
    body: &[u8],
    ctx: WriteCtx<'_>,
) -> (u16, Value) {
    let not_found =
        |message: String| (404, json!([{"message": message, "errorCode": "NOT_FOUND"}]));
    let Some(sobject) = schema::sobject(sobject).filter(|_| ctx.api_version >= 46.0) else {
        return not_found("The requested resource does not exist".into());
    };
    let Some(field) = sobject.field(field).filter(|f| f.external_id) else {
        return not_found(format!(
            "Provided external ID field does not exist or is not accessible: {field}"
        ));
    };
    let body = match parse_body(body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    for key in body.records.iter().filter_map(|r| {
        r.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field.name))
            .and_then(|(_, v)| v.as_str())
    }) {
        if seen.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            duplicates.push(key.to_string());
        }
        seen.push(key.to_string());
    }
    let plans: Vec<Result<Upsert, DmlResponse>> = body
        .records
        .iter()
        .map(|r| plan_upsert(state, sobject, field.name, r, &duplicates))
        .collect();
    let any_failed = plans.iter().any(Result::is_err);
    let results = plans
        .into_iter()
        .map(|p| match p {
            Err(e) => {
                json!({"id": null, "success": false, "errors": item_errors(&e), "created": false})
            }
            Ok(_) if body.all_or_none && any_failed => {
                json!({"id": null, "success": false, "errors": rolled_back(), "created": false})
            }
            Ok(Upsert::Create(values)) => {
                let r = dml::created(state, sobject, values, ctx, true);
                let id = r
                    .body
                    .as_ref()
                    .and_then(|b| b.get("id"))
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({"id": id, "success": true, "errors": [], "created": true})
            }
            Ok(Upsert::Update(id, values)) => {
                dml::apply(state, sobject, &id, values);
                dml::run_assignment_rule(state, sobject, &id, ctx);
                json!({"id": id, "success": true, "errors": [], "created": false})
            }
        })
        .collect();
    (200, Value::Array(results))
}
