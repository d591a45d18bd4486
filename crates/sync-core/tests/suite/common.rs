//! Shared test setup: mappings, dates, account and org builders, fixtures.

use serde_json::json;
use sync_core::model::{CustomerSubscription, ZuoraSubscription};
use sync_core::{Account, Instance, Mapping, ZendeskOrg};
use time::Date;

pub fn mapping(instance: Instance) -> Mapping {
    Mapping::embedded(instance).expect("embedded mapping is valid")
}

pub fn global() -> Mapping {
    mapping(Instance::Global)
}

pub fn federal() -> Mapping {
    mapping(Instance::UsFederal)
}

pub fn date(s: &str) -> Date {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).expect("test date")
}

/// An 18-character id ending in `suffix` (padded with `A`).
pub fn id18(suffix: &str) -> String {
    format!("0014M00001{suffix:A<8}")
}

/// The same id, typed.
pub fn sfid(suffix: &str) -> sync_core::SalesforceId {
    sync_core::SalesforceId::parse(&id18(suffix)).expect("a valid test id")
}

pub fn account(suffix: &str, name: &str) -> Account {
    Account {
        account_type: Some("Customer".into()),
        ..Account::new(sfid(suffix), name)
    }
}

pub fn cs(tier: &str, end: Option<&str>) -> CustomerSubscription {
    CustomerSubscription {
        tier: Some(tier.to_string()),
        end: end.map(date),
    }
}

pub fn zs(tier: &str, end: Option<&str>) -> ZuoraSubscription {
    ZuoraSubscription {
        tier: Some(tier.to_string()),
        end: end.map(date),
    }
}

/// A Zendesk org in the API shape.
pub fn org(id: u64, name: &str, fields: serde_json::Value, tags: &[&str]) -> ZendeskOrg {
    serde_json::from_value(json!({
        "url": format!("https://example.zendesk.com/api/v2/organizations/{id}.json"),
        "id": id, "name": name, "external_id": null,
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        "tags": tags, "organization_fields": fields,
    }))
    .expect("org json")
}

/// The `records` of a query-result fixture in fixtures/sync.
pub fn records(text: &str) -> Vec<serde_json::Value> {
    #[derive(serde::Deserialize)]
    struct Page {
        records: Vec<serde_json::Value>,
    }
    serde_json::from_str::<Page>(text)
        .expect("query page")
        .records
}
