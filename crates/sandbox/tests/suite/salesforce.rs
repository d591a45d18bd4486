//! The simulated Salesforce over real HTTP, against `reference/salesforce-api.md`: the
//! original three queries on a seed built to separate them, paging, OAuth flows,
//! token expiry, Case DML and upsert, request counting, and a round trip through
//! the `sfdc-client` crate.

use crate::sf_common::{
    demo_store, form_q, sorted, start, start_with, JWT_KEY, JWT_PUB, OTHER_KEY,
};
use reqwest::Method;
use sandbox::salesforce::SalesforceConfig;
use serde_json::{json, Value};
use sync_core::soql::{GLOBAL_ACCOUNTS, US_FEDERAL_ACCOUNTS, US_FEDERAL_CONTACTS};

#[tokio::test]
async fn global_query_returns_each_where_branch_and_nothing_else() {
    let sf = start().await;
    let token = sf.token().await;
    let records = sf.query_all_pages(&token, GLOBAL_ACCOUNTS).await;
    let mut expected: Vec<&str> = vec![
        // Type IN ('Customer', 'Former Customer')
        "Acme Corporation",
        "Globex",
        "Initech",
        "Umbrella Corporation",
        "Stark Industries",
        "Wayne Enterprises",
        "Tyrell Corporation",
        "Cyberdyne Systems",
        "Soylent Industries",
        "Hooli",
        "Vandelay Industries",
        "Wonka Industries",
        "Oceanic Airlines",
        "Monarch Solutions",
        "Dharma Initiative",
        "Pied Piper",
        "Nakatomi Trading",
        "Massive Dynamic",
        "Rekall Inc",
        "Duff Brewing",
        "Gringotts Bank",
        "   ",
        "Cancelled Corp",
        // The query has no territory condition: US Federal customers come back too.
        "Department of Examples",
        "Agency of Samples",
        "Bureau of Tests",
        "Federal Fixtures Administration",
        "Commission on Seeds",
        "Legacy Territory Agency",
        "State of Placeholder",
        // The special account id.
        "Special Partner Account",
        // The partner branch (Authorized/Former × Alliance/Channel × Open/Select/Technology).
        "Former Partner Ltd",
        "Alliance Cloud Inc",
        "Open Channel GmbH",
        "Select Resellers Pty",
        "Technology Integrators",
        "Federal Partner LLC",
    ];
    expected.sort();
    assert_eq!(sorted(&records, "Name"), expected);
    // Prospects and a partner without a track are not returned.
    assert!(!sorted(&records, "Name")
        .iter()
        .any(|n| n == "Prospective Co" || n == "Trackless Partner"));

    let by_name = |n: &str| {
        records
            .iter()
            .find(|r| r["Name"] == n)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let acme = by_name("Acme Corporation");
    assert_eq!(acme["Account_ID_18__c"], "0018SDEMO000001QPA");
    assert!(
        acme.get("Account").is_none(),
        "Account.X on Account comes back as plain X"
    );
    assert_eq!(acme["CARR_This_Account__c"], json!(10000.0));
    assert_eq!(acme["Restricted_Account__c"], "No");
    assert_eq!(acme["Next_Renewal_Date__c"], Value::Null);
    assert_eq!(
        acme["Customer_Subscriptions__r"]["records"][0]["Product_Tier_Name_Short__c"],
        "Ultimate"
    );
    assert_eq!(
        acme["Customer_Subscriptions__r"]["records"][0]["Current_Term_End_Date__c"],
        "2099-12-31"
    );
    assert_eq!(
        acme["Zuora__Subscriptions__r"],
        Value::Null,
        "empty child set is null"
    );
    assert_eq!(acme["Zuora__R00N40000001kyLcEAI__r"]["totalSize"], json!(2));
    // Only Active subscriptions come back.
    assert_eq!(
        by_name("Cancelled Corp")["Customer_Subscriptions__r"],
        Value::Null
    );
    assert_eq!(
        by_name("Gringotts Bank")["Account_ID_18__c"],
        "0018SDEMO000026"
    );
    let raw = serde_json::to_string(&acme).unwrap_or_default();
    assert!(
        raw.contains("\"Number_of_Licenses_This_Account__c\":100.0"),
        "numbers are floats: {raw}"
    );
}

#[tokio::test]
async fn us_federal_queries_separate_uspub_fed_patterns_and_inactive_contacts() {
    let sf = start().await;
    let token = sf.token().await;
    let accounts = sf.query_all_pages(&token, US_FEDERAL_ACCOUNTS).await;
    assert_eq!(
        sorted(&accounts, "Name"),
        [
            // 110: a blank name (invalid_account in the US Federal demo).
            "   ",
            "Agency of Samples",
            "Bureau of Tests",
            "Commission on Seeds",
            "Department of Examples",
            "Federal Fixtures Administration",
            // 111: an unknown Support_Level__c fallback (unknown_tier).
            "Mission of Unknown Plans",
            "Office of Demos",
        ]
    );
    let doe = accounts
        .iter()
        .find(|r| r["Name"] == "Department of Examples")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(doe["Solutions_Architect_Lookup__r"]["Name"], "Dana Scully");
    assert_eq!(
        doe["Solutions_Architect_Lookup__r"]["attributes"]["type"],
        "User"
    );
    let aos = accounts
        .iter()
        .find(|r| r["Name"] == "Agency of Samples")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(aos["Solutions_Architect_Lookup__r"], Value::Null);
    assert_eq!(
        aos["Zuora__Subscriptions__r"]["records"][0]["Support_Level__c"],
        "Premium"
    );
    assert!(
        aos.get("Zuora__R00N40000001kyLcEAI__r").is_none(),
        "not selected, not present"
    );

    let contacts = sf.query_all_pages(&token, US_FEDERAL_CONTACTS).await;
    assert_eq!(
        sorted(&contacts, "Name"),
        [
            "Alice Anders",
            "Bob Baker",
            "Carol Chen",
            "Dan Dunn",
            "Frank Foster",
            "Grace Green",
            "Heidi Hall",
            "Ivan Ives",
            // USPUBXFED-LEGACY matches 'USPUB_FED%' (`_` is one character).
            "Judy Jones",
            // A prospect's contact.
            "Laura Lane",
        ]
    );
    let judy = contacts
        .iter()
        .find(|r| r["Name"] == "Judy Jones")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(judy["Account"]["Account_ID_18__c"], "0018SDEMO000107QPA");
    assert_eq!(judy["Account"]["Name"], "Legacy Territory Agency");
    assert_eq!(judy["Account"]["attributes"]["type"], "Account");
    assert_eq!(judy["Inactive_Contact__c"], json!(false));
    assert_eq!(judy["attributes"]["type"], "Contact");
    let frank = contacts
        .iter()
        .find(|r| r["Name"] == "Frank Foster")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        frank["Email"],
        Value::Null,
        "empty fields are explicit nulls"
    );
}

#[tokio::test]
async fn paging_follows_next_records_url_with_constant_total_size() {
    let config = SalesforceConfig {
        page_size: 7,
        child_page_size: 1,
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let token = sf.token().await;
    // Trailing slash and `+` for spaces, as the docs' curl examples send it.
    let url = format!(
        "{}/services/data/v62.0/query/?{}",
        sf.url,
        form_q(GLOBAL_ACCOUNTS)
    );
    let first: Value = sf
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("query")
        .json()
        .await
        .expect("json");
    assert_eq!(first["done"], json!(false));
    assert_eq!(first["totalSize"], json!(37));
    let next = first["nextRecordsUrl"].as_str().unwrap_or_default();
    assert!(next.starts_with("/services/data/v62.0/query/01g"), "{next}");
    let all = sf.query_all_pages(&token, GLOBAL_ACCOUNTS).await;
    assert_eq!(all.len(), 37);
    // Acme's second billing account is behind its own child locator.
    let acme = all
        .iter()
        .find(|r| r["Name"] == "Acme Corporation")
        .cloned()
        .unwrap_or(Value::Null);
    let child = &acme["Zuora__R00N40000001kyLcEAI__r"];
    assert_eq!(
        (child["done"].clone(), child["totalSize"].clone()),
        (json!(false), json!(2))
    );
    let (status, _, more) = sf
        .call(
            &token,
            Method::GET,
            child["nextRecordsUrl"].as_str().unwrap_or_default(),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        more["records"][0]["Zuora__SoldToWorkEmail__c"],
        "IT-Admin@Acme.example.com"
    );
    // batchSize below 200 is clamped up to 200, capped by the configured page size.
    let resp = sf
        .http
        .get(format!(
            "{}/services/data/v62.0/query?{}",
            sf.url,
            form_q("SELECT Id FROM Account")
        ))
        .bearer_auth(&token)
        .header("Sforce-Query-Options", "batchSize=5")
        .send()
        .await
        .expect("query");
    let page: Value = resp.json().await.expect("json");
    assert_eq!(page["records"].as_array().map(Vec::len), Some(7));
}

#[tokio::test]
async fn bad_soql_is_a_400_array_with_position() {
    let sf = start().await;
    let token = sf.token().await;
    let (status, headers, body) = sf
        .call(
            &token,
            Method::GET,
            &format!(
                "/services/data/v62.0/query?{}",
                form_q("SELECT Bacon__c FROM Account LIMIT 2")
            ),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errorCode"], "INVALID_FIELD");
    assert!(body[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("ERROR at Row:1:Column:8"));
    assert!(
        body[0].get("fields").is_none(),
        "query errors have no fields key"
    );
    assert!(headers.get("Sforce-Limit-Info").is_some());
}

#[tokio::test]
async fn oauth_flows_answer_in_the_real_shapes() {
    let config = SalesforceConfig {
        required_client: Some(("cid".into(), "csecret".into())),
        jwt_public_key_pem: Some(JWT_PUB.into()),
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let (status, ok) = sf
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ])
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["token_type"], "Bearer");
    assert_eq!(ok["instance_url"], sf.url.as_str());
    assert!(
        ok["issued_at"].as_str().is_some_and(|s| s.len() == 13),
        "ms in a string: {ok}"
    );
    assert!(ok.get("expires_in").is_none());
    let (status, bad) = sf
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "cid"),
            ("client_secret", "nope"),
        ])
        .await;
    assert_eq!(
        (status, bad),
        (
            400,
            json!({"error": "invalid_client", "error_description": "invalid client credentials"})
        )
    );
    // Basic auth form of client credentials.
    let resp = sf
        .http
        .post(format!("{}/services/oauth2/token", sf.url))
        .basic_auth("cid", Some("csecret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status().as_u16(), 200);
    let (status, _) = sf
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
            ("username", "u@example.com"),
            ("password", "pwTOKEN"),
        ])
        .await;
    assert_eq!(status, 200);
    let (status, body) = sf.token_request(&[("grant_type", "magic")]).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("unsupported_grant_type"))
    );

    // JWT bearer: a good assertion, then one claim or the key wrong at a time.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let jwt = |key: &str, claims: Value| {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(key.as_bytes()).expect("test key");
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &key,
        )
        .expect("sign")
    };
    let good = json!({"iss": "cid", "sub": "u@example.com", "aud": "https://login.salesforce.com", "exp": (now + 180).to_string()});
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let (status, body) = sf
        .token_request(&[
            ("grant_type", grant),
            ("assertion", &jwt(JWT_KEY, good.clone())),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let mut own_origin = good.clone();
    own_origin["aud"] = json!(sf.url);
    own_origin["exp"] = json!(now + 60);
    assert_eq!(
        sf.token_request(&[
            ("grant_type", grant),
            ("assertion", &jwt(JWT_KEY, own_origin))
        ])
        .await
        .0,
        200
    );
    let cases = [
        (
            json!({"aud": "login.example.com"}),
            JWT_KEY,
            "audience is invalid",
        ),
        (
            json!({"exp": now - 600}),
            JWT_KEY,
            "expired authorization code",
        ),
        (
            json!({}),
            OTHER_KEY,
            "invalid assertion: signature does not verify",
        ),
    ];
    for (patch, key, description) in cases {
        let mut claims = good.clone();
        if let (Some(c), Some(p)) = (claims.as_object_mut(), patch.as_object()) {
            c.extend(p.clone());
        }
        let (status, body) = sf
            .token_request(&[("grant_type", grant), ("assertion", &jwt(key, claims))])
            .await;
        assert_eq!(
            (status, body),
            (
                400,
                json!({"error": "invalid_grant", "error_description": description})
            )
        );
    }
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("other");
    let (status, body) = sf
        .token_request(&[
            ("grant_type", grant),
            ("assertion", &jwt(JWT_KEY, wrong_iss)),
        ])
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("invalid_client_id"))
    );
}

#[tokio::test]
async fn tokens_expire_after_n_requests_and_on_demand() {
    let config = SalesforceConfig {
        token_ttl_requests: Some(2),
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let token = sf.token().await;
    let path = format!(
        "/services/data/v62.0/query?{}",
        form_q("SELECT Id FROM User")
    );
    assert_eq!(sf.call(&token, Method::GET, &path, None).await.0, 200);
    assert_eq!(sf.call(&token, Method::GET, &path, None).await.0, 200);
    let (status, _, body) = sf.call(&token, Method::GET, &path, None).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        )
    );
    // A new token works until the admin endpoint expires everything.
    let token = sf.token().await;
    assert_eq!(sf.call(&token, Method::GET, &path, None).await.0, 200);
    let resp = sf
        .http
        .post(format!("{}/__admin/tokens/expire", sf.url))
        .send()
        .await
        .expect("admin");
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(sf.call(&token, Method::GET, &path, None).await.0, 401);
    assert_eq!(sf.call("garbage", Method::GET, &path, None).await.0, 401);
}

#[tokio::test]
async fn case_create_read_update_and_upsert_status_codes() {
    let sf = start().await;
    let token = sf.token().await;
    let base = "/services/data/v62.0/sobjects/Case";
    let acme = "0018SDEMO000001QPA";
    // Upsert creates: 201 + created:true + Location.
    let upsert = format!("{base}/Zendesk_Support_Ticket_ID__c/4711");
    let body =
        json!({"AccountId": acme, "Subject": "Cannot log in", "Priority": "High", "Origin": "Web"});
    let (status, headers, created) = sf
        .call(&token, Method::PATCH, &upsert, Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created"], json!(true));
    assert_eq!(created["success"], json!(true));
    assert_eq!(created["errors"], json!([]));
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert!(id.starts_with("500") && id.len() == 18);
    assert_eq!(
        headers.get("location").and_then(|h| h.to_str().ok()),
        Some(format!("{base}/{id}").as_str())
    );
    // Again: 200 created:false (v46+), 204 before v46.
    let (status, _, updated) = sf
        .call(
            &token,
            Method::PATCH,
            &upsert,
            Some(json!({"Status": "Closed"})),
        )
        .await;
    assert_eq!(
        (status, updated),
        (
            200,
            json!({"id": id, "success": true, "errors": [], "created": false})
        )
    );
    let (status, _, empty) = sf
        .call(
            &token,
            Method::PATCH,
            "/services/data/v45.0/sobjects/Case/Zendesk_Support_Ticket_ID__c/4711",
            Some(json!({"Subject": "x"})),
        )
        .await;
    assert_eq!((status, empty), (204, Value::Null));
    // Read back: derived fields.
    let (status, _, case) = sf
        .call(&token, Method::GET, &format!("{base}/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(case["Status"], "Closed");
    assert_eq!(case["IsClosed"], json!(true));
    assert!(case["ClosedDate"]
        .as_str()
        .is_some_and(|d| d.ends_with("+0000")));
    assert_eq!(case["Zendesk_Support_Ticket_ID__c"], "4711");
    assert!(case["CaseNumber"].as_str().is_some_and(|n| n.len() == 8));
    // No Sforce-Auto-Assign header: the assignment rule picked the owner.
    let owner = case["OwnerId"].as_str().unwrap_or_default().to_string();
    let (_, _, user) = sf
        .call(
            &token,
            Method::GET,
            &format!("/services/data/v62.0/sobjects/User/{owner}?fields=Name"),
            None,
        )
        .await;
    assert_eq!(user["Name"], "Sandbox Assignment Rule Queue");
    // PATCH by id: 204.
    let (status, _, _) = sf
        .call(
            &token,
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(json!({"Status": "Working"})),
        )
        .await;
    assert_eq!(status, 204);
    let (_, _, case) = sf
        .call(
            &token,
            Method::GET,
            &format!("{base}/{id}?fields=IsClosed,ClosedDate"),
            None,
        )
        .await;
    assert_eq!(
        (case["IsClosed"].clone(), case["ClosedDate"].clone()),
        (json!(false), Value::Null)
    );
    // Read by external id.
    let (status, _, by_key) = sf
        .call(
            &token,
            Method::GET,
            &format!("{upsert}?fields=Subject"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_key["Id"], id.as_str());
    assert_eq!(by_key["Subject"], "x");
    let missing = format!("{base}/Zendesk_Support_Ticket_ID__c/none");
    assert_eq!(sf.call(&token, Method::GET, &missing, None).await.0, 404);
    // Two Cases with one key: 300 with their URLs.
    let (status, _, _) = sf
        .call(
            &token,
            Method::POST,
            &format!("{base}/"),
            Some(json!({"Zendesk_Support_Ticket_ID__c": "4711"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _, many) = sf
        .call(
            &token,
            Method::PATCH,
            &upsert,
            Some(json!({"Subject": "y"})),
        )
        .await;
    assert_eq!(status, 300);
    assert_eq!(many.as_array().map(Vec::len), Some(2));
    assert!(many[0]
        .as_str()
        .is_some_and(|u| u.starts_with("/services/data/v62.0/sobjects/Case/500")));
}

#[tokio::test]
async fn case_errors_in_real_shapes() {
    let sf = start().await;
    let token = sf.token().await;
    let base = "/services/data/v62.0/sobjects/Case";
    let call = |m: Method, p: String, b: Option<Value>| {
        let sf = &sf;
        let token = token.clone();
        async move { sf.call(&token, m, &p, b).await }
    };
    // AccountId that is no Account (a Contact id, then an unknown one).
    for account in ["0038SDEMO000001QPA", "0018SDEMO000999QPA"] {
        let (status, _, body) = call(
            Method::PATCH,
            format!("{base}/Zendesk_Support_Ticket_ID__c/1"),
            Some(json!({"AccountId": account})),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body[0]["errorCode"],
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
        );
        assert_eq!(
            body[0]["message"],
            format!("insufficient access rights on cross-reference id: {account}")
        );
    }
    let (status, _, body) = call(Method::PATCH, format!("{base}/Nope__c/1"), Some(json!({}))).await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (404, json!("NOT_FOUND"))
    );
    assert_eq!(
        body[0]["message"],
        "Provided external ID field does not exist or is not accessible: Nope__c"
    );
    let (status, _, body) = call(
        Method::POST,
        base.to_string(),
        Some(json!({"Colour__c": "red"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!([{"message": "No such column 'Colour__c' on sobject of type Case", "errorCode": "INVALID_FIELD", "fields": []}])
        )
    );
    let (status, _, body) = call(
        Method::POST,
        base.to_string(),
        Some(json!({"IsClosed": true})),
    )
    .await;
    assert_eq!(
        (
            status,
            body[0]["errorCode"].clone(),
            body[0]["fields"].clone()
        ),
        (
            400,
            json!("INVALID_FIELD_FOR_INSERT_UPDATE"),
            json!(["IsClosed"])
        )
    );
    let (status, _, body) = call(
        Method::POST,
        base.to_string(),
        Some(json!({"Id": "500000000000000AAA"})),
    )
    .await;
    assert_eq!(
        (status, body[0]["message"].clone()),
        (
            400,
            json!("The Id field should not be specified in the sobject data.")
        )
    );
    let (status, _, body) = call(
        Method::POST,
        base.to_string(),
        Some(json!({"Description": "x".repeat(32_001)})),
    )
    .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (400, json!("STRING_TOO_LONG"))
    );
    let (status, _, body) = call(Method::GET, format!("{base}/5008SDEMO999999"), None).await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (404, json!("NOT_FOUND"))
    );
    let (status, _, body) = call(Method::PATCH, format!("{base}/nonsense"), Some(json!({}))).await;
    // The recorded real body (reference §5.3).
    assert_eq!(
        (status, body),
        (
            400,
            json!([{"message": "Record ID: id value of incorrect type: nonsense", "errorCode": "MALFORMED_ID", "fields": ["Id"]}])
        )
    );
    let (status, _, body) = call(
        Method::GET,
        "/services/data/v62.0/limits/nothing".to_string(),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("GET /services/data/v62.0/limits/nothing")),
        "{body}"
    );
}

#[tokio::test]
async fn requests_are_counted_by_endpoint_and_state_is_dumped() {
    let sf = start().await;
    let token = sf.token().await;
    let q = format!(
        "/services/data/v62.0/query?{}",
        form_q("SELECT Id FROM Account")
    );
    sf.call(&token, Method::GET, &q, None).await;
    sf.call(
        &token,
        Method::PATCH,
        "/services/data/v62.0/sobjects/Case/Zendesk_Support_Ticket_ID__c/9",
        Some(json!({"Subject": "s"})),
    )
    .await;
    let (_, headers, _) = sf
        .call(
            &token,
            Method::POST,
            "/services/data/v62.0/sobjects/Case",
            Some(json!({"Subject": "t"})),
        )
        .await;
    assert_eq!(
        headers
            .get("Sforce-Limit-Info")
            .and_then(|h| h.to_str().ok()),
        Some("api-usage=3/100000")
    );
    let counts = sf.sim.request_counts();
    assert_eq!(counts.get("POST /services/oauth2/token"), Some(&1));
    assert_eq!(counts.get("GET query"), Some(&1));
    assert_eq!(counts.get("PATCH sobjects/Case upsert"), Some(&1));
    assert_eq!(counts.get("POST sobjects/Case"), Some(&1));
    let over_http: Value = sf
        .http
        .get(format!("{}/__admin/requests", sf.url))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    assert_eq!(over_http["GET query"], json!(1));
    let state: Value = sf
        .http
        .get(format!("{}/__admin/state", sf.url))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    assert_eq!(state["Case"].as_array().map(Vec::len), Some(2));
    assert_eq!(state, sf.sim.dump());
    // Sforce-Auto-Assign: FALSE keeps the integration user as owner.
    let resp = sf
        .http
        .post(format!("{}/services/data/v62.0/sobjects/Case", sf.url))
        .bearer_auth(&token)
        .header("Sforce-Auto-Assign", "FALSE")
        .json(&json!({"Subject": "u"}))
        .send()
        .await
        .expect("create");
    let id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let case = sf.sim.dump()["Case"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["Id"] == id.as_str()).cloned());
    let owner = case.map(|c| c["OwnerId"].clone()).unwrap_or(Value::Null);
    let users = sf.sim.dump()["User"].clone();
    let owner_name = users
        .as_array()
        .and_then(|u| u.iter().find(|u| u["Id"] == owner))
        .map(|u| u["Name"].clone());
    assert_eq!(owner_name, Some(json!("Sandbox Integration User")));
}

/// The real client against the simulator: token, query stream with top-level and
/// child pages, token renewal after expiry, upsert outcomes and typed errors.
#[tokio::test]
async fn round_trip_through_sfdc_client() {
    use futures::StreamExt;
    use sfdc_client::{Client, Credentials, Error, RetryPolicy, UpsertOutcome};

    let config = SalesforceConfig {
        page_size: 7,
        child_page_size: 1,
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let client = Client::builder()
        .login_url(sf.url.clone())
        .credentials(Credentials::ClientCredentials {
            client_id: "id".into(),
            client_secret: "secret".to_owned().into(),
        })
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");

    let rows: Vec<Value> = client
        .query::<Value>(GLOBAL_ACCOUNTS)
        .map(|item| item.expect("page").expect("record"))
        .collect()
        .await;
    assert_eq!(rows.len(), 37);
    let acme = rows
        .iter()
        .find(|r| r["Name"] == "Acme Corporation")
        .cloned()
        .unwrap_or(Value::Null);
    let billing = &acme["Zuora__R00N40000001kyLcEAI__r"];
    assert_eq!(
        billing["records"].as_array().map(Vec::len),
        Some(2),
        "child pages followed: {billing}"
    );

    // Every token dies; the client renews once and carries on.
    sf.sim.expire_tokens();
    let contacts = client
        .query::<Value>(US_FEDERAL_CONTACTS)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(contacts.len(), 10);
    assert!(contacts.iter().all(|c| matches!(c, Ok(Ok(_)))));
    assert_eq!(
        sf.sim.request_counts().get("POST /services/oauth2/token"),
        Some(&2)
    );

    let case = json!({"AccountId": "0018SDEMO000001QPA", "Subject": "Round trip", "Status": "New"});
    let first = client
        .upsert("Case", "Zendesk_Support_Ticket_ID__c", "rt-1", &case)
        .await
        .expect("upsert");
    let UpsertOutcome::Created { id } = first else {
        panic!("expected Created, got {first:?}")
    };
    let again = client
        .upsert(
            "Case",
            "Zendesk_Support_Ticket_ID__c",
            "rt-1",
            &json!({"Status": "Closed"}),
        )
        .await;
    assert_eq!(
        again.expect("update"),
        UpsertOutcome::Updated {
            id: Some(id.clone())
        }
    );
    let stored = sf.sim.dump()["Case"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["Id"] == id.as_str()).cloned());
    assert_eq!(
        stored.map(|c| (c["Status"].clone(), c["IsClosed"].clone())),
        Some((json!("Closed"), json!(true)))
    );

    let missing = json!({"AccountId": "0018SDEMO000999QPA", "Subject": "No account"});
    let err = client
        .upsert("Case", "Zendesk_Support_Ticket_ID__c", "rt-2", &missing)
        .await
        .expect_err("no account");
    assert_eq!(
        err.error_codes(),
        ["INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"],
        "{err}"
    );

    client
        .create("Case", &json!({"Zendesk_Support_Ticket_ID__c": "rt-1"}))
        .await
        .expect("second case");
    let err = client
        .upsert("Case", "Zendesk_Support_Ticket_ID__c", "rt-1", &json!({}))
        .await
        .expect_err("two matches");
    assert!(
        matches!(err, Error::MultipleMatches { ref ids, .. } if ids.len() == 2),
        "{err:?}"
    );
}

/// The client's JWT bearer flow against a simulator that verifies the signature.
#[tokio::test]
async fn sfdc_client_jwt_bearer_flow_is_accepted_and_a_wrong_key_refused() {
    use futures::StreamExt;
    use sfdc_client::{Client, Credentials, RetryPolicy};

    let config = SalesforceConfig {
        required_client: Some(("cid".into(), "unused".into())),
        jwt_public_key_pem: Some(JWT_PUB.into()),
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let client_with = |key: &str| {
        Client::builder()
            .login_url(sf.url.clone())
            .credentials(Credentials::JwtBearer {
                client_id: "cid".into(),
                username: "integration@example.com".into(),
                private_key_pem: key.to_owned().into(),
                audience: "https://login.salesforce.com".into(),
            })
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("client")
    };
    let users: Vec<_> = client_with(JWT_KEY)
        .query::<Value>("SELECT Name FROM User")
        .collect()
        .await;
    assert!(users.len() >= 2 && users.iter().all(|u| matches!(u, Ok(Ok(_)))));
    let refused: Vec<_> = client_with(OTHER_KEY)
        .query::<Value>("SELECT Name FROM User")
        .collect()
        .await;
    assert!(matches!(refused.as_slice(), [Err(_)]), "{refused:?}");
}

#[tokio::test]
async fn collections_answer_per_item_in_order_and_roll_back_all_or_none() {
    let sf = start().await;
    let token = sf.token().await;
    let path = "/services/data/v62.0/composite/sobjects";
    let good = json!({"attributes": {"type": "Case"}, "Subject": "ok"});
    let bad = json!({"attributes": {"type": "Case"}, "AccountId": "0018SDEMO000999QPA"});
    let (status, _, body) = sf
        .call(
            &token,
            Method::POST,
            path,
            Some(json!({"allOrNone": false, "records": [good, bad]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["success"], json!(true));
    let created = body[0]["id"].as_str().unwrap_or_default().to_string();
    assert!(created.starts_with("500"));
    assert_eq!(body[1]["success"], json!(false));
    assert_eq!(body[1]["id"], Value::Null);
    assert_eq!(
        body[1]["errors"][0]["statusCode"],
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
    );
    assert!(body[1]["errors"][0].get("errorCode").is_none());

    let before = sf.sim.dump()["Case"].as_array().map(Vec::len);
    let (_, _, body) = sf
        .call(
            &token,
            Method::POST,
            path,
            Some(json!({"allOrNone": true, "records": [good, bad]})),
        )
        .await;
    assert_eq!(
        body[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        sf.sim.dump()["Case"].as_array().map(Vec::len),
        before,
        "nothing written"
    );

    let update =
        json!({"records": [{"attributes": {"type": "Case"}, "id": created, "Status": "Closed"}]});
    let (status, _, body) = sf.call(&token, Method::PATCH, path, Some(update)).await;
    assert_eq!(
        (status, body),
        (200, json!([{"id": created, "success": true, "errors": []}]))
    );
    let records: Vec<Value> = (0..201).map(|_| good.clone()).collect();
    let (status, _, body) = sf
        .call(
            &token,
            Method::POST,
            path,
            Some(json!({"records": records})),
        )
        .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (400, json!("EXCEEDED_ID_LIMIT"))
    );
}

#[tokio::test]
async fn daily_limit_answers_403_request_limit_exceeded() {
    let sf = start().await;
    let token = sf.token().await;
    let resp = sf
        .http
        .post(format!("{}/__admin/limits?daily=2", sf.url))
        .send()
        .await
        .expect("admin");
    assert_eq!(resp.status().as_u16(), 204);
    let q = format!(
        "/services/data/v62.0/query?{}",
        form_q("SELECT Id FROM User")
    );
    let (_, headers, _) = sf.call(&token, Method::GET, &q, None).await;
    assert_eq!(
        headers
            .get("Sforce-Limit-Info")
            .and_then(|h| h.to_str().ok()),
        Some("api-usage=1/2")
    );
    assert_eq!(sf.call(&token, Method::GET, &q, None).await.0, 200);
    let (status, _, body) = sf.call(&token, Method::GET, &q, None).await;
    assert_eq!(
        (status, body),
        (
            403,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
        )
    );
}

/// The whole wire shape of one page, for review: the US Federal accounts query on the
/// demo seed (parents, null parents, child sets, null child sets, floats, dates).
#[tokio::test]
async fn us_federal_accounts_page_snapshot() {
    let sf = start().await;
    let token = sf.token().await;
    let path = format!("/services/data/v62.0/query?{}", form_q(US_FEDERAL_ACCOUNTS));
    let (status, _, page) = sf.call(&token, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!(page);
}

#[tokio::test]
async fn tokens_expire_after_a_time_and_client_credentials_need_my_domain() {
    let config = SalesforceConfig {
        token_ttl: Some(std::time::Duration::from_millis(150)),
        ..SalesforceConfig::default()
    };
    let sf = start_with(demo_store(), config).await;
    let path = format!(
        "/services/data/v62.0/query?{}",
        form_q("SELECT Id FROM User")
    );
    // A fresh token is accepted. A stall longer than its 150 ms between issuing and
    // using it would expire it first, so a few fresh tokens are tried (not a timing
    // assertion: any one accepted is enough).
    let mut accepted = None;
    for _ in 0..5 {
        let token = sf.token().await;
        if sf.call(&token, Method::GET, &path, None).await.0 == 200 {
            accepted = Some(token);
            break;
        }
    }
    let token = accepted.expect("a fresh token is accepted");
    // Whatever the schedule, 250 ms after its use the token is older than 150 ms.
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert_eq!(sf.call(&token, Method::GET, &path, None).await.0, 401);

    let resp = sf
        .http
        .post(format!("{}/services/oauth2/token", sf.url))
        .header("Host", "login.salesforce.com")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "a"),
            ("client_secret", "b"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "request not supported on this domain"})
    );
}

/// A seed where each account fails (or passes) exactly one condition of the original
/// queries, so a wrong operator, pattern or branch shows up as one wrong name.
#[tokio::test]
async fn separating_seed_distinguishes_every_branch() {
    use sandbox::salesforce::{schema, Store};
    let mut store = Store::new();
    let mut add = |sobject: &str, row: Value| -> String {
        let s = schema::sobject(sobject).expect("known sObject");
        let row = row.as_object().cloned().expect("object");
        store.insert_seed(s, row).expect("valid row")
    };
    let partner = |name: &str, status: &str, ptype: &str, track: &str| {
        json!({"Name": name, "Type": "Partner", "Partners_Partner_Status__c": status,
               "Partners_Partner_Type__c": ptype, "Partner_Track__c": track})
    };
    for row in [
        json!({"Name": "G customer", "Type": "Customer"}),
        json!({"Name": "G former lowercase", "Type": "former customer"}),
        json!({"Name": "G prospect", "Type": "Prospect"}),
        json!({"Name": "G no type"}),
        partner(
            "P ok authorized alliance open",
            "Authorized",
            "Alliance",
            "Open",
        ),
        partner("P ok former channel select", "Former", "Channel", "Select"),
        partner("P ok technology", "Authorized", "Channel", "Technology"),
        partner("P bad status", "Pending", "Channel", "Open"),
        partner("P bad type", "Authorized", "Reseller", "Open"),
        partner("P bad track", "Authorized", "Channel", "Registered"),
        json!({"Id": "0014M00001sGJ8xQAG", "Name": "P special id", "Type": "Partner"}),
    ] {
        add("Account", row);
    }
    let fed = |name: &str, ty: &str, territory: &str| json!({"Name": name, "Type": ty, "Account_Territory__c": territory});
    let mut ids = std::collections::BTreeMap::new();
    for (name, ty, territory) in [
        ("F dash", "Customer", "USPUB-FED-DOD"),
        ("F prospect", "Prospect", "uspub-fed-civ"),
        ("F partner", "Partner", "USPUB-FED-CIV"),
        ("F underscore only", "Customer", "USPUBXFED"),
        ("F literal underscore", "Customer", "USPUB_FED"),
        ("F no separator", "Customer", "USPUBFED"),
        ("F sled", "Customer", "USPUB-SLED"),
    ] {
        ids.insert(name, add("Account", fed(name, ty, territory)));
    }
    for (account, name, inactive) in [
        ("F dash", "c dash", false),
        ("F dash", "c dash inactive", true),
        ("F prospect", "c prospect", false),
        ("F partner", "c partner", false),
        ("F underscore only", "c underscore only", false),
        ("F literal underscore", "c literal underscore", false),
        ("F no separator", "c no separator", false),
        ("F sled", "c sled", false),
    ] {
        add(
            "Contact",
            json!({"LastName": name, "Email": format!("{}@x.gov", name.replace(' ', ".")), "AccountId": ids[account], "Inactive_Contact__c": inactive}),
        );
    }
    add(
        "Contact",
        json!({"LastName": "c orphan", "Email": "orphan@x.gov"}),
    );

    let sf = start_with(store, SalesforceConfig::default()).await;
    let token = sf.token().await;
    let global = sf.query_all_pages(&token, GLOBAL_ACCOUNTS).await;
    assert_eq!(
        sorted(&global, "Name"),
        [
            "F dash",
            "F literal underscore",
            "F no separator",
            "F sled",
            "F underscore only",
            "G customer",
            "G former lowercase",
            "P ok authorized alliance open",
            "P ok former channel select",
            "P ok technology",
            "P special id",
        ]
    );
    let accounts = sf.query_all_pages(&token, US_FEDERAL_ACCOUNTS).await;
    assert_eq!(sorted(&accounts, "Name"), ["F dash", "F prospect"]);
    let contacts = sf.query_all_pages(&token, US_FEDERAL_CONTACTS).await;
    assert_eq!(
        sorted(&contacts, "Name"),
        [
            "c dash",
            "c literal underscore",
            "c prospect",
            "c underscore only"
        ]
    );
}

#[tokio::test]
async fn created_records_get_derived_fields() {
    let sf = start().await;
    let token = sf.token().await;
    let (status, _, created) = sf
        .call(
            &token,
            Method::POST,
            "/services/data/v62.0/sobjects/Case",
            Some(json!({"Subject": "closed on create", "Status": "Closed"})),
        )
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap_or_default();
    let (_, _, case) = sf
        .call(
            &token,
            Method::GET,
            &format!("/services/data/v62.0/sobjects/Case/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (case["Status"].clone(), case["IsClosed"].clone()),
        (json!("Closed"), json!(true))
    );
    assert!(case["ClosedDate"].is_string() && case["CreatedDate"].is_string());
    let (status, _, created) = sf
        .call(&token, Method::POST, "/services/data/v62.0/sobjects/Contact", Some(json!({"FirstName": "New", "LastName": "Person", "AccountId": "0018SDEMO000101QPA"})))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("003"));
    let q = format!(
        "/services/data/v62.0/query?{}",
        form_q(&format!(
            "SELECT Name, Account.Name FROM Contact WHERE Id = '{id}'"
        ))
    );
    let (_, _, page) = sf.call(&token, Method::GET, &q, None).await;
    assert_eq!(page["records"][0]["Name"], "New Person");
    assert_eq!(
        page["records"][0]["Account"]["Name"],
        "Department of Examples"
    );
}
