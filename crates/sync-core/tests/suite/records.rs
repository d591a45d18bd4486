//! Decoding the SOQL records in the real REST shape.

use serde_json::json;
use sync_core::model::FindingKind;
use sync_core::{decode_accounts, decode_contacts, Instance};

use crate::common::{date, id18};

fn global_record(id: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut r = json!({
        "attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/0014M00001abcde"},
        "Account_ID_18__c": id, "Name": "Acme", "CARR_This_Account__c": null,
        "Ultimate_Parent_Sales_Segment_Employees__c": null, "Account_Owner_Calc__c": null,
        "Number_of_Licenses_This_Account__c": null, "Type": "Customer",
        "Technical_Account_Manager_Name__c": null, "Account_Demographics_Geo__c": null,
        "GS_Health_Score_Color__c": null, "Next_Renewal_Date__c": null, "Restricted_Account__c": false,
        "Partners_Partner_Status__c": null, "Partners_Partner_Type__c": null, "Partner_Track__c": null,
        "Customer_Subscriptions__r": null, "Zuora__Subscriptions__r": null,
        "Zuora__R00N40000001kyLcEAI__r": null
    });
    if let (Some(map), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    r
}

#[test]
fn null_child_and_parent_relationships_mean_no_rows() {
    let decoded = decode_accounts(
        Instance::Global,
        vec![global_record(&id18("Acme"), json!({}))],
    );
    assert!(decoded.findings.is_empty(), "{:?}", decoded.findings);
    let a = &decoded.items[0];
    assert!(a.customer_subscriptions.is_empty());
    assert!(a.zuora_subscriptions.is_empty());
    assert!(a.billing_accounts.is_empty());

    let federal = json!({
        "attributes": {"type": "Account", "url": "/x"}, "Account_ID_18__c": id18("Fed"), "Name": "Army",
        "Support_Level__c": "Premium", "Solutions_Architect_Lookup__r": null,
        "Customer_Subscriptions__r": null, "Zuora__Subscriptions__r": null
    });
    let decoded = decode_accounts(Instance::UsFederal, vec![federal]);
    assert_eq!(decoded.items[0].solutions_architect, None);
    assert_eq!(decoded.items[0].support_level.as_deref(), Some("Premium"));
}

#[test]
fn parent_relationship_object_gives_its_name() {
    let federal = json!({
        "attributes": {"type": "Account", "url": "/x"}, "Account_ID_18__c": id18("Fed"), "Name": "Army",
        "Solutions_Architect_Lookup__r": {"Name": " Jane Doe ", "attributes": {"type": "User", "url": "/u"}}
    });
    let decoded = decode_accounts(Instance::UsFederal, vec![federal]);
    assert_eq!(
        decoded.items[0].solutions_architect.as_deref(),
        Some("Jane Doe")
    );
}

#[test]
fn a_child_set_assembled_from_several_pages_is_read_in_full() {
    let rows: Vec<_> = (0..2345)
        .map(|i| {
            json!({"attributes": {"type": "Zuora__Subscription__c", "url": format!("/z/{i}")},
                   "Name": format!("A-S{i}"), "Zuora__Status__c": "Active",
                   "Zuora__SubscriptionEndDate__c": "2026-01-01", "Zuora__SubscriptionStartDate__c": null,
                   "Support_Level__c": if i == 2344 { "Ultimate" } else { "Bronze" },
                   "Zuora__OpportunityName__c": null, "Zuora__SubscriptionNumber__c": null})
        })
        .collect();
    let record = global_record(
        &id18("Big"),
        json!({"Zuora__Subscriptions__r": {"totalSize": 2345, "done": true, "records": rows}}),
    );
    let decoded = decode_accounts(Instance::Global, vec![record]);
    let a = &decoded.items[0];
    assert_eq!(a.zuora_subscriptions.len(), 2345);
    assert_eq!(
        a.zuora_subscriptions[2344].tier.as_deref(),
        Some("Ultimate")
    );
}

#[test]
fn a_child_set_left_incomplete_is_an_invalid_account_not_a_downgrade() {
    let record = global_record(
        &id18("Partial"),
        json!({"Customer_Subscriptions__r": {"totalSize": 450, "done": false,
               "nextRecordsUrl": "/services/data/v62.0/query/01gxx-200", "records": []}}),
    );
    let decoded = decode_accounts(Instance::Global, vec![record]);
    assert!(decoded.items.is_empty());
    assert_eq!(decoded.findings[0].kind, FindingKind::InvalidAccount);
    assert!(
        decoded.findings[0]
            .message
            .contains("Customer_Subscriptions__r: child relationship incomplete"),
        "{}",
        decoded.findings[0].message
    );
}

#[test]
fn integer_and_float_numbers_decode_alike() {
    let a = global_record(
        &id18("One"),
        json!({"CARR_This_Account__c": 1, "Number_of_Licenses_This_Account__c": 25}),
    );
    let b = global_record(
        &id18("Two"),
        json!({"CARR_This_Account__c": 1.0, "Number_of_Licenses_This_Account__c": 25.0}),
    );
    let decoded = decode_accounts(Instance::Global, vec![a, b]);
    assert_eq!(decoded.items[0].carr, Some(1.0));
    assert_eq!(decoded.items[0].carr, decoded.items[1].carr);
    assert_eq!(decoded.items[0].licenses, decoded.items[1].licenses);
}

#[test]
fn blank_text_is_the_same_as_null_and_text_is_trimmed() {
    let a = global_record(
        &id18("Blank"),
        json!({"Account_Owner_Calc__c": "   ", "Technical_Account_Manager_Name__c": " Tim ", "Type": ""}),
    );
    let decoded = decode_accounts(Instance::Global, vec![a]);
    let a = &decoded.items[0];
    assert_eq!(a.owner, None);
    assert_eq!(a.technical_account_manager.as_deref(), Some("Tim"));
    assert_eq!(a.account_type, None);
}

#[test]
fn dates_parse_and_a_bad_one_names_its_field_without_stopping_the_batch() {
    let good = global_record(&id18("Good"), json!({"Next_Renewal_Date__c": "2025-02-28"}));
    let bad = global_record(
        &id18("Bad"),
        json!({"Customer_Subscriptions__r": {"totalSize": 1, "done": true, "records": [
            {"attributes": {"type": "Customer_Subscription__c", "url": "/c"},
             "Current_Term_End_Date__c": "2025-13-45", "Product_Tier_Name_Short__c": "Premium"}]}}),
    );
    let decoded = decode_accounts(Instance::Global, vec![bad, good]);
    assert_eq!(decoded.items.len(), 1);
    assert_eq!(decoded.items[0].next_renewal, Some(date("2025-02-28")));
    let f = &decoded.findings[0];
    assert_eq!(f.kind, FindingKind::InvalidAccount);
    assert_eq!(f.salesforce_id.as_deref(), Some(id18("Bad").as_str()));
    assert!(
        f.message
            .contains("Customer_Subscriptions__r.records[0].Current_Term_End_Date__c"),
        "{}",
        f.message
    );
}

#[test]
fn wrong_types_invalid_ids_blank_names_and_repeats_are_invalid_accounts() {
    let wrong_type = global_record(&id18("Wrong"), json!({"CARR_This_Account__c": "lots"}));
    let short_id = global_record("0014M00001short", json!({}));
    let symbol_id = global_record("0014M00001abc-def!", json!({}));
    let blank_name = global_record(&id18("NoName"), json!({"Name": "  "}));
    let first = global_record(&id18("Twice"), json!({}));
    let again = global_record(&id18("Twice"), json!({}));
    let decoded = decode_accounts(
        Instance::Global,
        vec![wrong_type, short_id, symbol_id, blank_name, first, again],
    );
    assert_eq!(decoded.items.len(), 1);
    let messages: Vec<&str> = decoded
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(decoded.findings.len(), 5, "{messages:?}");
    assert!(messages[0].contains("CARR_This_Account__c"));
    assert!(messages[1].contains("not 18 alphanumeric"));
    assert!(messages[2].contains("not 18 alphanumeric"));
    assert!(messages[3].contains("Name"));
    assert!(messages[4].contains("more than once"));
    assert!(decoded
        .findings
        .iter()
        .all(|f| f.kind == FindingKind::InvalidAccount));
}

#[test]
fn restricted_account_accepts_checkbox_and_picklist_values() {
    let cases = [
        (json!(true), true),
        (json!(false), false),
        (json!("Restricted Party"), true),
        (json!("restricted party"), true),
        (json!("TRUE"), true),
        (json!("Not Restricted"), false),
        (json!(null), false),
    ];
    for (i, (value, expected)) in cases.into_iter().enumerate() {
        let r = global_record(
            &id18(&format!("R{i}")),
            json!({"Restricted_Account__c": value.clone()}),
        );
        let decoded = decode_accounts(Instance::Global, vec![r]);
        assert_eq!(decoded.items[0].restricted, expected, "{value}");
    }
}

#[test]
fn customer_subscription_tier_falls_back_to_plan_name() {
    let r = global_record(
        &id18("Tier"),
        json!({"Customer_Subscriptions__r": {"totalSize": 2, "done": true, "records": [
            {"attributes": {"type": "Customer_Subscription__c", "url": "/c1"},
             "Product_Tier_Name_Short__c": null, "Plan_Name__c": "Self-Managed - Ultimate", "Current_Term_End_Date__c": null},
            {"attributes": {"type": "Customer_Subscription__c", "url": "/c2"},
             "Product_Tier_Name_Short__c": "Premium", "Plan_Name__c": "ignored", "Current_Term_End_Date__c": "2025-01-01"}]}}),
    );
    let a = &decode_accounts(Instance::Global, vec![r]).items[0];
    assert_eq!(
        a.customer_subscriptions[0].tier.as_deref(),
        Some("Self-Managed - Ultimate")
    );
    assert_eq!(a.customer_subscriptions[1].tier.as_deref(), Some("Premium"));
}

#[test]
fn contacts_decode_with_a_null_account_and_bad_shapes_are_invalid_contacts() {
    let ok = json!({"attributes": {"type": "Contact", "url": "/c"}, "Name": "Alice", "Email": " alice@x.example ",
                    "Account": {"attributes": {"type": "Account", "url": "/a"}, "Account_ID_18__c": id18("Army"), "Name": "Army"},
                    "Inactive_Contact__c": false});
    let orphan = json!({"attributes": {"type": "Contact", "url": "/c"}, "Name": "Bob", "Email": "bob@x.example",
                        "Account": null, "Inactive_Contact__c": false});
    let bad = json!({"attributes": {"type": "Contact", "url": "/c"}, "Name": "Eve", "Email": "eve@x.example",
                     "Account": "not an object", "Inactive_Contact__c": false});
    let decoded = decode_contacts(vec![ok, orphan, bad]);
    assert_eq!(decoded.items.len(), 2);
    assert_eq!(decoded.items[0].email.as_deref(), Some("alice@x.example"));
    assert_eq!(
        decoded.items[0].account_id.as_deref(),
        Some(id18("Army").as_str())
    );
    assert_eq!(decoded.items[1].account_id, None);
    assert_eq!(decoded.findings[0].kind, FindingKind::InvalidContact);
    assert_eq!(decoded.findings[0].email.as_deref(), Some("eve@x.example"));
    assert!(
        decoded.findings[0].message.contains("Account"),
        "{}",
        decoded.findings[0].message
    );
}
