//! Number fields in Zendesk's types (issue 14): the US Federal `arr` and
//! `number_of_seats` are `integer` fields; a value with a fraction written to them is
//! refused (422 RecordInvalid on a single write, a failed row in a bulk job), a whole
//! number in any form is stored as an integer; the Global `aar` and `seats_decimal` stay
//! `decimal` and take fractions.

use reqwest::Method;
use sandbox::faults::FaultPlan;
use sandbox::zendesk::Data;
use serde_json::{json, Value};

use crate::zd_common::{fast, start, start_with, Zd};

async fn us_federal() -> Zd {
    let data = Data::load_dir(&sandbox::fixtures_dir().join("zendesk/us-federal")).unwrap();
    start_with(data, fast(), FaultPlan::default()).await
}

fn first_org(zd: &Zd) -> Value {
    zd.sim.dump()["organizations"][0].clone()
}

#[tokio::test]
async fn a_fraction_written_to_an_integer_field_is_refused_on_a_single_write() {
    let zd = us_federal().await;
    let org = first_org(&zd);
    let id = org["id"].as_u64().unwrap();
    let before = org["organization_fields"]["arr"].clone();
    for fields in [
        json!({"arr": 1234.5}),
        json!({"number_of_seats": 3.25}),
        json!({"arr": "12.5"}),
    ] {
        let (status, body) = zd
            .send(
                Method::PUT,
                &format!("/api/v2/organizations/{id}.json"),
                Some(json!({"organization": {"organization_fields": fields}})),
            )
            .await;
        assert_eq!(status, 422, "{fields}: {body}");
        assert_eq!(body["error"], "RecordInvalid");
        let detail = &body["details"]["organization_fields"][0];
        assert_eq!(detail["error"], "InvalidValue");
        assert!(detail["description"]
            .as_str()
            .unwrap()
            .contains("not a whole number"));
    }
    assert_eq!(
        zd.sim.dump()["organizations"][0]["organization_fields"]["arr"],
        before
    );
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations.json",
            Some(json!({"organization": {"name": "Fractional Agency", "organization_fields": {"arr": 0.5}}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // Whole numbers in any form are stored as integers; null clears.
    for (sent, stored) in [
        (json!(1234.0), json!(1234)),
        (json!("77"), json!(77)),
        (json!(5), json!(5)),
        (Value::Null, Value::Null),
    ] {
        let (status, body) = zd
            .send(
                Method::PUT,
                &format!("/api/v2/organizations/{id}.json"),
                Some(json!({"organization": {"organization_fields": {"number_of_seats": sent}}})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["organization"]["organization_fields"]["number_of_seats"],
            stored
        );
        assert!(!body["organization"]["organization_fields"]["number_of_seats"].is_f64());
    }
}

#[tokio::test]
async fn a_fraction_written_to_an_integer_field_is_a_failed_row_in_bulk_jobs() {
    let zd = us_federal().await;
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_many.json",
            Some(json!({"organizations": [
                {"name": "Whole Agency", "organization_fields": {"arr": 1000, "number_of_seats": 10.0}},
                {"name": "Fraction Agency", "organization_fields": {"arr": 1000.75}},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let job = zd
        .wait_job(body["job_status"]["id"].as_str().unwrap())
        .await;
    let rows = job["results"].as_array().unwrap();
    assert_eq!(rows[0]["status"], "Created");
    assert_eq!(rows[1]["status"], "Failed");
    assert_eq!(rows[1]["index"], 1);
    assert_eq!(rows[1]["error"], "InvalidValue");
    assert!(zd.org_named("Fraction Agency").is_none());
    let whole = zd.org_named("Whole Agency").unwrap();
    assert_eq!(whole["organization_fields"]["number_of_seats"], json!(10));

    let id = whole["id"].as_u64().unwrap();
    let other = first_org(&zd)["id"].as_u64().unwrap();
    let (status, body) = zd
        .send(
            Method::PUT,
            "/api/v2/organizations/update_many.json",
            Some(json!({"organizations": [
                {"id": id, "organization_fields": {"number_of_seats": 12.5}},
                {"id": other, "organization_fields": {"number_of_seats": 12}},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let job = zd
        .wait_job(body["job_status"]["id"].as_str().unwrap())
        .await;
    let rows = job["results"].as_array().unwrap();
    assert_eq!(rows[0]["error"], "OrganizationUpdateFailed", "{job}");
    assert!(rows[0]["details"]
        .as_str()
        .unwrap()
        .contains("Number of Seats"));
    assert_eq!(rows[1]["status"], "Updated");
    assert_eq!(
        zd.org_named("Whole Agency").unwrap()["organization_fields"]["number_of_seats"],
        json!(10)
    );
}

#[tokio::test]
async fn global_decimal_fields_take_fractions() {
    let zd = start(fast(), FaultPlan::default()).await;
    let id = first_org(&zd)["id"].as_u64().unwrap();
    let (status, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{id}.json"),
            Some(json!({"organization": {"organization_fields": {"aar": 1234.5, "seats_decimal": 2.25}}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["organization"]["organization_fields"]["aar"],
        json!(1234.5)
    );
    assert_eq!(
        body["organization"]["organization_fields"]["seats_decimal"],
        json!(2.25)
    );
}
