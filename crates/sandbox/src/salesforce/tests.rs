//! Unit tests: SOQL parsing and errors (with positions), evaluation semantics, paging.

use serde_json::{json, Value};

use super::soql::{like_matches, parse, LikeTok, SoqlError};
use super::{query, SalesforceConfig, SalesforceSim, Store};

fn seed() -> Store {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sandbox/salesforce");
    Store::load_dir(&dir).expect("demo seed loads")
}

fn run(store: Store, q: &str) -> Result<Value, query::QueryError> {
    let sim = SalesforceSim::new(store, SalesforceConfig::default());
    let mut st = sim.lock();
    query::run(&mut st, q, "v62.0", false, 2000)
}

fn err(q: &str) -> SoqlError {
    match run(Store::new(), q) {
        Err(e) => SoqlError {
            code: e.code,
            message: e.message,
        },
        Ok(v) => panic!("expected an error for {q}, got {v}"),
    }
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["records"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["Name"].as_str().unwrap_or("<null>").to_string())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    n
}

#[test]
fn wrong_first_keyword_is_reported_like_salesforce() {
    let e = err("SELEKT Id FROM Account");
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert_eq!(e.message, "unexpected token: SELEKT");
}

#[test]
fn unknown_column_has_row_and_column() {
    // The recorded real message (reference §3.8), byte for byte.
    let e = err("SELECT Bacon__c FROM Account LIMIT 2");
    assert_eq!(e.code, "INVALID_FIELD");
    assert_eq!(
        e.message,
        "\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\nNo such column 'Bacon__c' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
}

#[test]
fn positions_count_rows_on_multi_line_queries() {
    let e = err("SELECT Id,\n  Name\nFROM Account\nWHERE Nope__c = 'x'");
    assert_eq!(e.code, "INVALID_FIELD");
    assert!(
        e.message
            .starts_with("\nWHERE Nope__c = 'x'\n      ^\nERROR at Row:4:Column:7\n"),
        "{}",
        e.message
    );
}

#[test]
fn mixing_and_or_without_parentheses_is_malformed() {
    let e = err("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Type = 'c'");
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert!(
        e.message
            .contains("ERROR at Row:1:Column:56\nunexpected token: 'OR'"),
        "{}",
        e.message
    );
    // With parentheses it is fine.
    assert!(run(
        Store::new(),
        "SELECT Id FROM Account WHERE (Name = 'a' AND Type = 'b') OR Type = 'c'"
    )
    .is_ok());
}

#[test]
fn other_errors() {
    assert_eq!(err("SELECT Id FROM Acount").code, "INVALID_TYPE");
    assert!(err("SELECT Id FROM Acount")
        .message
        .contains("sObject type 'Acount' is not supported"));
    assert_eq!(
        err("SELECT Id, (SELECT Id FROM Subs__r) FROM Account").code,
        "INVALID_TYPE"
    );
    assert_eq!(
        err("SELECT Owner__r.Name FROM Account").code,
        "INVALID_FIELD"
    );
    assert_eq!(
        err("SELECT Id FROM Account WHERE Name = 'a\\qb'").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        err("SELECT Id FROM Account WHERE Name = 'a").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        err("SELECT Id FROM Account WHERE Next_Renewal_Date__c = '2024-01-01'").code,
        "INVALID_FIELD"
    );
    assert_eq!(
        err("SELECT Id FROM Account WHERE CARR_This_Account__c = '5'").code,
        "INVALID_FIELD"
    );
    assert_eq!(
        err("SELECT Id FROM Account WHERE Name LIKE 'a\\%' AND").code,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        err("SELECT Id FROM Account OFFSET 2001").code,
        "NUMBER_OUTSIDE_VALID_RANGE"
    );
    assert_eq!(
        err("SELECT Id FROM Account WHERE Id = 'abc'").code,
        "INVALID_QUERY_FILTER_OPERATOR"
    );
    // `\%` is only legal in a LIKE pattern.
    assert_eq!(
        err("SELECT Id FROM Account WHERE Name = '10\\%'").code,
        "MALFORMED_QUERY"
    );
}

#[test]
fn like_is_case_insensitive_with_single_and_multi_wildcards() {
    let pat = |s: &str| -> Vec<LikeTok> {
        match parse(&format!("SELECT Id FROM Account WHERE Name LIKE '{s}'")) {
            Ok(q) => match q.filter {
                Some(super::soql::Cond::Like(_, p)) => p,
                other => panic!("{other:?}"),
            },
            Err(e) => panic!("{e:?}"),
        }
    };
    assert!(like_matches(&pat("USPUB_FED%"), "USPUB-FED-DOD"));
    assert!(like_matches(&pat("USPUB_FED%"), "uspubxfed"));
    assert!(!like_matches(&pat("USPUB_FED%"), "USPUBFED-X"));
    assert!(like_matches(&pat("USPUB-FED%"), "uspub-fed"));
    assert!(!like_matches(&pat("USPUB-FED%"), "USPUBXFED-LEGACY"));
    assert!(like_matches(&pat("appl_%"), "Apple"));
    assert!(!like_matches(&pat("appl_%"), "Appl"));
    assert!(like_matches(&pat("Ter\\%"), "ter%"));
    assert!(!like_matches(&pat("Ter\\%"), "Terra"));
    assert!(like_matches(&pat("a\\_b"), "A_B"));
    assert!(!like_matches(&pat("a\\_b"), "AxB"));
    assert!(like_matches(&pat("%"), ""));
}

#[test]
fn string_escapes_decode() {
    let v = run(
        seed(),
        "SELECT Name FROM Account WHERE Name = 'Wayne Enterprises' OR Name = 'It\\'s \\u0041'",
    );
    assert_eq!(names(&v.expect("runs")), ["Wayne Enterprises"]);
}

#[test]
fn comparisons_null_booleans_dates_numbers_order_limit() {
    let store = seed();
    let q = |s: &str| names(&run(store.clone(), s).expect(s));
    assert_eq!(
        q("SELECT Name FROM Account WHERE Next_Renewal_Date__c = 2027-03-01"),
        ["Duff Brewing"]
    );
    assert_eq!(
        q("select name from account where name in ('HOOLI', 'globex')"),
        ["Globex", "Hooli"]
    );
    assert_eq!(
        q("SELECT Name FROM Account WHERE CARR_This_Account__c >= 250000"),
        ["Department of Examples"]
    );
    // Boolean `= null` means false.
    let inactive = run(
        store.clone(),
        "SELECT Name FROM Contact WHERE Inactive_Contact__c != null",
    )
    .expect("runs");
    assert_eq!(names(&inactive), ["Erin Ellis"]);
    // NOT IN excludes null rows; != includes them.
    let not_in = q(
        "SELECT Name FROM Account WHERE GS_Health_Score_Color__c NOT IN ('Green', 'Yellow', 'Red')",
    );
    assert!(not_in.is_empty(), "{not_in:?}");
    let ne = q("SELECT Name FROM Account WHERE Account_Territory__c LIKE 'USPUB%' AND Solutions_Architect_Lookup__r.Name != 'Dana Scully'");
    assert!(
        ne.contains(&"Agency of Samples".to_string())
            && ne.contains(&"Bureau of Tests".to_string())
    );
    assert!(!ne.contains(&"Department of Examples".to_string()));
    // NOT, ORDER BY DESC, LIMIT, OFFSET.
    let v = run(
        store.clone(),
        "SELECT Name FROM Account WHERE NOT Type IN ('Customer', 'Former Customer', 'Partner') ORDER BY Name DESC LIMIT 2",
    )
    .expect("runs");
    let ordered: Vec<&str> = v["records"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["Name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ordered, ["Prospective Co", "Office of Demos"]);
    assert_eq!(v["totalSize"], json!(2));
    let v = run(
        store,
        "SELECT Name FROM Account WHERE Type = 'Prospect' ORDER BY Name OFFSET 1",
    )
    .expect("runs");
    // The blank-named US Federal prospect sorts first and is skipped.
    assert_eq!(
        names(&v),
        [
            "Mission of Unknown Plans",
            "Office of Demos",
            "Prospective Co"
        ]
    );
}

#[test]
fn result_shape_parent_child_attributes_and_floats() {
    let v = run(
        seed(),
        "SELECT Account.Name, Solutions_Architect_Lookup__r.Name, CARR_This_Account__c, (SELECT Name FROM Account.Contacts WHERE Email != null ORDER BY Name) FROM Account WHERE Account_Territory__c LIKE 'USPUB-FED-%' AND Name IN ('Department of Examples', 'Office of Demos', 'Agency of Samples') ORDER BY Name",
    )
    .expect("runs");
    let text = v.to_string();
    let r = &v["records"];
    assert_eq!(r[0]["Name"], "Agency of Samples");
    assert_eq!(r[0]["Solutions_Architect_Lookup__r"], Value::Null);
    assert_eq!(
        r[0]["Contacts"]["totalSize"],
        json!(2),
        "Dan and Erin have emails"
    );
    assert_eq!(r[1]["Solutions_Architect_Lookup__r"]["Name"], "Dana Scully");
    assert_eq!(
        r[1]["Solutions_Architect_Lookup__r"]["attributes"]["type"],
        "User"
    );
    assert!(r[1]["Solutions_Architect_Lookup__r"].get("Id").is_none());
    assert_eq!(
        r[1]["attributes"]["url"],
        "/services/data/v62.0/sobjects/Account/0018SDEMO000101QPA"
    );
    assert_eq!(
        r[1]["Contacts"]["records"][0]["attributes"]["type"],
        "Contact"
    );
    assert_eq!(r[1]["Contacts"]["records"][0]["Name"], "Alice Anders");
    assert!(r[1].get("Id").is_none(), "Id only when selected");
    assert!(text.contains("\"CARR_This_Account__c\":250000.0"), "{text}");
    // Keys come back in canonical casing whatever the query wrote.
    let v = run(
        seed(),
        "select account.name, carr_this_account__c from ACCOUNT where name = 'hooli'",
    )
    .expect("runs");
    assert_eq!(v["records"][0]["Name"], "Hooli");
    assert_eq!(v["records"][0]["CARR_This_Account__c"], json!(10000.0));
}

#[test]
fn pages_count_children_and_child_sets_page_on_their_own() {
    let config = SalesforceConfig {
        page_size: 4,
        child_page_size: 1,
        ..SalesforceConfig::default()
    };
    let sim = SalesforceSim::new(seed(), config);
    let mut st = sim.lock();
    let q = "SELECT Name, (SELECT Zuora__SoldToWorkEmail__c FROM Zuora__R00N40000001kyLcEAI__r ORDER BY Name) FROM Account WHERE Name LIKE 'A%' OR Name = 'Hooli' ORDER BY Name";
    let first = query::run(&mut st, q, "v62.0", false, 4).expect("runs");
    assert_eq!(first["totalSize"], json!(4));
    // Acme Corporation (1 inline child of 2) + Agency + Alliance = 4 with the child; Hooli next page.
    let recs = first["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(recs.len(), 3, "{first}");
    assert_eq!(first["done"], json!(false));
    let acme = &recs[0]["Zuora__R00N40000001kyLcEAI__r"];
    assert_eq!(acme["totalSize"], json!(2));
    assert_eq!(acme["done"], json!(false));
    assert_eq!(acme["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(recs[1]["Zuora__R00N40000001kyLcEAI__r"], Value::Null);
    let child_url = acme["nextRecordsUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let locator = child_url.rsplit('/').next().unwrap_or_default().to_string();
    assert!(
        child_url.starts_with("/services/data/v62.0/query/01g") && child_url.ends_with("-1"),
        "{child_url}"
    );
    let rest = query::more(&mut st, &locator, "v62.0", 4).expect("child page");
    assert_eq!(rest["done"], json!(true));
    assert!(rest.get("nextRecordsUrl").is_none());
    assert_eq!(
        rest["records"][0]["Zuora__SoldToWorkEmail__c"],
        "IT-Admin@Acme.example.com"
    );
    assert_eq!(
        rest["records"][0]["attributes"]["type"],
        "Zuora__CustomerAccount__c"
    );
    let next = first["nextRecordsUrl"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let last = query::more(&mut st, &next, "v62.0", 4).expect("page 2");
    assert_eq!(
        last["totalSize"],
        json!(4),
        "totalSize repeats on every page"
    );
    assert_eq!(names(&last), ["Hooli"]);
    assert!(last.get("nextRecordsUrl").is_none());
    assert_eq!(
        query::more(&mut st, "01gNOPE-2", "v62.0", 4).map_err(|e| e.code),
        Err("INVALID_QUERY_LOCATOR")
    );
}

#[test]
fn generator_is_deterministic_and_mixed() {
    let today = time::macros::date!(2026 - 11 - 25);
    let a = Store::generate(&super::GenerateConfig {
        accounts: 400,
        seed: 7,
        today,
    });
    let b = Store::generate(&super::GenerateConfig {
        accounts: 400,
        seed: 7,
        today,
    });
    let c = Store::generate(&super::GenerateConfig {
        accounts: 400,
        seed: 8,
        today,
    });
    assert_eq!(a.dump(), b.dump());
    assert_ne!(a.dump(), c.dump());
    assert_eq!(a.accounts().len(), 400);
    let count = |q: &str| {
        run(a.clone(), q).expect(q)["totalSize"]
            .as_u64()
            .unwrap_or(0)
    };
    assert!(count("SELECT Id FROM Account WHERE Type = 'Partner'") > 10);
    assert!(count("SELECT Id FROM Account WHERE Account_Territory__c LIKE 'USPUB-FED%'") > 30);
    assert!(count("SELECT Id FROM Contact WHERE Inactive_Contact__c = true") > 0);
    assert!(
        count(
            "SELECT Id FROM Customer_Subscription__c WHERE Current_Term_End_Date__c < 2023-11-25"
        ) > 5
    );
    assert!(count("SELECT Id FROM Customer_Subscription__c WHERE Product_Tier_Name_Short__c = 'Platinum Plus'") > 0);
    assert!(
        count(
            "SELECT Id FROM Zuora__CustomerAccount__c WHERE Zuora__SoldToWorkEmail__c LIKE '%@%'"
        ) > 50
    );
}

#[test]
fn odd_soql_is_a_400_error_never_a_panic() {
    // Truncated literals, lone operators, empty paths, non-ASCII and absurd numbers:
    // each answers a 400 with an error code (or runs), and the lexer/evaluator never
    // index past the text.
    let odd = [
        "",
        "-",
        "!",
        "<",
        "'",
        "\\",
        "SELECT",
        "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T",
        "SELECT Id FROM Account WHERE CreatedDate > 2024-01-0",
        "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T10:00:00+",
        "SELECT Id FROM Account WHERE Name = '\\",
        "SELECT Id FROM Account WHERE Name = 'abc\\'",
        "SELECT Id FROM Account WHERE Name LIKE '%",
        "SELECT Id FROM Account WHERE Name != ",
        "SELECT Id FROM Account WHERE Name = ñ",
        "SELECT Id FROM Account WHERE Name = 'é' ORDER BY",
        "SELECT . FROM Account",
        "SELECT Account. FROM Contact",
        "SELECT Account.Account.Name FROM Contact",
        "SELECT Id FROM Account LIMIT 99999999999999999999999",
        "SELECT Id FROM Account WHERE Id IN ()",
        "SELECT Id FROM Account WHERE AnnualRevenue > -",
        "SELECT Id FROM Account WHERE AnnualRevenue > -1.2.3",
        "SELECT (SELECT Id FROM Contacts) FROM Account ORDER BY Name DESC NULLS",
    ];
    for q in odd {
        if let Err(e) = run(seed(), q) {
            assert_eq!(e.status, 400, "{q:?}: {e:?}");
            assert!(!e.code.is_empty(), "{q:?}: {e:?}");
        }
    }
    for q in [
        "",
        "!",
        "SELECT Id FROM Account WHERE Name = '\\",
        "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T",
    ] {
        assert_eq!(err(q).code, "MALFORMED_QUERY", "{q:?}");
    }
}

#[test]
fn a_query_locator_past_the_rows_is_invalid_not_a_panic() {
    let sim = SalesforceSim::new(seed(), SalesforceConfig::default());
    let mut st = sim.lock();
    let first = query::run(&mut st, "SELECT Id FROM Account", "v62.0", false, 1).expect("runs");
    let url = first["nextRecordsUrl"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, locator) = url.rsplit_once('/').unwrap_or_default();
    let (cursor, _) = locator.rsplit_once('-').unwrap_or_default();
    assert!(!cursor.is_empty(), "{first}");
    // The last page exists; one past the end, a huge offset and garbage are all 400s.
    let total = first["totalSize"].as_u64().unwrap_or_default();
    let last = query::more(&mut st, &format!("{cursor}-{}", total - 1), "v62.0", 1)
        .expect("the last row is a page");
    assert_eq!(last["done"], json!(true));
    let end = query::more(&mut st, &format!("{cursor}-{total}"), "v62.0", 1).expect("empty page");
    assert_eq!(end["records"], json!([]));
    for bad in [
        format!("{cursor}-{}", total + 1),
        format!("{cursor}-{}", u64::MAX),
        format!("{cursor}-99999999999999999999999"),
        format!("{cursor}--1"),
        format!("{cursor}-"),
        "-".to_string(),
        String::new(),
    ] {
        let e = query::more(&mut st, &bad, "v62.0", 1).expect_err(&bad);
        assert_eq!((e.status, e.code), (400, "INVALID_QUERY_LOCATOR"), "{bad}");
    }
}

#[test]
fn query_rows_are_the_pages_rows_with_every_child_set_whole_and_no_cursor_left() {
    let q = "SELECT Name, (SELECT Zuora__SoldToWorkEmail__c FROM Zuora__R00N40000001kyLcEAI__r ORDER BY Name) FROM Account WHERE Name LIKE 'A%' OR Name = 'Hooli' ORDER BY Name";
    let page = run(seed(), q).expect("runs");
    let config = SalesforceConfig {
        child_page_size: 1,
        ..SalesforceConfig::default()
    };
    let sim = SalesforceSim::new(seed(), config);
    let mut rows = Vec::new();
    let n = sim.query_rows(q, "v62.0", |r| rows.push(r)).expect("runs");
    assert_eq!(n, rows.len());
    assert_eq!(Some(&rows), page["records"].as_array(), "{page}");
    // Acme's two billing accounts are both inline although the child page size is 1.
    assert_eq!(
        rows[0]["Zuora__R00N40000001kyLcEAI__r"]["records"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let st = sim.lock();
    assert!(st.cursors.is_empty());
    assert_eq!(st.config.child_page_size, 1);
    assert!(st.counts.is_empty());
}
