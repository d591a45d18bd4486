//! The Zendesk half of a generated data set (`--accounts N`): the instance's agreed
//! organization fields, orgs for two thirds of the instance's generated Salesforce accounts
//! (matched by `salesforce_id`, with an unmanaged tag on some, so a sync shows updates and,
//! on its second run, unchanged orgs), orgs outside Salesforce, agents and end-users.
//! Deterministic: the same accounts, seed and day give the same data.

use serde_json::{json, Map, Value};

use crate::zendesk::model::{Organization, OrganizationField, User};
use crate::zendesk::Data;
use crate::Instance;

const GLOBAL_FIELDS: &str =
    include_str!("../../../../fixtures/sandbox/zendesk/global/organization_fields.json");
const US_FEDERAL_FIELDS: &str =
    include_str!("../../../../fixtures/sandbox/zendesk/us-federal/organization_fields.json");

#[derive(serde::Deserialize)]
struct FieldsFile {
    organization_fields: Vec<OrganizationField>,
}

/// The agreed organization field definitions of an instance (the fixture file).
pub fn fields(instance: Instance) -> Vec<OrganizationField> {
    let text = match instance {
        Instance::Global => GLOBAL_FIELDS,
        Instance::UsFederal => US_FEDERAL_FIELDS,
    };
    // The fixture is checked by the tests; a broken file yields no fields, not a panic.
    serde_json::from_str::<FieldsFile>(text)
        .map(|f| f.organization_fields)
        .unwrap_or_default()
}

fn text<'a>(account: &'a Value, key: &str) -> Option<&'a str> {
    account.get(key).and_then(Value::as_str)
}

fn is_us_federal(account: &Value) -> bool {
    text(account, "Account_Territory__c").is_some_and(|t| t.starts_with("USPUB-FED"))
}

/// Builds the Zendesk data for `accounts` (Salesforce Account records).
pub fn generate(accounts: &[Value], instance: Instance, seed: u64, today: time::Date) -> Data {
    let created = format!("{}T09:00:00Z", today - time::Duration::days(30));
    let mut data = Data::default();
    data.fields = fields(instance);
    data.next_id = 360_000_000_001 + (seed % 1000) * 1_000_000;
    let org = |id: u64, name: String, fields: Map<String, Value>, tags: Vec<String>| Organization {
        url: String::new(),
        id,
        name,
        shared_tickets: false,
        shared_comments: false,
        external_id: None,
        created_at: created.clone(),
        updated_at: created.clone(),
        domain_names: Vec::new(),
        details: None,
        notes: None,
        group_id: None,
        tags,
        organization_fields: fields,
    };
    let mine = accounts
        .iter()
        .filter(|a| is_us_federal(a) == (instance == Instance::UsFederal));
    for (i, account) in mine.enumerate() {
        if i % 3 == 2 {
            continue; // left for the sync to create
        }
        let Some(sfid) = text(account, "Account_ID_18__c").or_else(|| text(account, "Id")) else {
            continue;
        };
        let Some(name) = text(account, "Name")
            .map(str::trim)
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        if data.org_name_taken(name, None).is_some() {
            continue;
        }
        let mut fields = Map::new();
        fields.insert("salesforce_id".into(), json!(sfid));
        fields.insert(
            "sfdc_short_id".into(),
            json!(sfid.get(..15).unwrap_or(sfid)),
        );
        let tags = if i % 5 == 0 {
            vec!["vip_customer".to_owned()]
        } else {
            Vec::new()
        };
        let id = data.new_id();
        data.insert_org(org(id, name.to_owned(), fields, tags));
    }
    for n in 1..=3 {
        let id = data.new_id();
        let name = format!("Community Org {n} (not in Salesforce)");
        data.insert_org(org(
            id,
            name,
            Map::new(),
            vec!["community_forum".to_owned()],
        ));
    }
    let user = |id: u64, name: &str, email: String, role: &str, org: Option<u64>| User {
        id,
        url: String::new(),
        name: name.to_owned(),
        email: Some(email),
        created_at: created.clone(),
        updated_at: created.clone(),
        time_zone: "America/New_York".to_owned(),
        iana_time_zone: "America/New_York".to_owned(),
        phone: None,
        locale_id: 1,
        locale: "en-US".to_owned(),
        organization_id: org,
        role: role.to_owned(),
        verified: true,
        external_id: None,
        tags: Vec::new(),
        active: true,
        suspended: false,
        ticket_restriction: (role == "end-user").then(|| "requested".to_owned()),
        restricted_agent: role == "end-user",
        role_type: None,
        custom_role_id: None,
        default_group_id: None,
        user_fields: Map::new(),
    };
    let id = data.new_id();
    data.insert_user(user(
        id,
        "Sandbox Admin",
        "admin@sandbox.example".into(),
        "admin",
        None,
    ));
    let id = data.new_id();
    data.insert_user(user(
        id,
        "Sandbox Agent",
        "agent@sandbox.example".into(),
        "agent",
        None,
    ));
    let org_ids: Vec<u64> = data.orgs.keys().copied().step_by(4).take(50).collect();
    for (n, org_id) in org_ids.into_iter().enumerate() {
        let id = data.new_id();
        let email = format!("user{n}@customer{n}.example");
        data.insert_user(user(
            id,
            &format!("Customer User {n}"),
            email,
            "end-user",
            Some(org_id),
        ));
    }
    data.finish();
    data
}
