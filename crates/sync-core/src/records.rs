//! The records of our three SOQL queries in the real REST JSON shape, and their
//! conversion into domain types.
//!
//! Shapes (reference/salesforce-api.md §3): every record carries `attributes`;
//! fields qualified with the FROM object come back as plain keys; a parent
//! relationship is `null` or a nested record; a child relationship is `null` (no
//! rows) or a QueryResult `{totalSize, done, records}` whose pages the client has
//! already completed; dates are `YYYY-MM-DD`; numbers may be `1` or `1.0`.
//!
//! Each record is decoded on its own from a `serde_json::Value` through
//! `serde_path_to_error`, so a bad record becomes one `invalid_account` /
//! `invalid_contact` finding naming the field, and never fails the batch.

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::Date;

use crate::ids::SalesforceId;
use crate::mapping::Instance;
use crate::model::{
    Account, BillingAccount, Contact, CustomerSubscription, Finding, FindingKind, ZuoraSubscription,
};

/// `attributes` of a record: its sObject type and URL.
#[derive(Debug, Clone, Deserialize)]
pub struct Attributes {
    /// The sObject type, e.g. `Account`.
    #[serde(rename = "type")]
    pub sobject_type: String,
    /// The record's URL (absent on aggregate rows).
    pub url: Option<String>,
}

/// A child relationship's QueryResult. The client completes `nextRecordsUrl` pages
/// before sync-core sees it, so only `records` is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Children<T> {
    /// Total matching children for this parent.
    pub total_size: u64,
    /// Whether this was the last page.
    pub done: bool,
    /// The child records.
    pub records: Vec<T>,
}

/// A problem with a child set the client should have completed: `done: false`
/// means pages are missing, and reading a partial set could downgrade a plan.
fn incomplete<T>(name: &str, children: &Option<Children<T>>) -> Option<String> {
    match children {
        Some(c) if !c.done => Some(format!(
            "field {name}: child relationship incomplete (done: false, {} of {} records)",
            c.records.len(),
            c.total_size
        )),
        _ => None,
    }
}

/// Rows of an optional child relationship: `null` means none.
fn rows<T>(children: Option<Children<T>>) -> Vec<T> {
    children.map(|c| c.records).unwrap_or_default()
}

/// A `Customer_Subscriptions__r` row.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerSubscriptionRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Current_Subscription_Status__c` (the query keeps `Active` only).
    #[serde(rename = "Current_Subscription_Status__c")]
    pub status: Option<String>,
    /// `Current_Term_End_Date__c`.
    #[serde(
        rename = "Current_Term_End_Date__c",
        default,
        deserialize_with = "sf_date"
    )]
    pub end: Option<Date>,
    /// `Current_Term_Start_Date__c`.
    #[serde(
        rename = "Current_Term_Start_Date__c",
        default,
        deserialize_with = "sf_date"
    )]
    pub start: Option<Date>,
    /// `Entitled_Seats__c`.
    #[serde(rename = "Entitled_Seats__c")]
    pub entitled_seats: Option<f64>,
    /// `Product_Tier_Name_Short__c`.
    #[serde(rename = "Product_Tier_Name_Short__c")]
    pub tier_short: Option<String>,
    /// `Plan_Name__c`.
    #[serde(rename = "Plan_Name__c")]
    pub plan_name: Option<String>,
}

/// A `Zuora__Subscriptions__r` row.
#[derive(Debug, Clone, Deserialize)]
pub struct ZuoraSubscriptionRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `Zuora__Status__c`.
    #[serde(rename = "Zuora__Status__c")]
    pub status: Option<String>,
    /// `Zuora__SubscriptionEndDate__c`.
    #[serde(
        rename = "Zuora__SubscriptionEndDate__c",
        default,
        deserialize_with = "sf_date"
    )]
    pub end: Option<Date>,
    /// `Zuora__SubscriptionStartDate__c`.
    #[serde(
        rename = "Zuora__SubscriptionStartDate__c",
        default,
        deserialize_with = "sf_date"
    )]
    pub start: Option<Date>,
    /// `Support_Level__c`: the tier.
    #[serde(rename = "Support_Level__c")]
    pub support_level: Option<String>,
    /// `Zuora__OpportunityName__c`.
    #[serde(rename = "Zuora__OpportunityName__c")]
    pub opportunity_name: Option<String>,
    /// `Zuora__SubscriptionNumber__c`.
    #[serde(rename = "Zuora__SubscriptionNumber__c")]
    pub subscription_number: Option<String>,
}

/// A `Zuora__R00N40000001kyLcEAI__r` row (Zuora billing account).
#[derive(Debug, Clone, Deserialize)]
pub struct BillingAccountRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `Zuora__SoldToWorkEmail__c`.
    #[serde(rename = "Zuora__SoldToWorkEmail__c")]
    pub sold_to_work_email: Option<String>,
}

/// `Restricted_Account__c`: a checkbox on some orgs, a picklist (`Restricted Party`) on others.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BoolOrText {
    /// A checkbox value.
    Bool(bool),
    /// A picklist value.
    Text(String),
}

/// A parent relationship record holding a `Name` (e.g. `Solutions_Architect_Lookup__r`).
#[derive(Debug, Clone, Deserialize)]
pub struct NamedParent {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

/// A row of [`crate::soql::GLOBAL_ACCOUNTS`].
#[derive(Debug, Clone, Deserialize)]
pub struct GlobalAccountRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Account_ID_18__c`.
    #[serde(rename = "Account_ID_18__c")]
    pub account_id_18: Option<String>,
    /// `Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `CARR_This_Account__c`.
    #[serde(rename = "CARR_This_Account__c")]
    pub carr: Option<f64>,
    /// `Ultimate_Parent_Sales_Segment_Employees__c`.
    #[serde(rename = "Ultimate_Parent_Sales_Segment_Employees__c")]
    pub sales_segment: Option<String>,
    /// `Account_Owner_Calc__c`.
    #[serde(rename = "Account_Owner_Calc__c")]
    pub owner: Option<String>,
    /// `Number_of_Licenses_This_Account__c`.
    #[serde(rename = "Number_of_Licenses_This_Account__c")]
    pub licenses: Option<f64>,
    /// `Type`.
    #[serde(rename = "Type")]
    pub account_type: Option<String>,
    /// `Technical_Account_Manager_Name__c`.
    #[serde(rename = "Technical_Account_Manager_Name__c")]
    pub technical_account_manager: Option<String>,
    /// `Account_Demographics_Geo__c`.
    #[serde(rename = "Account_Demographics_Geo__c")]
    pub geo: Option<String>,
    /// `GS_Health_Score_Color__c`.
    #[serde(rename = "GS_Health_Score_Color__c")]
    pub health_color: Option<String>,
    /// `Next_Renewal_Date__c`.
    #[serde(rename = "Next_Renewal_Date__c", default, deserialize_with = "sf_date")]
    pub next_renewal: Option<Date>,
    /// `Restricted_Account__c`.
    #[serde(rename = "Restricted_Account__c")]
    pub restricted: Option<BoolOrText>,
    /// `Partners_Partner_Status__c`.
    #[serde(rename = "Partners_Partner_Status__c")]
    pub partner_status: Option<String>,
    /// `Partners_Partner_Type__c`.
    #[serde(rename = "Partners_Partner_Type__c")]
    pub partner_type: Option<String>,
    /// `Partner_Track__c`.
    #[serde(rename = "Partner_Track__c")]
    pub partner_track: Option<String>,
    /// `Customer_Subscriptions__r`.
    #[serde(rename = "Customer_Subscriptions__r")]
    pub customer_subscriptions: Option<Children<CustomerSubscriptionRecord>>,
    /// `Zuora__Subscriptions__r`.
    #[serde(rename = "Zuora__Subscriptions__r")]
    pub zuora_subscriptions: Option<Children<ZuoraSubscriptionRecord>>,
    /// `Zuora__R00N40000001kyLcEAI__r`: billing accounts with sold-to emails.
    #[serde(rename = "Zuora__R00N40000001kyLcEAI__r")]
    pub billing_accounts: Option<Children<BillingAccountRecord>>,
}

/// A row of [`crate::soql::US_FEDERAL_ACCOUNTS`].
#[derive(Debug, Clone, Deserialize)]
pub struct FederalAccountRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Account_ID_18__c`.
    #[serde(rename = "Account_ID_18__c")]
    pub account_id_18: Option<String>,
    /// `Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `CARR_This_Account__c`.
    #[serde(rename = "CARR_This_Account__c")]
    pub carr: Option<f64>,
    /// `Ultimate_Parent_Sales_Segment_Employees__c`.
    #[serde(rename = "Ultimate_Parent_Sales_Segment_Employees__c")]
    pub sales_segment: Option<String>,
    /// `Account_Owner_Calc__c`.
    #[serde(rename = "Account_Owner_Calc__c")]
    pub owner: Option<String>,
    /// `Number_of_Licenses_This_Account__c`.
    #[serde(rename = "Number_of_Licenses_This_Account__c")]
    pub licenses: Option<f64>,
    /// `Type`.
    #[serde(rename = "Type")]
    pub account_type: Option<String>,
    /// `Technical_Account_Manager_Name__c`.
    #[serde(rename = "Technical_Account_Manager_Name__c")]
    pub technical_account_manager: Option<String>,
    /// `Support_Level__c`: the plan fallback.
    #[serde(rename = "Support_Level__c")]
    pub support_level: Option<String>,
    /// `Region__c` (selected by the query; not mapped to a US Federal field).
    #[serde(rename = "Region__c")]
    pub region: Option<String>,
    /// `GS_Health_Score_Color__c` (selected; US Federal has no health field).
    #[serde(rename = "GS_Health_Score_Color__c")]
    pub health_color: Option<String>,
    /// `Next_Renewal_Date__c`.
    #[serde(rename = "Next_Renewal_Date__c", default, deserialize_with = "sf_date")]
    pub next_renewal: Option<Date>,
    /// `Solutions_Architect_Lookup__r`: `null` or `{attributes, Name}`.
    #[serde(rename = "Solutions_Architect_Lookup__r")]
    pub solutions_architect: Option<NamedParent>,
    /// `Customer_Subscriptions__r`.
    #[serde(rename = "Customer_Subscriptions__r")]
    pub customer_subscriptions: Option<Children<CustomerSubscriptionRecord>>,
    /// `Zuora__Subscriptions__r`.
    #[serde(rename = "Zuora__Subscriptions__r")]
    pub zuora_subscriptions: Option<Children<ZuoraSubscriptionRecord>>,
}

/// The `Account` parent of a contact row.
#[derive(Debug, Clone, Deserialize)]
pub struct ContactAccountRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Account.Account_ID_18__c`.
    #[serde(rename = "Account_ID_18__c")]
    pub account_id_18: Option<String>,
    /// `Account.Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

/// A row of [`crate::soql::US_FEDERAL_CONTACTS`].
#[derive(Debug, Clone, Deserialize)]
pub struct ContactRecord {
    /// Record attributes.
    pub attributes: Option<Attributes>,
    /// `Name`.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `Email`.
    #[serde(rename = "Email")]
    pub email: Option<String>,
    /// `Account`: `null` when the contact has no account.
    #[serde(rename = "Account")]
    pub account: Option<ContactAccountRecord>,
    /// `Inactive_Contact__c`.
    #[serde(rename = "Inactive_Contact__c")]
    pub inactive: Option<bool>,
}

impl GlobalAccountRecord {
    /// The first child relationship left incomplete, if any.
    pub fn incomplete_children(&self) -> Option<String> {
        incomplete("Customer_Subscriptions__r", &self.customer_subscriptions)
            .or_else(|| incomplete("Zuora__Subscriptions__r", &self.zuora_subscriptions))
            .or_else(|| incomplete("Zuora__R00N40000001kyLcEAI__r", &self.billing_accounts))
    }
}

impl FederalAccountRecord {
    /// The first child relationship left incomplete, if any.
    pub fn incomplete_children(&self) -> Option<String> {
        incomplete("Customer_Subscriptions__r", &self.customer_subscriptions)
            .or_else(|| incomplete("Zuora__Subscriptions__r", &self.zuora_subscriptions))
    }
}

/// The earliest date a Salesforce date field holds.
pub const EARLIEST_SALESFORCE_DATE: Date = time::macros::date!(1700 - 01 - 01);
/// The latest date a Salesforce date field holds.
pub const LATEST_SALESFORCE_DATE: Date = time::macros::date!(4000 - 12 - 31);

/// Parses a Salesforce `date` (`"YYYY-MM-DD"`) or `null`. A date outside the range
/// Salesforce date fields hold (1700-01-01 to 4000-12-31) is refused: it cannot come
/// from a real record, and the rules' date arithmetic stays far from the calendar's
/// ends.
fn sf_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => {
            let date = Date::parse(s.trim(), &format).map_err(|e| {
                serde::de::Error::custom(format!("expected a date YYYY-MM-DD, got {s:?}: {e}"))
            })?;
            if s.trim().starts_with(['-', '+'])
                || !(EARLIEST_SALESFORCE_DATE..=LATEST_SALESFORCE_DATE).contains(&date)
            {
                return Err(serde::de::Error::custom(format!(
                    "date {s:?} is outside what a Salesforce date holds \
                     ({EARLIEST_SALESFORCE_DATE} to {LATEST_SALESFORCE_DATE})"
                )));
            }
            Ok(Some(date))
        }
    }
}

/// The text trimmed, reusing its buffer when there is nothing to trim.
fn trimmed(s: String) -> String {
    let t = s.trim();
    if t.len() == s.len() {
        s
    } else {
        t.to_string()
    }
}

/// Trimmed text; blank becomes `None`.
pub(crate) fn clean(s: Option<String>) -> Option<String> {
    s.map(trimmed).filter(|s| !s.is_empty())
}

/// [`clean`], as the account keeps its texts: exactly sized (a `Box<str>` is a third
/// smaller than a `String`, and a run holds every decoded account through its plan).
fn text(s: Option<String>) -> Option<Box<str>> {
    clean(s).map(String::into_boxed_str)
}

/// The result of decoding a batch: the good items and one finding per bad record.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// Records that decoded and passed validation.
    pub items: Vec<T>,
    /// One finding per record that did not.
    pub findings: Vec<Finding>,
}

impl<T> Default for Decoded<T> {
    fn default() -> Self {
        Decoded {
            items: Vec::new(),
            findings: Vec::new(),
        }
    }
}

/// Decodes one record, naming the JSON path that failed. The record is read in
/// place first; only a record that fails is decoded again through
/// `serde_path_to_error`, to name the field.
fn decode_one<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    if let Ok(record) = T::deserialize(&value) {
        return Ok(record);
    }
    decode_named(value)
}

/// Decodes one record through `serde_path_to_error`, naming the JSON path that failed.
fn decode_named<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        format!("field {path}: {}", e.inner())
    })
}

/// Whether `id` is a valid 18-character Salesforce id (ASCII alphanumerics).
pub fn is_valid_id18(id: &str) -> bool {
    SalesforceId::parse(id).is_ok()
}

/// The account's id (trimmed) validated once, here; an invalid one is the finding's
/// id (when not blank) and message.
fn valid_id(raw: Option<&str>) -> Result<SalesforceId, (Option<String>, String)> {
    let id = raw.map(str::trim).unwrap_or_default();
    SalesforceId::parse(id).map_err(|_| {
        (
            Some(id.to_string()).filter(|s| !s.is_empty()),
            format!("field Account_ID_18__c: {id:?} is not 18 alphanumeric characters"),
        )
    })
}

fn customer_subscriptions(rows_: Vec<CustomerSubscriptionRecord>) -> Vec<CustomerSubscription> {
    rows_
        .into_iter()
        .map(|r| CustomerSubscription {
            tier: clean(r.tier_short).or_else(|| clean(r.plan_name)),
            end: r.end,
        })
        .collect()
}

fn zuora_subscriptions(rows_: Vec<ZuoraSubscriptionRecord>) -> Vec<ZuoraSubscription> {
    rows_
        .into_iter()
        .map(|r| ZuoraSubscription {
            tier: clean(r.support_level),
            end: r.end,
        })
        .collect()
}

fn restricted(value: Option<BoolOrText>) -> bool {
    match value {
        Some(BoolOrText::Bool(b)) => b,
        Some(BoolOrText::Text(s)) => {
            let s = s.trim();
            s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("restricted party")
        }
        None => false,
    }
}

impl GlobalAccountRecord {
    /// The account of a record whose id was validated.
    fn into_account(self, id18: SalesforceId) -> Account {
        let r = self;
        Account {
            id18,
            name: r.name.map(trimmed).unwrap_or_default(),
            carr: r.carr,
            sales_segment: text(r.sales_segment),
            owner: text(r.owner),
            licenses: r.licenses,
            account_type: text(r.account_type),
            technical_account_manager: text(r.technical_account_manager),
            geo: text(r.geo),
            health_color: text(r.health_color),
            next_renewal: r.next_renewal,
            restricted: restricted(r.restricted),
            partner_status: text(r.partner_status),
            partner_type: text(r.partner_type),
            partner_track: text(r.partner_track),
            support_level: None,
            solutions_architect: None,
            customer_subscriptions: customer_subscriptions(rows(r.customer_subscriptions)),
            zuora_subscriptions: zuora_subscriptions(rows(r.zuora_subscriptions)),
            billing_accounts: rows(r.billing_accounts)
                .into_iter()
                .map(|b| BillingAccount {
                    name: clean(b.name),
                    sold_to_email: clean(b.sold_to_work_email),
                })
                .collect(),
        }
    }
}

impl FederalAccountRecord {
    /// The account of a record whose id was validated.
    fn into_account(self, id18: SalesforceId) -> Account {
        let r = self;
        Account {
            id18,
            name: r.name.map(trimmed).unwrap_or_default(),
            carr: r.carr,
            sales_segment: text(r.sales_segment),
            owner: text(r.owner),
            licenses: r.licenses,
            account_type: text(r.account_type),
            technical_account_manager: text(r.technical_account_manager),
            geo: None,
            health_color: text(r.health_color),
            next_renewal: r.next_renewal,
            restricted: false,
            partner_status: None,
            partner_type: None,
            partner_track: None,
            support_level: text(r.support_level),
            solutions_architect: r.solutions_architect.and_then(|p| text(p.name)),
            customer_subscriptions: customer_subscriptions(rows(r.customer_subscriptions)),
            zuora_subscriptions: zuora_subscriptions(rows(r.zuora_subscriptions)),
            billing_accounts: Vec::new(),
        }
    }
}

/// The raw text of `key` in a record that failed to decode (its `Account_ID_18__c`,
/// its `Email`), trimmed as a decoded one would be, for the finding.
fn raw_str(value: &serde_json::Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Decodes the account records of one instance's query. Each bad record (wrong
/// shape, invalid id, blank name, repeated id) is one `invalid_account` finding.
pub fn decode_accounts(instance: Instance, records: Vec<serde_json::Value>) -> Decoded<Account> {
    let mut decoder = AccountDecoder::new(instance);
    for value in records {
        decoder.push(value);
    }
    decoder.finish()
}

/// Decodes account records one at a time as a query streams them, so that only the
/// typed accounts are kept in memory, never the raw JSON of the whole result. The same
/// rules as [`decode_accounts`], including "first occurrence of an id wins".
#[derive(Debug)]
pub struct AccountDecoder {
    instance: Instance,
    seen: HashSet<SalesforceId>,
    records: usize,
    out: Decoded<Account>,
}

impl AccountDecoder {
    /// A decoder for the instance's account query.
    pub fn new(instance: Instance) -> AccountDecoder {
        AccountDecoder {
            instance,
            seen: HashSet::new(),
            records: 0,
            out: Decoded::default(),
        }
    }

    /// Makes room for `additional` more accounts (e.g. the query's `totalSize`), so the
    /// list is allocated once rather than grown and copied as records arrive.
    pub fn reserve(&mut self, additional: usize) {
        self.out.items.reserve(additional);
    }

    /// Records pushed so far (valid or not).
    pub fn records(&self) -> usize {
        self.records
    }

    /// Decodes and validates one record.
    pub fn push(&mut self, value: serde_json::Value) {
        self.records += 1;
        let out = &mut self.out;
        let raw_id = raw_str(&value, "Account_ID_18__c");
        let decoded: Result<Account, (Option<String>, String)> = match self.instance {
            Instance::Global => decode_one::<GlobalAccountRecord>(value)
                .and_then(|r| r.incomplete_children().map_or(Ok(r), Err))
                .map_err(|message| (raw_id, message))
                .and_then(|r| valid_id(r.account_id_18.as_deref()).map(|id| r.into_account(id))),
            Instance::UsFederal => decode_one::<FederalAccountRecord>(value)
                .and_then(|r| r.incomplete_children().map_or(Ok(r), Err))
                .map_err(|message| (raw_id, message))
                .and_then(|r| valid_id(r.account_id_18.as_deref()).map(|id| r.into_account(id))),
        };
        let account = match decoded {
            Ok(a) => a,
            Err((id, message)) => {
                out.findings.push(Finding::account(
                    FindingKind::InvalidAccount,
                    id.as_deref(),
                    message,
                ));
                return;
            }
        };
        let problem = if account.name.is_empty() {
            Some("field Name: blank".to_string())
        } else if !self.seen.insert(account.id18) {
            Some(
                "field Account_ID_18__c: the account appears more than once in the result"
                    .to_string(),
            )
        } else {
            None
        };
        match problem {
            Some(message) => out.findings.push(Finding::account(
                FindingKind::InvalidAccount,
                Some(account.id18.as_str()),
                message,
            )),
            None => out.items.push(account),
        }
    }

    /// The decoded accounts and the findings.
    pub fn finish(self) -> Decoded<Account> {
        self.out
    }
}

/// Decodes the contact records of the US Federal contacts query. A record of the
/// wrong shape is one `invalid_contact` finding; content rules are in [`crate::users`].
pub fn decode_contacts(records: Vec<serde_json::Value>) -> Decoded<Contact> {
    let mut out = Decoded::default();
    for value in records {
        let raw_email = raw_str(&value, "Email");
        match decode_one::<ContactRecord>(value) {
            Ok(r) => out.items.push(Contact {
                name: clean(r.name),
                email: clean(r.email),
                account_id: r.account.and_then(|a| clean(a.account_id_18)),
            }),
            Err(message) => out.findings.push(Finding {
                kind: FindingKind::InvalidContact,
                salesforce_id: None,
                email: raw_email,
                message,
            }),
        }
    }
    out
}
