//! The Zendesk half of a generated data set (`--accounts N`): the instance's agreed
//! organization fields, orgs for two thirds of the instance's generated Salesforce accounts
//! (matched by `salesforce_id`, with an unmanaged tag on some, so a sync shows updates and,
//! on its second run, unchanged orgs), orgs outside Salesforce, agents and end-users.
//! Deterministic: the same accounts, seed and day give the same data.
//!
//! With [`Extras::sold_to_users`], the sold-to emails (Global: the billing accounts'
//! `Zuora__SoldToWorkEmail__c`; US Federal: the active contacts' `Email`) are put in
//! play, drawn per account of the instance from a generator seeded with the seed:
//!
//! | share | what |
//! |---|---|
//! | 15 % of the accounts with an org | the org was created recently (`created_at` 0–6 days before `today`) |
//! | half of those | the recent org has no users at all (none of the rows below go in it; an org that already holds one of the 50 generated end-users is never chosen) |
//! | 30 % of the accounts with a sold-to email | an end-user with the first email exists in the account's org (no org when the account has none, or its recent org stays empty) |
//! | 10 % | an end-user with that email exists with no org |
//! | 8 % | an end-user with that email exists in another org (the previous account's, else a community org) |
//! | 3 % | a deleted user (soft-deleted: in `deleted_users`, email kept) has that email |
//! | rest | no user with that email |
//!
//! [`Extras::extra_users`] adds that many end-users with no tie to Salesforce
//! (`enduser{n}@unrelated{n % 97}.example`, no org), to size a user scan.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use crate::salesforce::Store;
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

/// What a generated Zendesk holds beyond its organizations (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// Put the accounts' sold-to emails in play: users and deleted users with them,
    /// recently created orgs.
    pub sold_to_users: bool,
    /// End-users with no tie to Salesforce, to size a user scan.
    pub extra_users: usize,
}

/// The valid sold-to emails (lowercased, in order, no repeats) of each account id of
/// the instance: Global from the billing accounts, US Federal from the active contacts.
pub fn sold_to_emails(store: &Store, instance: Instance) -> HashMap<String, Vec<String>> {
    let (sobject, account_key, email_key) = match instance {
        Instance::Global => (
            "Zuora__CustomerAccount__c",
            "Zuora__Account__c",
            "Zuora__SoldToWorkEmail__c",
        ),
        Instance::UsFederal => ("Contact", "AccountId", "Email"),
    };
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for row in store.rows(sobject) {
        if row.get("Inactive_Contact__c").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let (Some(account), Some(email)) = (
            row.get(account_key).and_then(Value::as_str),
            row.get(email_key).and_then(Value::as_str),
        ) else {
            continue;
        };
        let email = email.trim().to_lowercase();
        let valid = email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            && !email.contains(char::is_whitespace);
        let list = out.entry(account.to_owned()).or_default();
        if valid && !list.contains(&email) {
            list.push(email);
        }
    }
    out
}

/// Builds the Zendesk data for the accounts of `store`, with `extras`.
pub fn generate_from(
    store: &Store,
    instance: Instance,
    seed: u64,
    today: time::Date,
    extras: Extras,
) -> Data {
    let accounts = store.accounts();
    let mut data = generate(&accounts, instance, seed, today);
    if extras.sold_to_users {
        put_sold_to_in_play(
            &mut data,
            &accounts,
            &sold_to_emails(store, instance),
            instance,
            seed,
            today,
        );
    }
    for n in 0..extras.extra_users {
        let id = data.new_id();
        let mut u = end_user(
            id,
            &format!("End User {n}"),
            format!("enduser{n}@unrelated{}.example", n % 97),
            &data,
        );
        u.organization_id = None;
        data.insert_user(u);
    }
    data.finish();
    data
}

/// A generated end-user, dated like the seed's other records.
fn end_user(id: u64, name: &str, email: String, data: &Data) -> User {
    let created = data
        .orgs
        .values()
        .next()
        .map(|o| o.created_at.clone())
        .unwrap_or_default();
    User {
        id,
        url: String::new(),
        name: name.to_owned(),
        email: Some(email),
        created_at: created.clone(),
        updated_at: created,
        time_zone: "America/New_York".to_owned(),
        iana_time_zone: "America/New_York".to_owned(),
        phone: None,
        locale_id: 1,
        locale: "en-US".to_owned(),
        organization_id: None,
        role: "end-user".to_owned(),
        verified: true,
        external_id: None,
        tags: Vec::new(),
        active: true,
        suspended: false,
        ticket_restriction: Some("requested".to_owned()),
        restricted_agent: true,
        role_type: None,
        custom_role_id: None,
        default_group_id: None,
        user_fields: Map::new(),
    }
}

/// The sold-to shares of the module doc, over the data [`generate`] made.
fn put_sold_to_in_play(
    data: &mut Data,
    accounts: &[Value],
    emails: &HashMap<String, Vec<String>>,
    instance: Instance,
    seed: u64,
    today: time::Date,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x50_1D_70_u64);
    let by_sfid: HashMap<String, u64> = data
        .orgs
        .values()
        .filter_map(|o| {
            let sfid = o.organization_fields.get("salesforce_id")?.as_str()?;
            Some((sfid.to_owned(), o.id))
        })
        .collect();
    let community = data
        .orgs
        .values()
        .find(|o| o.organization_fields.get("salesforce_id").is_none())
        .map(|o| o.id);
    let mine = accounts
        .iter()
        .filter(|a| is_us_federal(a) == (instance == Instance::UsFederal));
    let peopled: std::collections::HashSet<u64> = data
        .users
        .values()
        .filter_map(|u| u.organization_id)
        .collect();
    let mut previous_org: Option<u64> = None;
    for (n, account) in mine.enumerate() {
        let recent_roll = rng.gen_range(0..100);
        let days_ago = rng.gen_range(0..7i64);
        let empty_roll = rng.gen_bool(0.5);
        let user_roll = rng.gen_range(0..100);
        let sfid = text(account, "Account_ID_18__c").or_else(|| text(account, "Id"));
        let org = sfid.and_then(|s| by_sfid.get(s)).copied();
        let mut empty = false;
        if let Some(org_id) = org {
            if recent_roll < 15 {
                let at = format!("{}T09:00:00Z", today - time::Duration::days(days_ago));
                if let Some(o) = data.orgs.get_mut(&org_id) {
                    o.created_at = at.clone();
                    o.updated_at = at;
                }
                // An org the base data already put users in is never an empty one.
                empty = empty_roll && !peopled.contains(&org_id);
            }
        }
        let first = text(account, "Id")
            .and_then(|id| emails.get(id))
            .and_then(|list| list.first());
        if let Some(email) = first {
            if data.user_by_email(email).is_none() {
                let own = if empty { None } else { org };
                let place = match user_roll {
                    0..=29 => Some(Some(own)),
                    30..=39 => Some(Some(None)),
                    40..=47 => Some(Some(previous_org.or(community))),
                    48..=50 => Some(None),
                    _ => None,
                };
                let id = data.new_id();
                let name = format!("Sold-to {} {n}", instance.dir_name());
                match place {
                    Some(Some(org_id)) => {
                        let mut u = end_user(id, &name, email.clone(), data);
                        u.organization_id = org_id;
                        data.insert_user(u);
                    }
                    Some(None) => {
                        let u = end_user(id, &name, email.clone(), data);
                        data.insert_deleted_user(u);
                    }
                    None => {}
                }
            }
        }
        if org.is_some() && !empty {
            previous_org = org;
        }
    }
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
