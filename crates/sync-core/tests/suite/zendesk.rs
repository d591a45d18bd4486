//! Reading Zendesk orgs, users and field definitions in the API shape, and the
//! managed view of an org.

use serde_json::json;
use sync_core::users::is_new_org;
use sync_core::zendesk::{managed_view, Role, ZendeskUser};
use sync_core::{FieldValue, ZendeskOrg, ZendeskOrgId};

use crate::common::{date, global};

#[test]
fn an_org_reads_from_the_api_shape_with_nulls_and_big_ids() {
    let o: ZendeskOrg = serde_json::from_value(json!({
        "url": "https://x.zendesk.com/api/v2/organizations/6164086328858.json", "id": 6164086328858u64,
        "name": "Acme ", "shared_tickets": false, "shared_comments": false, "external_id": null,
        "created_at": "2023-09-18T23:37:03Z", "updated_at": "2023-09-18T23:37:03Z",
        "domain_names": [], "details": null, "notes": null, "group_id": null,
        "tags": null, "organization_fields": {"aar": 1, "seats_decimal": "2.0", "salesforce_id": null, "multi": ["a", "b"]}
    }))
    .expect("org");
    assert_eq!(o.id, ZendeskOrgId(6_164_086_328_858));
    assert!(o.tags.is_empty());
    assert_eq!(
        o.organization_fields.get("aar"),
        Some(&FieldValue::Number(1.0))
    );
    assert_eq!(
        o.organization_fields.get("seats_decimal"),
        Some(&FieldValue::Text("2.0".into()))
    );
    assert_eq!(o.salesforce_id(&global()), None);
}

#[test]
fn the_managed_view_splits_tags_and_keeps_only_managed_fields() {
    let o: ZendeskOrg = serde_json::from_value(json!({
        "id": 1, "name": "  Acme  ", "tags": ["premium", "vip", "restricted_account", "to_be_deleted"],
        "organization_fields": {"support_level": "premium", "am_project_id": "123", "salesforce_id": " 0014M00001AcmeAAAA "}
    }))
    .expect("org");
    let view = managed_view(&o, &global());
    assert_eq!(view.name, "Acme");
    assert_eq!(
        view.managed_tags.iter().collect::<Vec<_>>(),
        ["premium", "restricted_account"]
    );
    assert_eq!(
        view.unmanaged_tags.iter().collect::<Vec<_>>(),
        ["to_be_deleted", "vip"]
    );
    assert!(view.fields.contains_key("support_level"));
    assert!(!view.fields.contains_key("am_project_id"));
    assert_eq!(
        o.salesforce_id(&global()).as_deref(),
        Some("0014M00001AcmeAAAA")
    );
}

#[test]
fn users_keep_unknown_roles_and_only_end_users_are_modifiable() {
    let user = |role: serde_json::Value| -> ZendeskUser {
        serde_json::from_value(json!({"id": 1, "name": "U", "email": " U@Example.com ", "role": role, "organization_id": null}))
            .expect("user")
    };
    assert_eq!(user(json!("end-user")).role, Role::EndUser);
    assert!(!user(json!("end-user")).is_protected());
    assert!(user(json!("agent")).is_protected());
    assert!(user(json!("admin")).is_protected());
    assert_eq!(
        user(json!("light-agent")).role,
        Role::Other("light-agent".into())
    );
    assert!(user(json!("light-agent")).is_protected());
    assert_eq!(
        user(json!("end-user")).email_key().as_deref(),
        Some("u@example.com")
    );
}

#[test]
fn org_age_is_judged_in_utc() {
    let o: ZendeskOrg = serde_json::from_value(json!({
        "id": 1, "name": "Late", "created_at": "2024-01-01T23:30:00-05:00"
    }))
    .expect("org");
    // 2024-01-02T04:30Z: new through 2024-01-08, not on 2024-01-09.
    assert!(is_new_org(&o, date("2024-01-08")));
    assert!(!is_new_org(&o, date("2024-01-09")));
}
