//! Issue 14, number fields typed (docs/behaviour.md §8): the sandbox declares `arr` and
//! `number_of_seats` `integer` (and refuses a fraction there as a failed row), so a
//! Salesforce value with a fraction is rounded before the diff, written as a whole
//! number, reported once per field, and the next run writes nothing.

use serde_json::{json, Value};

use crate::common::{demo, fixtures_with, run, start, zendesk_state};

const EXAMPLES: &str = "0018SDEMO000101QPA";
const SAMPLES: &str = "0018SDEMO000102QPA";

#[tokio::test(flavor = "multi_thread")]
async fn fractions_are_rounded_for_integer_fields_reported_once_and_not_rewritten() {
    let dir = fixtures_with(|sobject, records| match sobject {
        "Account" => Value::Array(
            records
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut a| {
                    if a["Id"] == EXAMPLES {
                        a["CARR_This_Account__c"] = json!(250000.5);
                        a["Number_of_Licenses_This_Account__c"] = json!(2500.4);
                    }
                    if a["Id"] == SAMPLES {
                        a["CARR_This_Account__c"] = json!(50000.75);
                    }
                    a
                })
                .collect(),
        ),
        _ => records,
    });
    let sandbox = start(sandbox::SandboxConfig {
        seed: sandbox::Seed::Fixtures(dir.clone()),
        ..demo()
    })
    .await;
    let first = run(&sandbox, &[]).await;
    assert_eq!(first.code, 0, "no refused row: {}", first.stderr);
    assert_eq!(first.report["organizations"]["failed"], 0);
    let rounded: Vec<&Value> = first.report["errors"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["kind"] == "rounded_value").collect())
        .unwrap_or_default();
    assert_eq!(rounded.len(), 2, "one per field: {rounded:#?}");
    let arr = rounded
        .iter()
        .find_map(|e| e["message"].as_str().filter(|m| m.contains("field arr ")))
        .expect("arr finding");
    assert!(arr.contains("2 value(s)"), "{arr}");
    assert!(arr.contains("250000.5 → 250001"), "{arr}");
    let state = zendesk_state(&sandbox);
    let org = state["organizations"]
        .as_array()
        .and_then(|o| {
            o.iter()
                .find(|o| o["organization_fields"]["salesforce_id"] == EXAMPLES)
        })
        .cloned()
        .expect("org of Department of Examples");
    assert_eq!(org["organization_fields"]["arr"], json!(250001));
    assert_eq!(org["organization_fields"]["number_of_seats"], json!(2500));

    let second = run(&sandbox, &[]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.zendesk_writes().is_empty(),
        "the rounded values are not written again: {:?}",
        second.zendesk_writes()
    );
}
