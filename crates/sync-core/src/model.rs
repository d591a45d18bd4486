//! Domain types: a Salesforce account and contact as the rules see them (converted
//! once from the query records), the organization we want in Zendesk, and the
//! findings a run reports about its data.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use time::Date;

use crate::ids::SalesforceId;
use crate::value::FieldValue;

/// A customer subscription (`Customer_Subscriptions__r`), Active only.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSubscription {
    /// `Product_Tier_Name_Short__c`, else `Plan_Name__c` (blank counts as absent).
    pub tier: Option<String>,
    /// `Current_Term_End_Date__c`.
    pub end: Option<Date>,
}

/// A Zuora subscription (`Zuora__Subscriptions__r`), Active only.
#[derive(Debug, Clone, PartialEq)]
pub struct ZuoraSubscription {
    /// `Support_Level__c`.
    pub tier: Option<String>,
    /// `Zuora__SubscriptionEndDate__c`.
    pub end: Option<Date>,
}

/// A Zuora billing account (`Zuora__R00N40000001kyLcEAI__r`): where sold-to emails come from.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingAccount {
    /// `Name` of the billing account.
    pub name: Option<String>,
    /// `Zuora__SoldToWorkEmail__c`, as Salesforce has it (not yet validated).
    pub sold_to_email: Option<String>,
}

/// A valid Salesforce account, after decoding. Text fields are trimmed; blank is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// `Account_ID_18__c`: validated on decoding.
    pub id18: SalesforceId,
    /// `Name`, trimmed and non-blank.
    pub name: String,
    /// `CARR_This_Account__c`.
    pub carr: Option<f64>,
    /// `Ultimate_Parent_Sales_Segment_Employees__c`.
    pub sales_segment: Option<Box<str>>,
    /// `Account_Owner_Calc__c`.
    pub owner: Option<Box<str>>,
    /// `Number_of_Licenses_This_Account__c`.
    pub licenses: Option<f64>,
    /// `Type` (`Customer`, `Former Customer`, `Partner`, `Prospect`, …).
    pub account_type: Option<Box<str>>,
    /// `Technical_Account_Manager_Name__c`.
    pub technical_account_manager: Option<Box<str>>,
    /// `Account_Demographics_Geo__c` (Global query only).
    pub geo: Option<Box<str>>,
    /// `GS_Health_Score_Color__c`.
    pub health_color: Option<Box<str>>,
    /// `Next_Renewal_Date__c`.
    pub next_renewal: Option<Date>,
    /// `Restricted_Account__c` is `true` or `Restricted Party` (any case). Global only.
    pub restricted: bool,
    /// `Partners_Partner_Status__c` (Global only).
    pub partner_status: Option<Box<str>>,
    /// `Partners_Partner_Type__c` (Global only).
    pub partner_type: Option<Box<str>>,
    /// `Partner_Track__c` (Global only).
    pub partner_track: Option<Box<str>>,
    /// `Support_Level__c` on the account (US Federal only): the plan fallback.
    pub support_level: Option<Box<str>>,
    /// `Solutions_Architect_Lookup__r.Name` (US Federal only); a null relationship is `None`.
    pub solutions_architect: Option<Box<str>>,
    /// Active customer subscriptions.
    pub customer_subscriptions: Vec<CustomerSubscription>,
    /// Active Zuora subscriptions.
    pub zuora_subscriptions: Vec<ZuoraSubscription>,
    /// Zuora billing accounts (Global only).
    pub billing_accounts: Vec<BillingAccount>,
}

impl Account {
    /// An account with this id and name and nothing else set.
    pub fn new(id18: SalesforceId, name: impl Into<String>) -> Account {
        Account {
            id18,
            name: name.into(),
            carr: None,
            sales_segment: None,
            owner: None,
            licenses: None,
            account_type: None,
            technical_account_manager: None,
            geo: None,
            health_color: None,
            next_renewal: None,
            restricted: false,
            partner_status: None,
            partner_type: None,
            partner_track: None,
            support_level: None,
            solutions_architect: None,
            customer_subscriptions: Vec::new(),
            zuora_subscriptions: Vec::new(),
            billing_accounts: Vec::new(),
        }
    }
}

/// A US Federal contact, after decoding (not yet validated: see [`crate::users`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// `Name`, trimmed; `None` when blank.
    pub name: Option<String>,
    /// `Email`, trimmed; `None` when blank.
    pub email: Option<String>,
    /// `Account.Account_ID_18__c`; `None` when the `Account` relationship is null or the id blank.
    pub account_id: Option<String>,
}

/// The organization an account should have in Zendesk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredOrg {
    /// `Account_ID_18__c`: the match key (org field `salesforce_id`).
    pub salesforce_id: SalesforceId,
    /// The org's name.
    pub name: String,
    /// Every managed org field by Zendesk key; `None` = unset.
    pub fields: DesiredOrgFields,
    /// The managed tags the fields select (drop-down option values and checkbox tags).
    pub managed_tags: ManagedTags,
}

/// The managed tags a desired org selects, sorted and unique: held as their places in
/// the mapping's list of managed tags (one shared, sorted list), inline, so an
/// account's tags cost no allocation rather than a `String` each and a tree node
/// (issue 13). It iterates (as `&str`, sorted), compares, prints and serialises like
/// the `BTreeSet<String>` it replaces.
#[derive(Clone)]
pub struct ManagedTags {
    /// The mapping's managed tags, sorted and unique (shared by every desired org).
    names: Arc<[String]>,
    /// The places in `names` of the tags held, ascending and unique.
    places: SmallVec<[u32; 6]>,
}

impl ManagedTags {
    /// The tags at `places` in `names` (sorted, unique); a place outside `names` is
    /// ignored.
    pub(crate) fn from_places(
        names: Arc<[String]>,
        places: impl IntoIterator<Item = usize>,
    ) -> Self {
        let mut places: SmallVec<[u32; 6]> = places
            .into_iter()
            .filter(|&p| p < names.len())
            .filter_map(|p| u32::try_from(p).ok())
            .collect();
        places.sort_unstable();
        places.dedup();
        ManagedTags { names, places }
    }

    /// The tags, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.places
            .iter()
            .filter_map(|&p| self.names.get(p as usize))
            .map(String::as_str)
    }

    /// Whether `tag` is one of them.
    pub fn contains(&self, tag: &str) -> bool {
        self.iter().any(|t| t == tag)
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The tags as a set of their own.
    pub fn to_set(&self) -> BTreeSet<String> {
        self.iter().map(str::to_string).collect()
    }
}

impl PartialEq for ManagedTags {
    fn eq(&self, other: &ManagedTags) -> bool {
        self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for ManagedTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for ManagedTags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// The value of each org field a mapping manages, by Zendesk key, in key order: a
/// compact map whose keys are the mapping's own (one shared, sorted list) and whose
/// values sit in a `Vec` beside them, so an account's desired org costs one allocation
/// for its fields rather than one per key. It reads, iterates and serialises like the
/// `BTreeMap<String, Option<FieldValue>>` it replaces; a key the mapping does not
/// manage reads as unset.
#[derive(Clone, PartialEq)]
pub struct DesiredOrgFields {
    /// The managed keys, sorted and unique (shared by every desired org of a mapping).
    keys: Arc<[String]>,
    /// The value of each key, at its index; `None` = unset.
    values: Vec<Option<FieldValue>>,
}

/// What a key outside the managed ones reads as.
static UNSET: Option<FieldValue> = None;

impl DesiredOrgFields {
    /// Every key of `keys` (sorted, unique) unset.
    pub(crate) fn unset(keys: Arc<[String]>) -> DesiredOrgFields {
        let values = vec![None; keys.len()];
        DesiredOrgFields { keys, values }
    }

    /// Sets the value at `slot` (an index into the keys); a slot outside them is ignored.
    pub(crate) fn set_slot(&mut self, slot: usize, value: Option<FieldValue>) {
        if let Some(v) = self.values.get_mut(slot) {
            *v = value;
        }
    }

    /// The value of `key`: `None` when the key is not managed, `Some(None)` when unset.
    pub fn get(&self, key: &str) -> Option<&Option<FieldValue>> {
        let at = self.keys.binary_search_by(|k| k.as_str().cmp(key)).ok()?;
        self.values.get(at)
    }

    /// Whether `key` is one of the managed keys.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets a managed key's value; `false` (nothing set) when the key is not managed.
    pub fn set(&mut self, key: &str, value: Option<FieldValue>) -> bool {
        match self.keys.binary_search_by(|k| k.as_str().cmp(key)) {
            Ok(at) => {
                self.set_slot(at, value);
                true
            }
            Err(_) => false,
        }
    }

    /// The keys and their values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Option<FieldValue>)> + '_ {
        self.into_iter()
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The keys (sorted) and the values at their indexes, to move the values out.
    pub fn into_parts(self) -> (Arc<[String]>, Vec<Option<FieldValue>>) {
        (self.keys, self.values)
    }
}

impl std::ops::Index<&str> for DesiredOrgFields {
    type Output = Option<FieldValue>;

    /// The value of `key`; a key the mapping does not manage reads as unset.
    fn index(&self, key: &str) -> &Option<FieldValue> {
        self.get(key).unwrap_or(&UNSET)
    }
}

impl<'a> IntoIterator for &'a DesiredOrgFields {
    type Item = (&'a str, &'a Option<FieldValue>);
    type IntoIter = std::iter::Zip<
        std::iter::Map<std::slice::Iter<'a, String>, fn(&String) -> &str>,
        std::slice::Iter<'a, Option<FieldValue>>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let key: fn(&String) -> &str = String::as_str;
        self.keys.iter().map(key).zip(self.values.iter())
    }
}

impl std::fmt::Debug for DesiredOrgFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for DesiredOrgFields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// What kind of finding: the docs/behaviour.md §8 names, plus `unknown_option` (a computed value
/// the mapping has no drop-down option for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An account that cannot be read or fails §3.1.
    InvalidAccount,
    /// A contact without name, valid email or account.
    InvalidContact,
    /// A subscription tier the mapping does not know.
    UnknownTier,
    /// An `Account_Demographics_Geo__c` the region table does not know.
    UnknownRegion,
    /// A computed drop-down value without an option in the mapping.
    UnknownOption,
    /// Contacts sharing one email (all dropped).
    DuplicateEmail,
    /// Two Zendesk orgs with one `salesforce_id`.
    DuplicateZendeskOrg,
    /// A create or rename onto a name another org holds.
    NameConflict,
    /// A sold-to user that belongs to another org.
    SoldToInOtherOrg,
    /// A new org that ends without any user.
    NoContactForNewOrg,
    /// A contact whose account has no org.
    NoOrganization,
    /// An agent or admin the sync never modifies.
    ProtectedUser,
    /// Values with a fraction rounded for a field Zendesk declares `integer` (one
    /// finding per field per run, with a count and examples).
    RoundedValue,
    /// A sold-to email found among Zendesk's deleted users: not created again.
    DeletedUserNotRecreated,
    /// (cases) The Case's Salesforce account is missing or deleted.
    MissingAccount,
    /// (cases) The ticket is gone from Zendesk.
    TicketNotFound,
}

impl FindingKind {
    /// Every kind, in the order of docs/behaviour.md §8.
    pub const ALL: [FindingKind; 15] = [
        FindingKind::InvalidAccount,
        FindingKind::InvalidContact,
        FindingKind::UnknownTier,
        FindingKind::UnknownRegion,
        FindingKind::UnknownOption,
        FindingKind::DuplicateEmail,
        FindingKind::DuplicateZendeskOrg,
        FindingKind::NameConflict,
        FindingKind::SoldToInOtherOrg,
        FindingKind::NoContactForNewOrg,
        FindingKind::NoOrganization,
        FindingKind::ProtectedUser,
        FindingKind::DeletedUserNotRecreated,
        FindingKind::MissingAccount,
        FindingKind::TicketNotFound,
    ];

    /// The snake_case name used in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            FindingKind::InvalidAccount => "invalid_account",
            FindingKind::InvalidContact => "invalid_contact",
            FindingKind::UnknownTier => "unknown_tier",
            FindingKind::UnknownRegion => "unknown_region",
            FindingKind::UnknownOption => "unknown_option",
            FindingKind::DuplicateEmail => "duplicate_email",
            FindingKind::DuplicateZendeskOrg => "duplicate_zendesk_org",
            FindingKind::NameConflict => "name_conflict",
            FindingKind::SoldToInOtherOrg => "sold_to_in_other_org",
            FindingKind::NoContactForNewOrg => "no_contact_for_new_org",
            FindingKind::NoOrganization => "no_organization",
            FindingKind::ProtectedUser => "protected_user",
            FindingKind::RoundedValue => "rounded_value",
            FindingKind::DeletedUserNotRecreated => "deleted_user_not_recreated",
            FindingKind::MissingAccount => "missing_account",
            FindingKind::TicketNotFound => "ticket_not_found",
        }
    }
}

/// One thing about the data that the run reports but cannot fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The account concerned, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    /// The email concerned, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A specific human-readable message (names the field or value).
    pub message: String,
}

impl Finding {
    /// A finding about an account.
    pub fn account(
        kind: FindingKind,
        salesforce_id: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            kind,
            salesforce_id: salesforce_id.map(str::to_string),
            email: None,
            message: message.into(),
        }
    }

    /// A finding about a user's email.
    pub fn email(kind: FindingKind, email: &str, message: impl Into<String>) -> Self {
        Finding {
            kind,
            salesforce_id: None,
            email: Some(email.to_string()),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn fields() -> DesiredOrgFields {
        let keys: Vec<String> = ["aar", "org_region", "support_level"]
            .map(String::from)
            .to_vec();
        let mut f = DesiredOrgFields::unset(keys.into());
        f.set_slot(0, Some(FieldValue::Number(1.5)));
        f.set_slot(2, Some(FieldValue::Text("premium".into())));
        f
    }

    #[test]
    fn org_fields_read_iterate_and_serialise_as_the_map_they_replace() {
        let f = fields();
        let map: BTreeMap<String, Option<FieldValue>> = [
            ("support_level", Some(FieldValue::Text("premium".into()))),
            ("aar", Some(FieldValue::Number(1.5))),
            ("org_region", None),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let pairs: Vec<(&str, &Option<FieldValue>)> = f.iter().collect();
        let expected: Vec<(&str, &Option<FieldValue>)> =
            map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(pairs, expected);
        assert_eq!(format!("{f:?}"), format!("{map:?}"));
        assert_eq!(f.get("org_region"), Some(&None));
        assert_eq!(f["aar"], Some(FieldValue::Number(1.5)));
        // A key the mapping does not manage is not there and reads as unset.
        assert_eq!(f.get("notes"), None);
        assert_eq!(f["notes"], None);
        assert!(!f.contains_key("notes"));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn only_managed_keys_can_be_set() {
        let mut f = fields();
        assert!(f.set("org_region", Some(FieldValue::Text("emea".into()))));
        assert_eq!(f["org_region"], Some(FieldValue::Text("emea".into())));
        assert!(!f.set("notes", Some(FieldValue::Text("x".into()))));
        assert!(!f.contains_key("notes"));
        f.set_slot(7, Some(FieldValue::Bool(true)));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn managed_tags_read_as_the_set_they_replace() {
        let names: Arc<[String]> = ["alpha", "beta", "gamma", "zeta"]
            .map(String::from)
            .into_iter()
            .collect();
        // Places given out of order, repeated, and one outside the list.
        let tags = ManagedTags::from_places(Arc::clone(&names), [3, 0, 3, 2, 9]);
        let set: BTreeSet<String> = ["zeta", "alpha", "gamma"].map(String::from).into();
        assert_eq!(tags.to_set(), set);
        assert_eq!(tags.iter().collect::<Vec<_>>(), ["alpha", "gamma", "zeta"]);
        assert_eq!((tags.len(), tags.is_empty()), (3, false));
        assert!(tags.contains("gamma") && !tags.contains("beta"));
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            serde_json::to_string(&set).unwrap()
        );
        assert_eq!(format!("{tags:?}"), format!("{set:?}"));
        let same = ManagedTags::from_places(names, [2, 3, 0]);
        assert_eq!(tags, same);
        let other_list: Arc<[String]> = ["alpha", "gamma", "zeta"]
            .map(String::from)
            .into_iter()
            .collect();
        assert_eq!(tags, ManagedTags::from_places(other_list, [0, 1, 2]));
        assert!(ManagedTags::from_places(Arc::clone(&same.names), []).is_empty());
    }
}
