//! The diff (docs/behaviour.md §5): desired orgs from Salesforce against actual Zendesk orgs,
//! into a [`Plan`] of minimal writes: creates, updates (only changed fields; the
//! full tag list when managed tags change), deletes, and the conflicts left alone.
//! Pure and deterministic: everything is sorted by `salesforce_id`.
//!
//! [`diff_orgs`] runs these steps, one docs/behaviour.md §5 rule each:
//!
//! - match key `salesforce_id`, orgs outside the result (`not_in_salesforce`):
//!   `OrgIndex`;
//! - per account, first match wins (`propose`): `duplicate_zendesk_org`
//!   (`duplicate_org_finding`), untrusted plan (`unknown_tier`), delete of a
//!   greatly-expired org unless `do_not_delete` ([`org_delete`]), update with only
//!   what changed ([`patch_for`]; the full tag list on update: [`full_tag_list`]),
//!   create ([`org_create`]);
//! - `name_conflict` on create (`create_name_conflict`) and on rename
//!   (`rename_conflict`), applied by `admit_with_names`.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use smallvec::SmallVec;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use time::Date;

use crate::evaluate::{evaluate_account, Evaluation};
use crate::field_map::FieldMap;
use crate::ids::{SalesforceId, ZendeskOrgId};
use crate::mapping::Mapping;
use crate::model::{Account, DesiredOrg, Finding, FindingKind};
use crate::records::{decode_accounts, Decoded};
use crate::users::{sold_to_contacts, SoldTo};
use crate::value::{same_value, FieldValue};
use crate::zendesk::ZendeskOrg;

/// An org to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgCreate {
    /// The account it is for.
    pub salesforce_id: SalesforceId,
    /// Its name.
    pub name: String,
    /// Every set managed field (unset ones are left out).
    pub organization_fields: FieldMap<FieldValue>,
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
    #[serde(skip_serializing_if = "FieldMap::is_empty")]
    pub organization_fields: FieldMap<Option<FieldValue>>,
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

/// What an org holds now, for the parts an update changes (for the report's
/// `before → after`; not sent).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OrgBefore {
    /// The org's name in Zendesk now (always present, for the report).
    pub name: String,
    /// The current values of the fields the patch changes (`None` = unset).
    #[serde(skip_serializing_if = "FieldMap::is_empty")]
    pub organization_fields: FieldMap<Option<FieldValue>>,
    /// The current tags, when the patch sends a tag list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl OrgBefore {
    /// The before values of exactly what `patch` changes: the name only when it is
    /// renamed, each changed field, the tags when they are sent.
    pub fn changed(&self, patch: &OrgPatch) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        if patch.name.is_some() {
            out.insert("name".into(), self.name.clone().into());
        }
        if !patch.organization_fields.is_empty() {
            let fields: serde_json::Map<String, serde_json::Value> = patch
                .organization_fields
                .keys()
                .map(|k| {
                    let v = self.organization_fields.get(k).cloned().flatten();
                    (k.clone(), serde_json::to_value(v).unwrap_or_default())
                })
                .collect();
            out.insert("organization_fields".into(), fields.into());
        }
        if patch.tags.is_some() {
            let tags = self.tags.clone().unwrap_or_default();
            out.insert("tags".into(), tags.into());
        }
        out.into()
    }
}

/// An org to update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgUpdate {
    /// The account it is for.
    pub salesforce_id: SalesforceId,
    /// The Zendesk org id.
    pub id: ZendeskOrgId,
    /// What to send.
    pub patch: OrgPatch,
    /// What the org holds now, where the patch changes it (not sent).
    pub before: OrgBefore,
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
    pub salesforce_id: SalesforceId,
    /// The Zendesk org id.
    pub id: ZendeskOrgId,
    /// Its name (for the report).
    pub name: String,
}

/// An account not synced this run, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// The account.
    pub salesforce_id: String,
    /// Why.
    pub reason: SkipReason,
}

impl Skipped {
    fn new(salesforce_id: &str, reason: SkipReason) -> Skipped {
        Skipped {
            salesforce_id: salesforce_id.to_string(),
            reason,
        }
    }
}

/// Why an account is not synced this run (serialised as before, in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The account cannot be read or fails §3.1.
    InvalidAccount,
    /// A subscription tier the mapping does not know.
    UnknownTier,
    /// Two Zendesk orgs carry the account's id.
    DuplicateZendeskOrg,
    /// A create or rename onto a name another org holds.
    NameConflict,
    /// Greatly expired and no org to delete.
    GreatlyExpiredWithoutOrg,
}

impl SkipReason {
    /// The snake_case name (as serialised).
    pub const fn as_str(self) -> &'static str {
        match self {
            SkipReason::InvalidAccount => "invalid_account",
            SkipReason::UnknownTier => "unknown_tier",
            SkipReason::DuplicateZendeskOrg => "duplicate_zendesk_org",
            SkipReason::NameConflict => "name_conflict",
            SkipReason::GreatlyExpiredWithoutOrg => "greatly_expired_without_org",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    pub unchanged: Vec<SalesforceId>,
    /// Orgs with a `salesforce_id` that is not in the result (never deleted).
    pub not_in_salesforce: usize,
    /// Orgs without a `salesforce_id` (untouched).
    pub without_salesforce_id: usize,
    /// Accounts not synced, with the reason.
    pub skipped: Vec<Skipped>,
    /// Every finding of the org phase, in order.
    pub findings: Vec<Finding>,
    /// Account → org id of every matched org (for users and sold-to lookups).
    pub org_ids: BTreeMap<SalesforceId, ZendeskOrgId>,
    /// Account → its sold-to contacts (Global), for new orgs and orgs that still count as new.
    pub sold_to: BTreeMap<SalesforceId, Vec<SoldTo>>,
}

impl Plan {
    /// Whether the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.updates.is_empty() && self.deletes.is_empty()
    }

    /// `plan_hash` (docs/behaviour.md §8): the sha256 (hex) of the changes this plan makes, in a
    /// canonical encoding that does not depend on their order: one line per write
    /// (`create_org`, `update_org`, `delete_org`, with the account, the org id and
    /// exactly what is sent, object keys sorted), the lines sorted. Counts, findings
    /// and timestamps are not part of it: the same writes give the same hash.
    pub fn hash(&self) -> String {
        // Sorted as text, the lines are sorted by action, then by account: each begins
        // `{"action":"…","salesforce_id":"…"` and every id has 18 characters. So each
        // action's lines are fed in account order, the actions in their own order, and
        // only the lines of one action and account (one, unless an account repeats) are
        // sorted among themselves: the same digest as sorting every line, without
        // holding them all (some 30 MB at 100k accounts, issue 13).
        let lines = sorted_lines(
            "create_org",
            &self.creates,
            |c| c.salesforce_id,
            |c| c.zendesk_body(),
        )
        .chain(sorted_lines(
            "delete_org",
            &self.deletes,
            |d| d.salesforce_id,
            |d| serde_json::json!({ "id": d.id }),
        ))
        .chain(sorted_lines(
            "update_org",
            &self.updates,
            |u| u.salesforce_id,
            OrgUpdate::zendesk_body,
        ));
        crate::mapping::sha256_hex_of_lines(lines)
    }

    /// The plan restricted to the writes for these accounts (`--only`): what was read
    /// and decided about every account (counts, conflicts, findings) stays; only the
    /// creates, updates, deletions and sold-to candidates of other accounts go.
    pub fn only(mut self, accounts: &BTreeSet<String>) -> Plan {
        self.creates
            .retain(|c| accounts.contains(c.salesforce_id.as_str()));
        self.updates
            .retain(|u| accounts.contains(u.salesforce_id.as_str()));
        self.deletes
            .retain(|d| accounts.contains(d.salesforce_id.as_str()));
        self.sold_to.retain(|id, _| accounts.contains(id.as_str()));
        self
    }
}

/// The canonical lines of one action's writes, in the order of their text: by account,
/// the lines of one account (nearly always one) sorted among themselves. Made one
/// account at a time, as the hash reads them.
fn sorted_lines<'a, T>(
    action: &'static str,
    writes: &'a [T],
    account: impl Fn(&T) -> SalesforceId + 'a,
    body: impl Fn(&T) -> serde_json::Value + 'a,
) -> impl Iterator<Item = String> + 'a {
    let mut order: Vec<&'a T> = writes.iter().collect();
    order.sort_by_key(|w| account(w));
    let mut next = 0;
    std::iter::from_fn(move || {
        let rest = order.get(next..)?;
        let first = account(rest.first()?);
        let run = rest.iter().take_while(|w| account(w) == first).count();
        next += run;
        let mut lines: Vec<String> = rest
            .iter()
            .take(run)
            .map(|w| canonical_line(action, account(w).as_str(), body(w)))
            .collect();
        lines.sort();
        Some(lines)
    })
    .flatten()
}

/// One write of a plan in [`Plan::hash`]'s canonical form.
fn canonical_line(action: &str, salesforce_id: &str, body: serde_json::Value) -> String {
    let line = serde_json::json!({
        "action": action,
        "salesforce_id": salesforce_id,
        "body": sorted_keys(body),
    });
    line.to_string()
}

/// A JSON value with every object's keys in sorted order (serde_json keeps insertion
/// order in this workspace).
fn sorted_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sorted_keys(v))).collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted_keys).collect())
        }
        other => other,
    }
}

/// docs/behaviour.md §8 `rounded_value`: one finding per `integer` field whose values were
/// rounded this run, with the count and the first few examples, gathered one evaluation
/// at a time (in `salesforce_id` order) so the diff need not hold every evaluation.
#[derive(Default)]
struct RoundedByField {
    /// Field key → how many values were rounded, and the first few as examples.
    by_key: BTreeMap<String, (usize, Vec<String>)>,
}

impl RoundedByField {
    const EXAMPLES: usize = 3;

    fn add(&mut self, eval: &Evaluation) {
        for r in &eval.rounded {
            let (count, examples) = self.by_key.entry(r.key.clone()).or_default();
            *count += 1;
            if examples.len() < Self::EXAMPLES {
                examples.push(format!(
                    "{}: {} → {}",
                    eval.salesforce_id.as_str(),
                    r.from,
                    r.to
                ));
            }
        }
    }

    /// `next` (gathered from the accounts after these) added: counts summed, the
    /// examples still the first few.
    fn append(&mut self, next: RoundedByField) {
        for (key, (count, examples)) in next.by_key {
            let (total, kept) = self.by_key.entry(key).or_default();
            *total += count;
            let room = Self::EXAMPLES.saturating_sub(kept.len());
            kept.extend(examples.into_iter().take(room));
        }
    }

    fn findings(self) -> Vec<Finding> {
        self.by_key
            .into_iter()
            .map(|(key, (count, examples))| {
                Finding::account(
                    FindingKind::RoundedValue,
                    None,
                    format!(
                        "field {key} is an integer field in Zendesk: {count} value(s) with a \
                         fraction were rounded to whole numbers, e.g. {}",
                        examples.join(", ")
                    ),
                )
            })
            .collect()
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

/// Below this many accounts the diff runs as one part, on the calling thread (a
/// thread costs more than it saves on a small set). With each part freeing its own
/// accounts as it evaluates them, two parts at 100k accounts took the plan from about
/// 235 ms to about 150 ms with the job's peak unchanged (186 MiB first run, 175 MiB
/// second; docs/benchmarks/profile.md, sixth pass; docs/decisions.md).
const PARALLEL_FROM: usize = 50_000;

/// The most parts (threads) one diff is split into.
const MAX_PARTS: usize = 8;

/// [`plan_orgs`] for accounts already decoded (e.g. with a streaming
/// [`crate::records::AccountDecoder`]); `salesforce_records` counts every record read.
/// Large sets are evaluated and diffed in parts, one thread each, as many as the
/// machine has cores (at most [`MAX_PARTS`]); the plan is the same whatever the
/// number of parts ([`plan_decoded_in_parts`]).
pub fn plan_decoded(
    decoded: Decoded<Account>,
    salesforce_records: usize,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    today: Date,
) -> Plan {
    let parts = if decoded.items.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_PARTS))
    };
    plan_decoded_in_parts(decoded, salesforce_records, orgs, mapping, today, parts)
}

/// [`plan_decoded`] in `parts` parts (at least one), each on its own thread (the
/// first on the calling thread). The parts are runs of consecutive accounts in
/// `salesforce_id` order, merged in that order, so the plan does not depend on
/// `parts` (a test holds this).
pub fn plan_decoded_in_parts(
    decoded: Decoded<Account>,
    salesforce_records: usize,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    today: Date,
    parts: usize,
) -> Plan {
    // In `salesforce_id` order (the decoder keeps one account per id, so an unstable
    // sort, in place, gives the one order), then evaluated one at a time as the diff
    // asks: an evaluation is dropped once diffed, so the run never holds every
    // desired org at once. Every part frees each account's texts once it is evaluated,
    // on the part's own thread (with jemalloc, freeing on a thread other than the one
    // that decoded them costs nothing measurable; with mimalloc it made the parts a
    // third slower, and they left their accounts to this thread).
    let mut accounts = decoded.items;
    accounts.sort_unstable_by_key(|account| account.id18);
    let ids: Vec<SalesforceId> = accounts.iter().map(|account| account.id18).collect();
    let invalid_ids: BTreeSet<String> = decoded
        .findings
        .iter()
        .filter_map(|f| f.salesforce_id.clone())
        .collect();
    let diff = Diff::new(&ids, orgs, mapping);
    let evaluate_and_drop = |account: &mut Account| {
        // Moved out, leaving an empty account (no text) with the same id; its billing
        // accounts move into the evaluation rather than being copied.
        let mut account = std::mem::replace(account, Account::new(account.id18, String::new()));
        let billing_accounts = std::mem::take(&mut account.billing_accounts);
        let mut evaluation = evaluate_account(&account, mapping, today);
        evaluation.billing_accounts = billing_accounts;
        evaluation
    };
    let parts = parts.clamp(1, MAX_PARTS);
    let mut slices = split_at_id_changes(&mut accounts, parts).into_iter();
    let first = slices.next().unwrap_or_default();
    // Each other part's accounts, taken by its thread, or by this one when the thread
    // cannot be started (a process or memory limit): that part is then diffed here,
    // in its turn.
    let others: Vec<Mutex<&mut [Account]>> = slices.map(Mutex::new).collect();
    let part = std::thread::scope(|scope| {
        let threads: Vec<_> = others
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let (diff, evaluate) = (&diff, &evaluate_and_drop);
                let thread = std::thread::Builder::new()
                    .name(format!("plan-part-{}", i + 2))
                    .spawn_scoped(scope, move || {
                        let mut slice = slot.lock().unwrap_or_else(PoisonError::into_inner);
                        let room = slice.len();
                        diff.part(slice.iter_mut().map(evaluate), room)
                    });
                (slot, thread)
            })
            .collect();
        // Room for every account: the other parts are appended to this one in place.
        let mut part = diff.part(first.iter_mut().map(evaluate_and_drop), ids.len());
        for (slot, thread) in threads {
            let other = match thread {
                Ok(thread) => match thread.join() {
                    Ok(other) => other,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => {
                    let mut slice = slot.lock().unwrap_or_else(PoisonError::into_inner);
                    let room = slice.len();
                    diff.part(slice.iter_mut().map(&evaluate_and_drop), room)
                }
            };
            part.append(other);
        }
        part
    });
    drop(others);
    drop(accounts);
    let mut plan = diff.finish(part, &invalid_ids);
    plan.salesforce_records = salesforce_records;
    let mut skipped: Vec<Skipped> = decoded
        .findings
        .iter()
        .map(|f| {
            let id = f.salesforce_id.as_deref().unwrap_or_default();
            Skipped::new(id, SkipReason::InvalidAccount)
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

/// `items` (sorted by id) cut into at most `parts` runs of about equal length, never
/// between two items with one id (they must be diffed together).
fn split_at_id_changes(items: &mut [Account], parts: usize) -> Vec<&mut [Account]> {
    let size = items.len().div_ceil(parts.max(1)).max(1);
    let mut out = Vec::with_capacity(parts);
    let mut rest = items;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while cut < rest.len() && rest.get(cut - 1).map(|a| a.id18) == rest.get(cut).map(|a| a.id18)
        {
            cut += 1;
        }
        let (head, tail) = rest.split_at_mut(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// Diffs evaluated accounts against the Zendesk orgs. `also_in_salesforce` holds
/// ids of accounts returned but invalid (their orgs are not `not_in_salesforce`).
///
/// The steps: index the orgs by `salesforce_id` and name (`OrgIndex`); for each
/// account in `salesforce_id` order, `propose` a create, an update, a delete or
/// nothing; check the names the creates and renames want (`admit_with_names`);
/// count the orgs outside the result.
pub fn diff_orgs(
    evaluations: &[Evaluation],
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    also_in_salesforce: &BTreeSet<String>,
) -> Plan {
    let mut sorted = evaluations.to_vec();
    sorted.sort_by_key(|eval| eval.salesforce_id);
    let ids: Vec<SalesforceId> = sorted.iter().map(|eval| eval.salesforce_id).collect();
    let diff = Diff::new(&ids, orgs, mapping);
    let part = diff.part(sorted.into_iter(), ids.len());
    diff.finish(part, also_in_salesforce)
}

/// One diff of accounts (whose ids, in `salesforce_id` order, are `ids`) against the
/// orgs: what every part shares, read only.
struct Diff<'a, 'o> {
    ids: &'a [SalesforceId],
    orgs: &'o [ZendeskOrg],
    index: OrgIndex<'o>,
    managed: Managed,
    mapping: &'a Mapping,
}

/// What the diff made of one run of consecutive accounts (in `salesforce_id` order):
/// the parts of a plan that grow account by account; the next run's part is appended
/// to it. What a plan keeps of each evaluation (findings, desired fields of creates,
/// ids) is moved rather than copied, and the rest dropped before the next is taken.
#[derive(Default)]
struct Part<'o> {
    matched: usize,
    /// Orgs matched (each distinct id's matches counted once).
    covered: usize,
    creates: Vec<OrgCreate>,
    updates: Vec<(OrgUpdate, &'o ZendeskOrg)>,
    deletes: Vec<OrgDelete>,
    unchanged: Vec<SalesforceId>,
    skipped: Vec<Skipped>,
    findings: Vec<Finding>,
    /// In `salesforce_id` order, so the maps are built in one pass at the end.
    org_ids: Vec<(SalesforceId, ZendeskOrgId)>,
    sold_to: Vec<(SalesforceId, Vec<SoldTo>)>,
    rounded: RoundedByField,
    /// Reused by every update of the part: its changed fields are gathered here and
    /// copied out at their exact size (issue 13).
    scratch: Scratch,
}

/// The changed fields of one update and their values before, gathered before they are
/// copied out at their exact size: a list grown by doubling keeps up to half its room
/// unused, and a run holds every update's two lists to its end.
#[derive(Debug, Default)]
struct Scratch {
    changed: Vec<(usize, Option<FieldValue>)>,
    was: Vec<(usize, Option<FieldValue>)>,
}

/// The entries of `buffer` moved into a list of their exact size (`buffer` keeps its
/// room for the next use).
fn exactly<T>(buffer: &mut Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(buffer.len());
    out.append(buffer);
    out
}

impl<'o> Part<'o> {
    /// Records an account not synced this run.
    fn skip(&mut self, salesforce_id: &str, reason: SkipReason) {
        self.skipped.push(Skipped::new(salesforce_id, reason));
    }

    /// `next` (the part after this one) appended.
    fn append(&mut self, mut next: Part<'o>) {
        self.matched += next.matched;
        self.covered += next.covered;
        self.creates.append(&mut next.creates);
        self.updates.append(&mut next.updates);
        self.deletes.append(&mut next.deletes);
        self.unchanged.append(&mut next.unchanged);
        self.skipped.append(&mut next.skipped);
        self.findings.append(&mut next.findings);
        self.org_ids.append(&mut next.org_ids);
        self.sold_to.append(&mut next.sold_to);
        self.rounded.append(next.rounded);
    }
}

impl<'a, 'o> Diff<'a, 'o> {
    fn new(ids: &'a [SalesforceId], orgs: &'o [ZendeskOrg], mapping: &'a Mapping) -> Self {
        Diff {
            ids,
            orgs,
            index: OrgIndex::new(orgs, mapping),
            managed: Managed::new(mapping),
            mapping,
        }
    }

    /// Diffs evaluations given one at a time in `salesforce_id` order: one part, its
    /// lists reserved for `room` accounts (upper bounds: a vector that grows by copying
    /// costs more than address space, most of which is never touched).
    fn part(&self, evaluations: impl Iterator<Item = Evaluation>, room: usize) -> Part<'o> {
        let mut part = Part {
            creates: Vec::with_capacity(room),
            updates: Vec::with_capacity(room),
            unchanged: Vec::with_capacity(room),
            ..Part::default()
        };
        let mut last_matched: Option<&ZendeskOrg> = None;
        for mut eval in evaluations {
            part.rounded.add(&eval);
            eval.rounded = Vec::new();
            let matches = self.index.matches(&eval.salesforce_id);
            // Equal ids are adjacent in this order (and in one part) and match the
            // same orgs.
            if let Some(&first) = matches.first() {
                if !last_matched.is_some_and(|last| std::ptr::eq(last, first)) {
                    part.covered += matches.len();
                    last_matched = Some(first);
                }
            }
            match propose(&mut part, eval, matches, self.mapping, &self.managed) {
                Proposal::Create(create) => part.creates.push(create),
                Proposal::Update(update, org) => part.updates.push((update, org)),
                Proposal::Settled => {}
            }
        }
        part
    }

    /// The plan of all the parts (appended in order): names checked, the orgs outside
    /// the result counted. `also_in_salesforce` as in [`diff_orgs`].
    fn finish(&self, part: Part<'o>, also_in_salesforce: &BTreeSet<String>) -> Plan {
        let index = &self.index;
        let ids = self.ids;
        // docs/behaviour.md §5 untouched: the orgs with a `salesforce_id` not among the
        // accounts returned are `not_in_salesforce`. Counted as those covered by an
        // account (once per distinct id) or by an invalid returned account, taken
        // from all.
        let covered = part.covered
            + index.covered_by(also_in_salesforce, |id| {
                ids.binary_search_by(|at| at.as_str().cmp(id)).is_ok()
            });
        let mut plan = Plan {
            salesforce_records: ids.len(),
            zendesk_organizations: self.orgs.len(),
            without_salesforce_id: index.without_salesforce_id,
            not_in_salesforce: index.with_salesforce_id.saturating_sub(covered),
            matched: part.matched,
            deletes: part.deletes,
            unchanged: part.unchanged,
            skipped: part.skipped,
            findings: part.findings,
            // Sorted already: built in one pass (a later entry of an id wins, as an
            // insert would).
            org_ids: part.org_ids.into_iter().collect(),
            sold_to: part.sold_to.into_iter().collect(),
            ..Plan::default()
        };
        let names = Names::new(self.orgs, &part.creates, &part.updates);
        admit_with_names(&mut plan, part.creates, part.updates, &names);
        plan.findings.extend(part.rounded.findings());
        plan.unchanged.sort();
        plan.skipped
            .sort_by(|a, b| a.salesforce_id.cmp(&b.salesforce_id));
        plan
    }
}

/// docs/behaviour.md §5 update: the minimal patch turning `org` into `desired` (managed fields and
/// tags only): the name if it differs, each managed field whose value differs
/// semantically ([`same_value`]), and [`full_tag_list`] when the managed tags differ.
pub fn patch_for(evaluation: &Evaluation, org: &ZendeskOrg, mapping: &Mapping) -> OrgPatch {
    update_against(
        evaluation.desired.clone(),
        org,
        &Managed::new(mapping),
        &mut Scratch::default(),
    )
    .map(|(patch, _)| patch)
    .unwrap_or_default()
}

/// What a mapping manages, computed once per diff rather than once per org.
struct Managed {
    /// The managed tags (drop-down option values and checkbox tags).
    tags: HashSet<String>,
    /// The managed org field keys.
    keys: HashSet<String>,
    /// The same keys as the mapping shares them with its desired orgs: a desired org
    /// holding these has only managed keys.
    org_keys: Arc<[String]>,
}

impl Managed {
    fn new(mapping: &Mapping) -> Self {
        Managed {
            tags: mapping.managed_tags().into_iter().collect(),
            keys: mapping.managed_keys().into_iter().collect(),
            org_keys: Arc::clone(mapping.org_keys()),
        }
    }
}

/// [`patch_for`] against the org's managed view (see [`crate::zendesk::managed_view`]),
/// read in place instead of copied, with what the org holds now where the patch changes
/// it (the report's before values; a field the mapping does not manage reads as unset),
/// taken in the same pass. What changes is moved out of `desired`; `None` when nothing
/// changes.
fn update_against(
    desired: DesiredOrg,
    org: &ZendeskOrg,
    managed: &Managed,
    scratch: &mut Scratch,
) -> Option<(OrgPatch, OrgBefore)> {
    let mut patch = OrgPatch::default();
    if desired.name != org.name.trim() {
        patch.name = Some(desired.name);
    }
    let (keys, values) = desired.fields.into_parts();
    let all_managed = Arc::ptr_eq(&keys, &managed.org_keys);
    let Scratch { changed, was } = scratch;
    changed.clear();
    was.clear();
    for (slot, (key, value)) in keys.iter().zip(values).enumerate() {
        let actual = if all_managed || managed.keys.contains(key) {
            org.organization_fields.get(key)
        } else {
            None
        };
        if !same_value(value.as_ref(), actual) {
            was.push((slot, actual.cloned()));
            changed.push((slot, value));
        }
    }
    // Nothing is allocated when nothing changed.
    let was = FieldMap::from_indexed(Arc::clone(&keys), exactly(was));
    patch.organization_fields = FieldMap::from_indexed(keys, exactly(changed));
    let mut actual_managed: SmallVec<[&str; 8]> = org
        .tags
        .iter()
        .filter(|t| managed.tags.contains(*t))
        .map(String::as_str)
        .collect();
    actual_managed.sort_unstable();
    actual_managed.dedup();
    if !actual_managed
        .iter()
        .copied()
        .eq(desired.managed_tags.iter())
    {
        let unmanaged: BTreeSet<String> = org
            .tags
            .iter()
            .filter(|t| !managed.tags.contains(*t))
            .cloned()
            .collect();
        patch.tags = Some(full_tag_list(&unmanaged, desired.managed_tags.iter()));
    }
    if patch.is_empty() {
        return None;
    }
    let before = OrgBefore {
        name: org.name.clone(),
        organization_fields: was,
        tags: patch.tags.as_ref().map(|_| {
            let mut tags = org.tags.clone();
            tags.sort();
            tags
        }),
    };
    Some((patch, before))
}

/// docs/behaviour.md §5, the full tag list on update: a Zendesk tag write replaces all tags, so
/// when the managed tags change the update sends the org's unmanaged tags ∪ the
/// desired managed tags, sorted and without duplicates.
pub fn full_tag_list<T: AsRef<str>>(
    unmanaged: &BTreeSet<String>,
    desired_managed: impl IntoIterator<Item = T>,
) -> Vec<String> {
    let desired = desired_managed.into_iter().map(|t| t.as_ref().to_string());
    let mut tags: Vec<String> = unmanaged.iter().cloned().chain(desired).collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// docs/behaviour.md §5 create: the org of an account with no matching org. Unset fields (and an
/// unchecked checkbox) are left out; its tags are the desired managed tags.
pub fn org_create(evaluation: &Evaluation) -> OrgCreate {
    org_create_from(evaluation.clone())
}

/// Whether a create sends this set value (an unchecked checkbox is left out).
fn is_sent_on_create(value: &FieldValue) -> bool {
    !matches!(value, FieldValue::Bool(false))
}

/// [`org_create`], moving the desired org out of the evaluation (as the diff does).
fn org_create_from(evaluation: Evaluation) -> OrgCreate {
    let desired = evaluation.desired;
    OrgCreate {
        salesforce_id: evaluation.salesforce_id,
        name: desired.name,
        organization_fields: {
            let (keys, values) = desired.fields.into_parts();
            // Exactly sized: the plan holds every create to the end of the run.
            let mut sent = Vec::with_capacity(
                values
                    .iter()
                    .filter(|v| v.as_ref().is_some_and(is_sent_on_create))
                    .count(),
            );
            sent.extend(
                values
                    .into_iter()
                    .enumerate()
                    .filter_map(|(slot, v)| v.filter(is_sent_on_create).map(|v| (slot, v))),
            );
            FieldMap::from_indexed(keys, sent)
        },
        tags: desired.managed_tags.iter().map(str::to_string).collect(),
    }
}

/// docs/behaviour.md §5 delete (Global only): the matching org of a greatly-expired account is
/// deleted, unless the mapping's instance keeps them or the org has the protect tag
/// (`do_not_delete`; then it is updated like any other org).
pub fn org_delete(
    evaluation: &Evaluation,
    org: &ZendeskOrg,
    mapping: &Mapping,
) -> Option<OrgDelete> {
    let deletes = evaluation.greatly_expired
        && mapping.deletes_greatly_expired()
        && !org.has_tag(mapping.protect_tag());
    deletes.then(|| OrgDelete {
        salesforce_id: evaluation.salesforce_id,
        id: org.id,
        name: org.name.clone(),
    })
}

/// The key a name is compared by (docs/behaviour.md §5: case-insensitive, trimmed).
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// [`name_key`] written into `buf` (no allocation for ASCII names once `buf` is grown).
fn name_key_into(name: &str, buf: &mut String) {
    buf.clear();
    let name = name.trim();
    if name.is_ascii() {
        buf.push_str(name);
        buf.make_ascii_lowercase();
    } else {
        buf.push_str(&name.to_lowercase());
    }
}

/// The org's `salesforce_id` field, trimmed, borrowed (as [`ZendeskOrg::salesforce_id`]).
fn salesforce_id_of<'o>(org: &'o ZendeskOrg, key: &str) -> Option<&'o str> {
    match org.organization_fields.get(key) {
        Some(FieldValue::Text(s)) if !s.trim().is_empty() => Some(s.trim()),
        _ => None,
    }
}

/// The Zendesk orgs, indexed for the diff (docs/behaviour.md §5 match key: the org field
/// `salesforce_id`).
struct OrgIndex<'o> {
    /// `salesforce_id` → the first org carrying it.
    first: HashMap<&'o str, &'o ZendeskOrg>,
    /// `salesforce_id` → every org carrying it, for ids on more than one org (a conflict).
    shared: HashMap<&'o str, Vec<&'o ZendeskOrg>>,
    /// Orgs without a `salesforce_id` (untouched).
    without_salesforce_id: usize,
    /// Orgs with one.
    with_salesforce_id: usize,
}

impl<'o> OrgIndex<'o> {
    fn new(orgs: &'o [ZendeskOrg], mapping: &Mapping) -> Self {
        let key = mapping.fields().salesforce_id.as_str();
        let mut index = OrgIndex {
            first: HashMap::with_capacity_and_hasher(orgs.len(), Default::default()),
            shared: HashMap::default(),
            without_salesforce_id: 0,
            with_salesforce_id: 0,
        };
        for org in orgs {
            let Some(id) = salesforce_id_of(org, key) else {
                index.without_salesforce_id += 1;
                continue;
            };
            index.with_salesforce_id += 1;
            match index.first.entry(id) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(org);
                }
                std::collections::hash_map::Entry::Occupied(e) => {
                    let first = *e.get();
                    index
                        .shared
                        .entry(id)
                        .or_insert_with(|| vec![first])
                        .push(org);
                }
            }
        }
        index
    }

    /// The orgs whose `salesforce_id` is this account's.
    fn matches(&self, salesforce_id: &str) -> &[&'o ZendeskOrg] {
        if let Some(all) = self.shared.get(salesforce_id) {
            return all;
        }
        self.first
            .get(salesforce_id)
            .map(std::slice::from_ref)
            .unwrap_or_default()
    }

    /// How many orgs carry the id of an invalid returned account (`also_in_salesforce`)
    /// that no evaluated account has (`evaluated`).
    fn covered_by(
        &self,
        also_in_salesforce: &BTreeSet<String>,
        evaluated: impl Fn(&str) -> bool,
    ) -> usize {
        also_in_salesforce
            .iter()
            .filter(|id| !evaluated(id))
            .map(|id| self.matches(id).len())
            .sum()
    }
}

/// What the diff proposes for one account before names are checked.
enum Proposal<'o> {
    /// An org to create.
    Create(OrgCreate),
    /// An update of this org.
    Update(OrgUpdate, &'o ZendeskOrg),
    /// Decided already (deleted, unchanged or skipped).
    Settled,
}

/// docs/behaviour.md §5 `duplicate_zendesk_org`: two Zendesk orgs with one `salesforce_id`; none
/// is changed.
fn duplicate_org_finding(salesforce_id: &str, matches: &[&ZendeskOrg]) -> Finding {
    let ids: Vec<String> = matches.iter().map(|o| o.id.to_string()).collect();
    Finding::account(
        FindingKind::DuplicateZendeskOrg,
        Some(salesforce_id),
        format!(
            "Zendesk orgs {} share this salesforce_id; none is changed",
            ids.join(", ")
        ),
    )
}

/// docs/behaviour.md §5 for one account and the orgs matching it: records its findings and
/// sold-to contacts, then, first match wins: a duplicate org is left alone; an
/// untrusted plan (`unknown_tier`) changes nothing; a matching org is deleted
/// ([`org_delete`]), unchanged, or updated ([`patch_for`]); with no org, a greatly
/// expired account is skipped and any other is created ([`org_create`]).
fn propose<'o>(
    part: &mut Part<'o>,
    mut eval: Evaluation,
    matches: &[&'o ZendeskOrg],
    mapping: &Mapping,
    managed: &Managed,
) -> Proposal<'o> {
    let findings = std::mem::take(&mut eval.findings);
    let eval = eval;
    let sfid = eval.salesforce_id;
    let id = sfid.as_str();
    part.findings.extend(findings);
    let sold_to = sold_to_contacts(&eval.billing_accounts);
    if !sold_to.is_empty() {
        part.sold_to.push((sfid, sold_to));
    }
    if matches.len() > 1 {
        part.findings.push(duplicate_org_finding(id, matches));
        part.skip(id, SkipReason::DuplicateZendeskOrg);
        return Proposal::Settled;
    }
    if let Some(org) = matches.first() {
        part.matched += 1;
        part.org_ids.push((sfid, org.id));
    }
    if !eval.trusted {
        part.skip(id, SkipReason::UnknownTier);
        return Proposal::Settled;
    }
    let Some(org) = matches.first().copied() else {
        if eval.greatly_expired {
            part.skip(id, SkipReason::GreatlyExpiredWithoutOrg);
            return Proposal::Settled;
        }
        return Proposal::Create(org_create_from(eval));
    };
    if let Some(delete) = org_delete(&eval, org, mapping) {
        part.deletes.push(delete);
        return Proposal::Settled;
    }
    let Some((patch, before)) = update_against(eval.desired, org, managed, &mut part.scratch)
    else {
        part.unchanged.push(sfid);
        return Proposal::Settled;
    };
    let update = OrgUpdate {
        salesforce_id: eval.salesforce_id,
        id: org.id,
        before,
        patch,
    };
    Proposal::Update(update, org)
}

/// Who holds or wants each name this run (docs/behaviour.md §5 `name_conflict`), by name key.
struct Names {
    /// The ids (ascending) of the Zendesk orgs holding each name a create or rename wants.
    held: HashMap<String, Vec<ZendeskOrgId>>,
    /// How many creates and renames of this run want each name.
    claimed: HashMap<String, usize>,
}

impl Names {
    /// The names this run's creates and renames claim, and the Zendesk orgs holding them.
    fn new(
        orgs: &[ZendeskOrg],
        creates: &[OrgCreate],
        updates: &[(OrgUpdate, &ZendeskOrg)],
    ) -> Self {
        let mut claimed: HashMap<String, usize> = HashMap::default();
        let renames = updates.iter().filter_map(|(u, _)| u.patch.name.as_ref());
        for name in creates.iter().map(|c| &c.name).chain(renames) {
            *claimed.entry(name_key(name)).or_default() += 1;
        }
        let mut held: HashMap<String, Vec<ZendeskOrgId>> = HashMap::default();
        if !claimed.is_empty() {
            let mut key = String::new();
            for org in orgs {
                name_key_into(&org.name, &mut key);
                if claimed.contains_key(&key) {
                    held.entry(key.clone()).or_default().push(org.id);
                }
            }
        }
        for ids in held.values_mut() {
            ids.sort_unstable();
            ids.dedup();
        }
        Names { held, claimed }
    }

    /// Whether `name` is contested for a create or a rename of `except`: `None` when
    /// no other org holds it and no other create or rename of this run wants it; else
    /// the other org holding it, if any. `key` is a buffer for the name's key (one
    /// per check, not one per lookup).
    fn contest(
        &self,
        name: &str,
        except: Option<ZendeskOrgId>,
        key: &mut String,
    ) -> Option<Option<ZendeskOrgId>> {
        name_key_into(name, key);
        let holder = self
            .held
            .get(key.as_str())
            .and_then(|ids| ids.iter().copied().find(|i| Some(*i) != except));
        let wanted_twice = self.claimed.get(key.as_str()).copied().unwrap_or(0) > 1;
        (holder.is_some() || wanted_twice).then_some(holder)
    }
}

/// docs/behaviour.md §5 `name_conflict` on create: an account to create whose name
/// (case-insensitive) is another org's or another new account's is not created.
fn create_name_conflict(create: &OrgCreate, names: &Names, key: &mut String) -> Option<Finding> {
    let holder = names.contest(&create.name, None, key)?;
    let why = match holder {
        Some(id) => format!("held by Zendesk org {id}"),
        None => "wanted by another new account".to_string(),
    };
    Some(Finding::account(
        FindingKind::NameConflict,
        Some(&create.salesforce_id),
        format!("cannot create org {:?}: the name is {why}", create.name),
    ))
}

/// docs/behaviour.md §5 `name_conflict` on update: a rename onto a name another org holds (or
/// another create or rename of this run wants) is not sent; the rest of the update is.
fn rename_conflict(
    update: &OrgUpdate,
    org: &ZendeskOrg,
    names: &Names,
    key: &mut String,
) -> Option<Finding> {
    let name = update.patch.name.as_deref()?;
    let holder = names.contest(name, Some(org.id), key)?;
    let why = match holder {
        Some(id) => format!("Zendesk org {id} holds that name"),
        None => "another account's org is created or renamed to it this run".to_string(),
    };
    Some(Finding::account(
        FindingKind::NameConflict,
        Some(&update.salesforce_id),
        format!(
            "org {} is not renamed from {:?} to {:?}: {why}",
            org.id, org.name, name
        ),
    ))
}

/// Adds the creates and updates that survive the name checks to the plan: a create
/// with a name conflict is skipped (`name_conflict`); an update loses only its rename
/// (and is unchanged if nothing else is left).
fn admit_with_names(
    plan: &mut Plan,
    creates: Vec<OrgCreate>,
    updates: Vec<(OrgUpdate, &ZendeskOrg)>,
    names: &Names,
) {
    plan.creates.reserve(creates.len());
    plan.updates.reserve(updates.len());
    let mut key = String::new();
    for create in creates {
        match create_name_conflict(&create, names, &mut key) {
            Some(finding) => {
                plan.findings.push(finding);
                plan.skipped.push(Skipped::new(
                    &create.salesforce_id,
                    SkipReason::NameConflict,
                ));
            }
            None => plan.creates.push(create),
        }
    }
    for (mut update, org) in updates {
        if let Some(finding) = rename_conflict(&update, org, names, &mut key) {
            plan.findings.push(finding);
            update.patch.name = None;
        }
        if update.patch.is_empty() {
            plan.unchanged.push(update.salesforce_id);
        } else {
            plan.updates.push(update);
        }
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    /// The digest as first specified: every line made, sorted as text, joined.
    fn reference_hash(plan: &Plan) -> String {
        let mut lines: Vec<String> = Vec::new();
        for c in &plan.creates {
            lines.push(canonical_line(
                "create_org",
                &c.salesforce_id,
                c.zendesk_body(),
            ));
        }
        for u in &plan.updates {
            lines.push(canonical_line(
                "update_org",
                &u.salesforce_id,
                u.zendesk_body(),
            ));
        }
        for d in &plan.deletes {
            let body = serde_json::json!({ "id": d.id });
            lines.push(canonical_line("delete_org", &d.salesforce_id, body));
        }
        lines.sort();
        crate::mapping::sha256_hex_of_lines(&lines)
    }

    fn sfid(n: u32) -> SalesforceId {
        SalesforceId::parse(&format!("0014M{n:013}")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A plan in no particular order, with accounts that repeat within and across actions.
    fn plan(seed: u32) -> Plan {
        let n = |i: u32| (i * 7 + seed) % 11;
        let create = |i: u32| OrgCreate {
            salesforce_id: sfid(n(i) % 5),
            name: format!("Org {i} ü \"q\""),
            organization_fields: [("tier", FieldValue::Text(format!("t{}", i % 3)))]
                .into_iter()
                .collect(),
            tags: vec![format!("tag_{}", i % 4)],
        };
        let update = |i: u32| OrgUpdate {
            salesforce_id: sfid(n(i) % 6),
            id: ZendeskOrgId(u64::from(1000 - i)),
            patch: OrgPatch {
                name: (i % 2 == 0).then(|| format!("New {i}")),
                ..OrgPatch::default()
            },
            before: OrgBefore::default(),
        };
        let delete = |i: u32| OrgDelete {
            salesforce_id: sfid(n(i)),
            id: ZendeskOrgId(u64::from(i)),
            name: format!("Gone {i}"),
        };
        Plan {
            creates: (0..9).map(create).collect(),
            updates: (0..8).map(update).collect(),
            deletes: (0..6).map(delete).collect(),
            ..Plan::default()
        }
    }

    #[test]
    fn the_hash_is_the_digest_of_every_line_sorted() {
        for seed in 0..12 {
            let mut p = plan(seed);
            assert_eq!(p.hash(), reference_hash(&p), "seed {seed}");
            p.creates.reverse();
            p.updates.rotate_left(3);
            assert_eq!(p.hash(), reference_hash(&p), "seed {seed}, reordered");
        }
        assert_eq!(Plan::default().hash(), reference_hash(&Plan::default()));
    }
}

#[cfg(test)]
mod scratch_tests {
    use super::exactly;

    #[test]
    fn a_buffer_is_copied_out_at_its_exact_size_and_keeps_its_room() {
        let mut buffer: Vec<u32> = Vec::with_capacity(16);
        buffer.extend([3, 1, 2]);
        let out = exactly(&mut buffer);
        assert_eq!(out, [3, 1, 2]);
        assert_eq!(out.capacity(), 3);
        assert!(buffer.is_empty());
        assert!(buffer.capacity() >= 16);
        assert_eq!(exactly(&mut buffer).capacity(), 0);
    }
}
