//! The diff (SPEC §5): desired orgs from Salesforce against actual Zendesk orgs,
//! into a [`Plan`] of minimal writes: creates, updates (only changed fields; the
//! full tag list when managed tags change), deletes, and the conflicts left alone.
//! Pure and deterministic: everything is sorted by `salesforce_id`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::Date;

use crate::evaluate::{evaluate_account, Evaluation};
use crate::mapping::Mapping;
use crate::model::{Account, Finding, FindingKind};
use crate::records::{decode_accounts, Decoded};
use crate::users::{sold_to_contacts, SoldTo};
use crate::value::{same_value, FieldValue};
use crate::zendesk::{managed_view, ZendeskOrg};

/// An org to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgCreate {
    /// The account it is for.
    pub salesforce_id: String,
    /// Its name.
    pub name: String,
    /// Every set managed field (unset ones are left out).
    pub organization_fields: BTreeMap<String, FieldValue>,
    /// Its managed tags, sorted.
    pub tags: Vec<String>,
}

impl OrgCreate {
    /// The organization object for `organizations/create_many`.
    pub fn zendesk_body(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "organization_fields": self.organization_fields,
            "tags": self.tags,
        })
    }
}

/// The changed part of an org: only what differs is present.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OrgPatch {
    /// The new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Changed fields; `None` clears the field (sent as `null`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub organization_fields: BTreeMap<String, Option<FieldValue>>,
    /// The full tag list (unmanaged ∪ desired managed), when managed tags change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl OrgPatch {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.organization_fields.is_empty() && self.tags.is_none()
    }
}

/// An org to update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgUpdate {
    /// The account it is for.
    pub salesforce_id: String,
    /// The Zendesk org id.
    pub id: u64,
    /// What to send.
    pub patch: OrgPatch,
}

impl OrgUpdate {
    /// The organization object for `organizations/update_many` (batch form).
    pub fn zendesk_body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "id": self.id });
        if let (Some(map), Ok(serde_json::Value::Object(patch))) =
            (body.as_object_mut(), serde_json::to_value(&self.patch))
        {
            map.extend(patch);
        }
        body
    }
}

/// An org to delete (Global, greatly expired, not protected).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgDelete {
    /// The account it is for.
    pub salesforce_id: String,
    /// The Zendesk org id.
    pub id: u64,
    /// Its name (for the report).
    pub name: String,
}

/// An account not synced this run, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// The account.
    pub salesforce_id: String,
    /// Why: `invalid_account`, `unknown_tier`, `duplicate_zendesk_org`,
    /// `name_conflict`, `greatly_expired_without_org`.
    pub reason: String,
}

/// The organization plan of one run.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Plan {
    /// Account records Salesforce returned (valid or not).
    pub salesforce_records: usize,
    /// Zendesk orgs read.
    pub zendesk_organizations: usize,
    /// Accounts matched to exactly one org.
    pub matched: usize,
    /// Orgs to create, by `salesforce_id`.
    pub creates: Vec<OrgCreate>,
    /// Orgs to update, by `salesforce_id`.
    pub updates: Vec<OrgUpdate>,
    /// Orgs to delete (run last), by `salesforce_id`.
    pub deletes: Vec<OrgDelete>,
    /// Matched orgs already as desired, by `salesforce_id`.
    pub unchanged: Vec<String>,
    /// Orgs with a `salesforce_id` that is not in the result (never deleted).
    pub not_in_salesforce: usize,
    /// Orgs without a `salesforce_id` (untouched).
    pub without_salesforce_id: usize,
    /// Accounts not synced, with the reason.
    pub skipped: Vec<Skipped>,
    /// Every finding of the org phase, in order.
    pub findings: Vec<Finding>,
    /// Account → org id of every matched org (for users and sold-to lookups).
    pub org_ids: BTreeMap<String, u64>,
    /// Account → its sold-to contacts (Global), for new orgs and orgs that still count as new.
    pub sold_to: BTreeMap<String, Vec<SoldTo>>,
}

impl Plan {
    /// Whether the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.updates.is_empty() && self.deletes.is_empty()
    }
}

/// Decodes the account records, evaluates each and diffs them against the orgs:
/// the whole pure part of an org sync.
pub fn plan_orgs(
    records: Vec<serde_json::Value>,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    today: Date,
) -> Plan {
    let salesforce_records = records.len();
    let decoded = decode_accounts(mapping.instance(), records);
    plan_decoded(decoded, salesforce_records, orgs, mapping, today)
}

/// [`plan_orgs`] for accounts already decoded (e.g. with a streaming
/// [`crate::records::AccountDecoder`]); `salesforce_records` counts every record read.
pub fn plan_decoded(
    decoded: Decoded<Account>,
    salesforce_records: usize,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    today: Date,
) -> Plan {
    let evaluations: Vec<Evaluation> = decoded
        .items
        .iter()
        .map(|a| evaluate_account(a, mapping, today))
        .collect();
    let invalid_ids: BTreeSet<String> = decoded
        .findings
        .iter()
        .filter_map(|f| f.salesforce_id.clone())
        .collect();
    let mut plan = diff_orgs(&evaluations, orgs, mapping, &invalid_ids);
    plan.salesforce_records = salesforce_records;
    let mut skipped: Vec<Skipped> = decoded
        .findings
        .iter()
        .map(|f| Skipped {
            salesforce_id: f.salesforce_id.clone().unwrap_or_default(),
            reason: "invalid_account".to_string(),
        })
        .collect();
    skipped.append(&mut plan.skipped);
    skipped.sort_by(|a, b| a.salesforce_id.cmp(&b.salesforce_id));
    plan.skipped = skipped;
    let mut findings = decoded.findings;
    findings.append(&mut plan.findings);
    plan.findings = findings;
    plan
}

/// The minimal patch turning `org` into `desired` (managed fields and tags only).
pub fn patch_for(evaluation: &Evaluation, org: &ZendeskOrg, mapping: &Mapping) -> OrgPatch {
    let desired = &evaluation.desired;
    let view = managed_view(org, mapping);
    let mut patch = OrgPatch::default();
    if desired.name != view.name {
        patch.name = Some(desired.name.clone());
    }
    for (key, value) in &desired.fields {
        if !same_value(value.as_ref(), view.fields.get(key)) {
            patch.organization_fields.insert(key.clone(), value.clone());
        }
    }
    if view.managed_tags != desired.managed_tags {
        let tags: BTreeSet<String> = view
            .unmanaged_tags
            .iter()
            .chain(desired.managed_tags.iter())
            .cloned()
            .collect();
        patch.tags = Some(tags.into_iter().collect());
    }
    patch
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Diffs evaluated accounts against the Zendesk orgs. `also_in_salesforce` holds
/// ids of accounts returned but invalid (their orgs are not `not_in_salesforce`).
pub fn diff_orgs(
    evaluations: &[Evaluation],
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    also_in_salesforce: &BTreeSet<String>,
) -> Plan {
    let mut plan = Plan {
        salesforce_records: evaluations.len(),
        zendesk_organizations: orgs.len(),
        ..Plan::default()
    };
    let mut by_id: BTreeMap<String, Vec<&ZendeskOrg>> = BTreeMap::new();
    let mut existing_names: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for org in orgs {
        existing_names
            .entry(name_key(&org.name))
            .or_default()
            .insert(org.id);
        match org.salesforce_id(mapping) {
            Some(id) => by_id.entry(id).or_default().push(org),
            None => plan.without_salesforce_id += 1,
        }
    }
    let mut sorted: Vec<&Evaluation> = evaluations.iter().collect();
    sorted.sort_by(|a, b| a.salesforce_id.cmp(&b.salesforce_id));

    let mut creates = Vec::new();
    let mut updates: Vec<(OrgUpdate, &ZendeskOrg)> = Vec::new();
    let skip = |plan: &mut Plan, id: &str, reason: &str| {
        plan.skipped.push(Skipped {
            salesforce_id: id.to_string(),
            reason: reason.to_string(),
        })
    };
    for eval in &sorted {
        let id = eval.salesforce_id.as_str();
        plan.findings.extend(eval.findings.iter().cloned());
        let sold_to = sold_to_contacts(&eval.billing_accounts);
        if !sold_to.is_empty() {
            plan.sold_to.insert(id.to_string(), sold_to);
        }
        let matches = by_id.get(id).map(Vec::as_slice).unwrap_or_default();
        if matches.len() > 1 {
            let ids: Vec<String> = matches.iter().map(|o| o.id.to_string()).collect();
            plan.findings.push(Finding::account(
                FindingKind::DuplicateZendeskOrg,
                Some(id),
                format!(
                    "Zendesk orgs {} share this salesforce_id; none is changed",
                    ids.join(", ")
                ),
            ));
            skip(&mut plan, id, "duplicate_zendesk_org");
            continue;
        }
        if let Some(org) = matches.first() {
            plan.matched += 1;
            plan.org_ids.insert(id.to_string(), org.id);
        }
        if !eval.trusted {
            skip(&mut plan, id, "unknown_tier");
            continue;
        }
        match matches.first() {
            Some(org) => {
                if eval.greatly_expired
                    && mapping.deletes_greatly_expired()
                    && !org.has_tag(mapping.protect_tag())
                {
                    plan.deletes.push(OrgDelete {
                        salesforce_id: id.to_string(),
                        id: org.id,
                        name: org.name.clone(),
                    });
                    continue;
                }
                let patch = patch_for(eval, org, mapping);
                if patch.is_empty() {
                    plan.unchanged.push(id.to_string());
                } else {
                    let update = OrgUpdate {
                        salesforce_id: id.to_string(),
                        id: org.id,
                        patch,
                    };
                    updates.push((update, *org));
                }
            }
            None if eval.greatly_expired => skip(&mut plan, id, "greatly_expired_without_org"),
            None => creates.push(OrgCreate {
                salesforce_id: id.to_string(),
                name: eval.desired.name.clone(),
                organization_fields: eval
                    .desired
                    .fields
                    .iter()
                    .filter_map(|(k, v)| match v {
                        None | Some(FieldValue::Bool(false)) => None,
                        Some(v) => Some((k.clone(), v.clone())),
                    })
                    .collect(),
                tags: eval.desired.managed_tags.iter().cloned().collect(),
            }),
        }
    }

    // Names claimed by this run: creates and renames.
    let mut claimed: BTreeMap<String, usize> = BTreeMap::new();
    for c in &creates {
        *claimed.entry(name_key(&c.name)).or_default() += 1;
    }
    for (u, _) in &updates {
        if let Some(name) = &u.patch.name {
            *claimed.entry(name_key(name)).or_default() += 1;
        }
    }
    for create in creates {
        let key = name_key(&create.name);
        let holder = existing_names
            .get(&key)
            .and_then(|ids| ids.iter().next().copied());
        if holder.is_some() || claimed.get(&key).copied().unwrap_or(0) > 1 {
            plan.findings.push(Finding::account(
                FindingKind::NameConflict,
                Some(&create.salesforce_id),
                format!(
                    "cannot create org {:?}: the name is {}",
                    create.name,
                    match holder {
                        Some(id) => format!("held by Zendesk org {id}"),
                        None => "wanted by another new account".to_string(),
                    }
                ),
            ));
            skip(&mut plan, &create.salesforce_id, "name_conflict");
        } else {
            plan.creates.push(create);
        }
    }
    for (mut update, org) in updates {
        if let Some(name) = update.patch.name.clone() {
            let key = name_key(&name);
            let holder = existing_names
                .get(&key)
                .and_then(|ids| ids.iter().copied().find(|i| *i != org.id));
            if holder.is_some() || claimed.get(&key).copied().unwrap_or(0) > 1 {
                let why = match holder {
                    Some(id) => format!("Zendesk org {id} holds that name"),
                    None => {
                        "another account's org is created or renamed to it this run".to_string()
                    }
                };
                plan.findings.push(Finding::account(
                    FindingKind::NameConflict,
                    Some(&update.salesforce_id),
                    format!(
                        "org {} is not renamed from {:?} to {:?}: {why}",
                        org.id, org.name, name
                    ),
                ));
                update.patch.name = None;
            }
        }
        if update.patch.is_empty() {
            plan.unchanged.push(update.salesforce_id);
        } else {
            plan.updates.push(update);
        }
    }
    plan.unchanged.sort();

    let evaluated: BTreeSet<&str> = evaluations
        .iter()
        .map(|e| e.salesforce_id.as_str())
        .collect();
    plan.not_in_salesforce = by_id
        .iter()
        .filter(|(id, _)| !evaluated.contains(id.as_str()) && !also_in_salesforce.contains(*id))
        .map(|(_, orgs)| orgs.len())
        .sum();
    plan.skipped
        .sort_by(|a, b| a.salesforce_id.cmp(&b.salesforce_id));
    plan
}
