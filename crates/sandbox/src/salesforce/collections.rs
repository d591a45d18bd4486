//! sObject Collections (reference §6.1): `POST /composite/sobjects` (create) and
//! `PATCH /composite/sobjects` (update), at most 200 records, per-item results in
//! request order with `statusCode` in item errors, and `allOrNone` roll-back.

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

/// Runs a collection create (`update = false`) or update; returns status and body.
pub fn run(state: &mut SimState, body: &[u8], update: bool, ctx: WriteCtx<'_>) -> (u16, Value) {
    let body: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => {
            return (
                400,
                json!([{"message": format!("Invalid request body: {e}"), "errorCode": "JSON_PARSER_ERROR"}]),
            )
        }
    };
    if body.records.len() > MAX_RECORDS {
        return (
            400,
            json!([{"message": "record limit reached. cannot submit more than 200 records into this call", "errorCode": "EXCEEDED_ID_LIMIT"}]),
        );
    }
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
            Ok(_) if body.all_or_none && any_failed => json!({
                "id": null,
                "success": false,
                "errors": [{
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
                    "fields": [],
                }],
            }),
            Ok(Op::Create(sobject, values)) => {
                let r = dml::created(state, sobject, values, ctx, false);
                let id = r.body.as_ref().and_then(|b| b.get("id")).cloned().unwrap_or(Value::Null);
                json!({"id": id, "success": true, "errors": []})
            }
            Ok(Op::Update(sobject, id, values)) => {
                dml::apply(state, sobject, &id, values);
                json!({"id": id, "success": true, "errors": []})
            }
        })
        .collect();
    (200, Value::Array(results))
}
