//! Bad input (issue 16): the corpus in `fixtures/bad/` (Salesforce records with wrong
//! types, missing fields, huge and non-ASCII strings, impossible dates; mapping files
//! that are empty, malformed, with duplicate keys or unknown options) and properties
//! over arbitrary input: decoding and loading never panic, and every refusal names the
//! record (its `Account_ID_18__c` and field) or the file.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use sync_core::mapping::{Instance, Mapping, GLOBAL_TOML, MAX_MAPPING_BYTES};
use sync_core::records::AccountDecoder;
use sync_core::{decode_accounts, decode_contacts, Error};

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bad")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The record of a corpus entry: `record`, or `record_json` for text serde_json's
/// `Value` cannot hold as written (a number out of range is refused when decoding the
/// field, as the REST body would be).
fn record_of(entry: &Value) -> Option<Value> {
    match entry.get("record_json").and_then(Value::as_str) {
        Some(text) => serde_json::from_str(text).ok(),
        None => entry.get("record").cloned(),
    }
}

#[test]
fn every_bad_salesforce_record_is_one_finding_naming_the_record_and_the_field() {
    let corpus = read_json(&bad_dir().join("salesforce/global-accounts.json"));
    let entries = corpus.as_array().expect("a list of cases");
    assert!(entries.len() >= 20, "{}", entries.len());
    for entry in entries {
        let case = entry["case"].as_str().unwrap_or_default();
        let Some(record) = record_of(entry) else {
            // serde_json itself refuses the text (e.g. 1e400): the client names the
            // page it could not decode; nothing reaches the rules.
            assert_eq!(entry["outcome"], "invalid", "{case}");
            continue;
        };
        let raw_id = record
            .get("Account_ID_18__c")
            .and_then(Value::as_str)
            .map(str::to_string);
        let decoded = decode_accounts(Instance::Global, vec![record]);
        match entry["outcome"].as_str() {
            Some("valid") => {
                assert_eq!(decoded.items.len(), 1, "{case}: {:?}", decoded.findings);
                assert!(decoded.findings.is_empty(), "{case}");
            }
            _ => {
                assert!(decoded.items.is_empty(), "{case}: decoded");
                assert_eq!(decoded.findings.len(), 1, "{case}");
                let finding = &decoded.findings[0];
                let field = entry["names_field"].as_str().unwrap_or_default();
                assert!(
                    finding.message.contains(field),
                    "{case}: {field} not named in {:?}",
                    finding.message
                );
                // The record is named by its id whenever it had a string id.
                if let Some(id) = raw_id.filter(|id| !id.trim().is_empty()) {
                    assert_eq!(finding.salesforce_id.as_deref(), Some(id.trim()), "{case}");
                }
            }
        }
    }
}

#[test]
fn a_huge_non_ascii_name_decodes_without_harm() {
    let name = "Ωmega 株式会社 ".repeat(50_000);
    let record = serde_json::json!({
        "attributes": {"type": "Account"},
        "Account_ID_18__c": "0018BAD000000099QP",
        "Name": name,
    });
    let decoded = decode_accounts(Instance::Global, vec![record]);
    assert_eq!(decoded.items.len(), 1);
    assert_eq!(decoded.items[0].name, name.trim());
}

fn mapping_case(name: &str) -> (PathBuf, String) {
    let path = bad_dir().join("mapping").join(name);
    let expect = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("# expect: ").map(str::to_string))
        })
        .unwrap_or_default();
    (path, expect)
}

#[test]
fn every_bad_mapping_file_is_refused_naming_the_file_and_the_problem() {
    let mut seen = 0;
    for entry in std::fs::read_dir(bad_dir().join("mapping")).expect("mapping corpus") {
        let file_name = entry.expect("entry").file_name();
        let name = file_name.to_string_lossy().to_string();
        if !name.ends_with(".toml") {
            continue;
        }
        seen += 1;
        let (path, expect) = mapping_case(&name);
        let err = Mapping::load(&path).expect_err(&name).to_string();
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        assert!(err.contains(&expect), "{name}: {expect:?} not in {err}");
    }
    assert!(seen >= 6, "{seen} mapping cases");
}

#[test]
fn a_mapping_file_over_the_cap_is_refused_before_it_is_read_whole() {
    let path = std::env::temp_dir().join(format!("huge-mapping-{}.toml", std::process::id()));
    // A valid mapping padded with comments to 4 MB.
    let mut text = GLOBAL_TOML.to_string();
    while text.len() < 4 * 1024 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, &text).expect("write");
    let err = Mapping::load(&path).expect_err("4 MB");
    let _ = std::fs::remove_file(&path);
    assert!(
        matches!(err, Error::MappingTooLarge { limit, .. } if limit == MAX_MAPPING_BYTES),
        "{err}"
    );
    assert!(err.to_string().contains("huge-mapping-"), "{err}");
    // The embedded mapping is far below the cap.
    assert!((GLOBAL_TOML.len() as u64) < MAX_MAPPING_BYTES / 10);
}

#[test]
fn an_empty_mapping_file_is_refused_by_name() {
    let path = std::env::temp_dir().join(format!("empty-mapping-{}.toml", std::process::id()));
    std::fs::write(&path, "").expect("write");
    let err = Mapping::load(&path).expect_err("empty").to_string();
    let _ = std::fs::remove_file(&path);
    assert!(err.contains("empty-mapping-"), "{err}");
    assert!(err.contains("missing field `instance`"), "{err}");
}

#[test]
fn a_mapping_file_that_is_not_utf8_is_named() {
    let path = std::env::temp_dir().join(format!("latin1-mapping-{}.toml", std::process::id()));
    std::fs::write(&path, b"instance = \"global\"\n# caf\xe9\n").expect("write");
    let err = Mapping::load(&path).expect_err("latin-1").to_string();
    let _ = std::fs::remove_file(&path);
    assert!(err.contains("not UTF-8"), "{err}");
    assert!(err.contains("latin1-mapping-"), "{err}");
}

/// Arbitrary JSON, nested a few levels, with the record's own keys likely.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("Account_ID_18__c".to_string()),
        Just("Name".to_string()),
        Just("CARR_This_Account__c".to_string()),
        Just("Next_Renewal_Date__c".to_string()),
        Just("Restricted_Account__c".to_string()),
        Just("Customer_Subscriptions__r".to_string()),
        Just("records".to_string()),
        Just("done".to_string()),
        Just("Current_Term_End_Date__c".to_string()),
        "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::String),
        "[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}".prop_map(Value::String),
        "[A-Za-z0-9]{18}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any JSON value is one account or one finding; a finding names a field and,
    /// when the value had a string id, that id.
    #[test]
    fn decoding_any_record_never_panics_and_names_it(value in json_value()) {
        for instance in [Instance::Global, Instance::UsFederal] {
            let raw_id = value
                .get("Account_ID_18__c")
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let mut decoder = AccountDecoder::new(instance);
            decoder.push(value.clone());
            let decoded = decoder.finish();
            prop_assert_eq!(decoded.items.len() + decoded.findings.len(), 1);
            if let Some(finding) = decoded.findings.first() {
                prop_assert!(finding.message.contains("field "), "{}", finding.message);
                if let Some(id) = &raw_id {
                    prop_assert_eq!(finding.salesforce_id.as_deref(), Some(id.as_str()));
                }
            }
        }
        let contacts = decode_contacts(vec![value]);
        prop_assert_eq!(contacts.items.len() + contacts.findings.len(), 1);
    }

    /// Any text as a mapping file: refused with the origin named, or accepted.
    #[test]
    fn parsing_any_mapping_text_never_panics(text in "\\PC{0,200}") {
        if let Err(e) = Mapping::parse(&text, "fuzz.toml") {
            prop_assert!(e.to_string().contains("fuzz.toml"), "{}", e);
        }
    }

    /// The embedded mapping with one line cut, doubled or changed: refused naming the
    /// origin and never a panic.
    #[test]
    fn a_damaged_embedded_mapping_is_refused_by_name(
        line in 0usize..400,
        how in 0u8..4,
        junk in "[a-z_=\\[\\]\" 0-9.]{0,12}",
    ) {
        let lines: Vec<&str> = GLOBAL_TOML.lines().collect();
        let at = line % lines.len().max(1);
        let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        match how {
            0 => { edited.remove(at); }
            1 => { let l = edited[at].clone(); edited.insert(at, l); }
            2 => { edited[at] = junk.clone(); }
            _ => { edited[at].push_str(&junk); }
        }
        if let Err(e) = Mapping::parse(&edited.join("\n"), "damaged.toml") {
            prop_assert!(e.to_string().contains("damaged.toml"), "{}", e);
        }
    }
}
