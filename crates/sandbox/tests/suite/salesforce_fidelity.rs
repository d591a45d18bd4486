//! Fidelity checks of the simulated Salesforce against `reference/salesforce-api.md`,
//! over real HTTP: the parts a review found missing or off (collections upsert,
//! Composite, the refresh-token grant, datetime encoding, assignment rules on update,
//! 405s, cursor lifetime), each pinned by a test that failed before its fix.

use crate::sf_common::{demo_store, sorted, start, start_with};
use reqwest::Method;
use sandbox::salesforce::SalesforceConfig;
use serde_json::{json, Value};

/// sObject Collections upsert (reference §6.1, v46+): `PATCH /composite/sobjects/{T}/{ExtField}`
/// answers 200 with `{id, success, errors, created}` per record, in order; the key comes
/// from each record's body; a missing key fails only its own item.
#[tokio::test]
async fn collections_upsert_by_external_id_reports_created_per_record() {
    let sf = start().await;
    let token = sf.token().await;
    let path = "/services/data/v62.0/composite/sobjects/Case/Zendesk_Support_Ticket_ID__c";
    let rec = |key: &str, subject: &str| json!({"attributes": {"type": "Case"}, "Zendesk_Support_Ticket_ID__c": key, "Subject": subject});
    let (status, _, first) = sf
        .call(
            &token,
            Method::PATCH,
            path,
            Some(json!({"allOrNone": false, "records": [rec("cu-1", "one"), rec("cu-2", "two")]})),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first[0]["created"], json!(true), "{first}");
    assert_eq!(first[1]["created"], json!(true), "{first}");
    let id1 = first[0]["id"].as_str().unwrap_or_default().to_string();
    assert!(id1.starts_with("500"), "{first}");

    let missing_key = json!({"attributes": {"type": "Case"}, "Subject": "no key"});
    let (status, _, second) = sf
        .call(
            &token,
            Method::PATCH,
            path,
            Some(
                json!({"records": [rec("cu-1", "one, again"), missing_key, rec("cu-3", "three")]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        second[0],
        json!({"id": id1, "success": true, "errors": [], "created": false})
    );
    assert_eq!(second[1]["success"], json!(false));
    assert_eq!(second[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    assert_eq!(second[2]["created"], json!(true));
    let cases = sf.sim.dump()["Case"].clone();
    let subject_of = |key: &str| {
        cases
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["Zendesk_Support_Ticket_ID__c"] == json!(key))
            .map(|c| c["Subject"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(subject_of("cu-1"), [json!("one, again")]);

    // allOrNone: one bad record rolls back the good ones.
    let (_, _, third) = sf
        .call(
            &token,
            Method::PATCH,
            path,
            Some(json!({"allOrNone": true, "records": [rec("cu-4", "four"), json!({"attributes": {"type": "Case"}, "Zendesk_Support_Ticket_ID__c": "cu-5", "Bogus__c": 1})]})),
        )
        .await;
    assert_eq!(
        third[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(third[1]["errors"][0]["statusCode"], "INVALID_FIELD");
    assert!(subject_of("cu-4").is_empty(), "nothing written");

    // An unknown external-id field is a 404 like the single-record upsert.
    let (status, _, body) = sf
        .call(
            &token,
            Method::PATCH,
            "/services/data/v62.0/composite/sobjects/Case/Subject",
            Some(json!({"records": [rec("x", "y")]})),
        )
        .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (404, json!("NOT_FOUND"))
    );
}

/// The same call through `sfdc-client`'s `upsert_collection`: client and simulator agree.
#[tokio::test]
async fn sfdc_client_upsert_collection_round_trip() {
    use sfdc_client::{Client, CollectionRecord, Credentials, RetryPolicy};
    let sf = start().await;
    let client = Client::builder()
        .login_url(sf.url.clone())
        .credentials(Credentials::ClientCredentials {
            client_id: "id".into(),
            client_secret: "secret".to_owned().into(),
        })
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let records: Vec<CollectionRecord<Value>> = ["rt-1", "rt-2"]
        .iter()
        .map(|key| CollectionRecord {
            sobject: "Case".into(),
            id: None,
            fields: json!({"Zendesk_Support_Ticket_ID__c": key, "Subject": "round trip"}),
        })
        .collect();
    let first = client
        .upsert_collection("Case", "Zendesk_Support_Ticket_ID__c", &records, false)
        .await
        .expect("first upsert");
    assert!(
        first.iter().all(|r| r.success && r.created == Some(true)),
        "{first:?}"
    );
    let again = client
        .upsert_collection("Case", "Zendesk_Support_Ticket_ID__c", &records, false)
        .await
        .expect("second upsert");
    assert_eq!(
        again
            .iter()
            .map(|r| (r.id.clone(), r.created))
            .collect::<Vec<_>>(),
        first
            .iter()
            .map(|r| (r.id.clone(), Some(false)))
            .collect::<Vec<_>>()
    );
}

/// Query results stay available while they are read (reference §3.3: locators live for
/// 2 days). Child sets that page open their own cursors; reading a long query whose
/// pages open hundreds of them must not evict the query's own cursor midway.
#[tokio::test]
async fn a_long_query_is_not_evicted_by_the_child_cursors_it_opens() {
    use sandbox::salesforce::{schema, Store};
    let mut store = Store::new();
    let (account, contact) = (
        schema::sobject("Account").expect("Account"),
        schema::sobject("Contact").expect("Contact"),
    );
    for i in 0..500 {
        let mut row = serde_json::Map::new();
        row.insert("Name".into(), json!(format!("Acct {i}")));
        let id = store.insert_seed(account, row).expect("account");
        for c in 0..2 {
            let mut row = serde_json::Map::new();
            row.insert("LastName".into(), json!(format!("C{c}")));
            row.insert("AccountId".into(), json!(id));
            store.insert_seed(contact, row).expect("contact");
        }
    }
    let config = SalesforceConfig {
        page_size: 200,
        child_page_size: 1,
        ..SalesforceConfig::default()
    };
    let sf = start_with(store, config).await;
    let token = sf.token().await;
    let rows = sf
        .query_all_pages(&token, "SELECT Id, (SELECT Id FROM Contacts) FROM Account")
        .await;
    assert_eq!(rows.len(), 500);
    assert!(rows.iter().all(|r| r["Contacts"]["done"] == json!(false)));
}

/// The refresh-token grant (reference §2.4): a refresh token the org knows (issued by a
/// web-server flow outside the sandbox) gets a new access token and no new refresh
/// token; an unknown one is `invalid_grant` / `expired access/refresh token`.
#[tokio::test]
async fn refresh_token_grant_accepts_a_known_token_only() {
    let config = SalesforceConfig {
        required_client: Some(("cid".into(), "csecret".into())),
        refresh_token: Some("5Aep861-known".into()),
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let (status, ok) = sf
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "5Aep861-known"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ])
        .await;
    assert_eq!(status, 200, "{ok}");
    assert!(ok.get("refresh_token").is_none(), "no rotation: {ok}");
    let token = ok["access_token"].as_str().unwrap_or_default().to_string();
    let (status, _, _) = sf
        .call(
            &token,
            Method::GET,
            "/services/data/v62.0/sobjects/Case/500000000000000AAA",
            None,
        )
        .await;
    assert_eq!(status, 404, "the refreshed token is accepted");

    let (status, bad) = sf
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "5Aep861-unknown"),
            ("client_id", "cid"),
        ])
        .await;
    assert_eq!(
        (status, bad),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})
        )
    );
    let (status, bad) = sf
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "5Aep861-known"),
        ])
        .await;
    assert_eq!(
        (status, bad["error"].clone()),
        (400, json!("invalid_client_id"))
    );
}

/// Datetimes are kept and written as Salesforce writes them (reference §3.7): UTC,
/// milliseconds, `+0000` without a colon, whatever offset the seed or write used; and
/// they compare as instants, so `-02:00` late on the 31st is already February in UTC.
#[tokio::test]
async fn datetimes_are_normalised_to_utc_with_a_colonless_offset() {
    use sandbox::salesforce::{schema, Store};
    let mut store = Store::new();
    let case = schema::sobject("Case").expect("Case");
    for (subject, created) in [
        ("offset", "2024-01-31T23:30:00-02:00"),
        ("zulu", "2024-01-31T12:00:00Z"),
        ("salesforce", "2024-01-31T12:00:00.250+0000"),
    ] {
        let mut row = serde_json::Map::new();
        row.insert("Subject".into(), json!(subject));
        row.insert("CreatedDate".into(), json!(created));
        store.insert_seed(case, row).expect("case");
    }
    let sf = start_with(store, SalesforceConfig::default()).await;
    let token = sf.token().await;
    let rows = sf
        .query_all_pages(
            &token,
            "SELECT Subject, CreatedDate FROM Case ORDER BY Subject",
        )
        .await;
    let got: Vec<(Value, Value)> = rows
        .iter()
        .map(|r| (r["Subject"].clone(), r["CreatedDate"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (json!("offset"), json!("2024-02-01T01:30:00.000+0000")),
            (json!("salesforce"), json!("2024-01-31T12:00:00.250+0000")),
            (json!("zulu"), json!("2024-01-31T12:00:00.000+0000")),
        ]
    );
    let feb = sf
        .query_all_pages(
            &token,
            "SELECT Subject FROM Case WHERE CreatedDate >= 2024-02-01T00:00:00Z",
        )
        .await;
    assert_eq!(sorted(&feb, "Subject"), ["offset"]);
}

/// Composite (reference §6.2): subrequests run in order through the normal routes,
/// `@{ref.field}` reads earlier results, each answer carries its own status, headers and
/// body; `allOrNone` rolls every write back; more than 25 subrequests is a 400.
#[tokio::test]
async fn composite_runs_subrequests_with_references_and_all_or_none() {
    let sf = start().await;
    let token = sf.token().await;
    let path = "/services/data/v62.0/composite";
    let request = json!({"allOrNone": false, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Case", "referenceId": "newCase",
         "body": {"Subject": "Printer on fire", "Origin": "Web"}},
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Case/@{newCase.id}?fields=Subject", "referenceId": "getCase"},
        {"method": "GET", "url": "/services/data/v62.0/query/?q=SELECT+Id+FROM+Case+WHERE+Id+%3D+%27@{newCase.id}%27", "referenceId": "findCase"},
        {"method": "PATCH", "url": "/services/data/v62.0/sobjects/Case/@{findCase.records[0].Id}", "referenceId": "close",
         "body": {"Status": "Closed"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Case", "referenceId": "bad", "body": {"Bogus__c": 1}},
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Case/@{bad.id}", "referenceId": "afterBad"}
    ]});
    let (status, _, body) = sf.call(&token, Method::POST, path, Some(request)).await;
    assert_eq!(status, 200, "{body}");
    let r = &body["compositeResponse"];
    let id = r[0]["body"]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(r[0]["httpStatusCode"], 201);
    assert_eq!(r[0]["referenceId"], "newCase");
    assert_eq!(
        r[0]["httpHeaders"]["Location"],
        json!(format!("/services/data/v62.0/sobjects/Case/{id}"))
    );
    assert_eq!(
        (
            r[1]["httpStatusCode"].clone(),
            r[1]["body"]["Subject"].clone()
        ),
        (json!(200), json!("Printer on fire"))
    );
    assert_eq!(r[2]["body"]["totalSize"], 1);
    assert_eq!(
        (
            r[3]["httpStatusCode"].clone(),
            r[3]["body"].clone(),
            r[3]["httpHeaders"].clone()
        ),
        (json!(204), Value::Null, json!({}))
    );
    assert_eq!(r[4]["httpStatusCode"], 400);
    assert_eq!(r[4]["body"][0]["errorCode"], "INVALID_FIELD");
    assert_eq!(
        (
            r[5]["httpStatusCode"].clone(),
            r[5]["body"][0]["errorCode"].clone()
        ),
        (json!(400), json!("PROCESSING_HALTED"))
    );
    let case = sf.sim.dump()["Case"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["Id"] == json!(id)).cloned())
        .unwrap_or_default();
    assert_eq!(case["IsClosed"], json!(true), "the PATCH ran");

    let before = sf.sim.dump()["Case"].as_array().map(Vec::len);
    let request = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Case", "referenceId": "ok", "body": {"Subject": "kept?"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Case", "referenceId": "bad", "body": {"Bogus__c": 1}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Case", "referenceId": "later", "body": {"Subject": "never"}}
    ]});
    let (status, _, body) = sf.call(&token, Method::POST, path, Some(request)).await;
    assert_eq!(status, 200);
    let codes: Vec<(Value, Value)> = (0..3)
        .map(|i| {
            let r = &body["compositeResponse"][i];
            (
                r["httpStatusCode"].clone(),
                r["body"][0]["errorCode"].clone(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            (json!(400), json!("PROCESSING_HALTED")),
            (json!(400), json!("INVALID_FIELD")),
            (json!(400), json!("PROCESSING_HALTED")),
        ]
    );
    assert_eq!(
        sf.sim.dump()["Case"].as_array().map(Vec::len),
        before,
        "rolled back"
    );

    let many: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Case", "referenceId": format!("q{i}")}))
        .collect();
    let (status, _, _) = sf
        .call(
            &token,
            Method::POST,
            path,
            Some(json!({"compositeRequest": many})),
        )
        .await;
    assert_eq!(status, 400);
}

/// `Sforce-Auto-Assign` applies to Case updates too (reference §1.2, §10): without
/// `FALSE`, the active assignment rule runs again and may take the Case to another owner,
/// on a plain update and on an upsert that updates alike.
#[tokio::test]
async fn case_updates_without_auto_assign_false_run_the_assignment_rule() {
    let sf = start().await;
    let token = sf.token().await;
    let owner_name = |id: &str| {
        let dump = sf.sim.dump();
        let owner = dump["Case"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["Id"] == json!(id)))
            .map(|c| c["OwnerId"].clone())
            .unwrap_or(Value::Null);
        dump["User"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["Id"] == owner))
            .map(|u| u["Name"].clone())
            .unwrap_or(Value::Null)
    };
    let send = |method: Method, path: String, assign: Option<&'static str>, body: Value| {
        let mut req = sf
            .http
            .request(method, format!("{}{path}", sf.url))
            .bearer_auth(&token)
            .json(&body);
        if let Some(v) = assign {
            req = req.header("Sforce-Auto-Assign", v);
        }
        async move { req.send().await.expect("request").status().as_u16() }
    };
    let key_path =
        "/services/data/v62.0/sobjects/Case/Zendesk_Support_Ticket_ID__c/aa-1".to_string();
    assert_eq!(
        send(
            Method::PATCH,
            key_path.clone(),
            Some("FALSE"),
            json!({"Subject": "s"})
        )
        .await,
        201
    );
    let id = sf.sim.dump()["Case"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["Zendesk_Support_Ticket_ID__c"] == json!("aa-1"))
        })
        .map(|c| c["Id"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert_eq!(owner_name(&id), json!("Sandbox Integration User"));

    let by_id = format!("/services/data/v62.0/sobjects/Case/{id}");
    assert_eq!(
        send(
            Method::PATCH,
            by_id.clone(),
            Some("FALSE"),
            json!({"Subject": "t"})
        )
        .await,
        204
    );
    assert_eq!(
        owner_name(&id),
        json!("Sandbox Integration User"),
        "FALSE: owner kept"
    );
    assert_eq!(
        send(Method::PATCH, by_id, None, json!({"Subject": "u"})).await,
        204
    );
    assert_eq!(
        owner_name(&id),
        json!("Sandbox Assignment Rule Queue"),
        "no header: rule ran"
    );

    assert_eq!(send(Method::PATCH, key_path.clone(), Some("FALSE"), json!({"OwnerId": sf.sim.dump()["User"].as_array().and_then(|u| u.iter().find(|u| u["Name"] == json!("Sandbox Integration User"))).map(|u| u["Id"].clone()).unwrap_or_default()})).await, 200);
    assert_eq!(owner_name(&id), json!("Sandbox Integration User"));
    assert_eq!(
        send(Method::PATCH, key_path, None, json!({"Subject": "v"})).await,
        200
    );
    assert_eq!(
        owner_name(&id),
        json!("Sandbox Assignment Rule Queue"),
        "upsert update: rule ran"
    );
}

/// A method the resource does not take is 405 `METHOD_NOT_ALLOWED` naming the allowed
/// ones (reference §7.2), not a 404 that reads like a missing record.
#[tokio::test]
async fn a_wrong_method_on_a_known_resource_is_405() {
    let sf = start().await;
    let token = sf.token().await;
    let (status, _, body) = sf
        .call(
            &token,
            Method::PUT,
            "/services/data/v62.0/sobjects/Case/500000000000000AAA",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            405,
            json!([{"message": "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,PATCH,DELETE", "errorCode": "METHOD_NOT_ALLOWED"}])
        )
    );
    let (status, _, body) = sf
        .call(
            &token,
            Method::DELETE,
            "/services/data/v62.0/query?q=SELECT+Id+FROM+Case",
            None,
        )
        .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (405, json!("METHOD_NOT_ALLOWED"))
    );
}
