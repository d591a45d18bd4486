//! Mapping files: per instance, which Zendesk org fields the sync manages and the
//! value tables (plans with rank and aliases, regions, drop-down options, checkbox
//! tags, case settings). Embedded as defaults, loadable from a path, validated in
//! full (every problem listed), and checked against Zendesk's `organization_fields`.
//!
//! Validation ([`Mapping::from_file`]) is a list of checks, one table each:
//! `check_field_keys`, `check_field_tables` (drop-downs have options, checkboxes a
//! tag), `check_dropdown_options` and `check_checkbox_tags` (docs/behaviour.md §4 managed tags:
//! valid, and no tag managed by two fields), `check_plans` and `check_plan_aliases`
//! (docs/behaviour.md §3.2–§3.3), `check_regions`, `check_deletion` (docs/behaviour.md §5: the protect tag is
//! not a managed tag), `check_cases` (docs/behaviour.md §7).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::zendesk::ZendeskOrgField;

/// The embedded Global mapping.
pub const GLOBAL_TOML: &str = include_str!("../mappings/global.toml");
/// The embedded US Federal mapping.
pub const US_FEDERAL_TOML: &str = include_str!("../mappings/us-federal.toml");

/// The largest mapping file [`Mapping::load`] accepts: 1 MiB (the embedded ones are
/// under 10 KB).
pub const MAX_MAPPING_BYTES: u64 = 1024 * 1024;

/// Which Zendesk instance a mapping is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Instance {
    /// Zendesk Global.
    #[serde(rename = "global")]
    Global,
    /// Zendesk US Federal.
    #[serde(rename = "us-federal")]
    UsFederal,
}

/// Role → Zendesk org field key. A role left out is not synced.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldKeys {
    /// `Account_ID_18__c`, the match key (required).
    pub salesforce_id: String,
    /// The first 15 characters of the id.
    pub sfdc_short_id: Option<String>,
    /// The plan drop-down (required).
    pub support_level: String,
    /// `CARR_This_Account__c` (0 when expired).
    pub arr: Option<String>,
    /// The sales segment as lowercase text (`unknown` when blank).
    pub sales_segmentation: Option<String>,
    /// The sales segment as a drop-down.
    pub market_segment: Option<String>,
    /// `Account_Owner_Calc__c`.
    pub account_owner: Option<String>,
    /// The account-type drop-down.
    pub account_type: Option<String>,
    /// `Technical_Account_Manager_Name__c`.
    pub technical_account_manager: Option<String>,
    /// `Number_of_Licenses_This_Account__c`.
    pub seats: Option<String>,
    /// The region drop-down.
    pub region: Option<String>,
    /// The health-score drop-down.
    pub health_score: Option<String>,
    /// The expiration date, text `YYYY-MM-DD`.
    pub expiration_date: Option<String>,
    /// The restricted-account checkbox.
    pub restricted_account: Option<String>,
    /// `Solutions_Architect_Lookup__r.Name`.
    pub solutions_architect: Option<String>,
}

/// What kind of Zendesk field a role writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A decimal number.
    Number,
    /// A drop-down: its value is an option value, which is also a tag.
    Dropdown,
    /// A checkbox with one tag.
    Checkbox,
}

impl FieldKeys {
    /// Every mapped role: (role name, field key, kind), in a fixed order.
    pub fn roles(&self) -> Vec<(&'static str, &str, FieldKind)> {
        let optional = [
            ("sfdc_short_id", &self.sfdc_short_id, FieldKind::Text),
            ("arr", &self.arr, FieldKind::Number),
            (
                "sales_segmentation",
                &self.sales_segmentation,
                FieldKind::Text,
            ),
            ("market_segment", &self.market_segment, FieldKind::Dropdown),
            ("account_owner", &self.account_owner, FieldKind::Text),
            ("account_type", &self.account_type, FieldKind::Dropdown),
            (
                "technical_account_manager",
                &self.technical_account_manager,
                FieldKind::Text,
            ),
            ("seats", &self.seats, FieldKind::Number),
            ("region", &self.region, FieldKind::Dropdown),
            ("health_score", &self.health_score, FieldKind::Dropdown),
            ("expiration_date", &self.expiration_date, FieldKind::Text),
            (
                "restricted_account",
                &self.restricted_account,
                FieldKind::Checkbox,
            ),
            (
                "solutions_architect",
                &self.solutions_architect,
                FieldKind::Text,
            ),
        ];
        let mut out = vec![
            (
                "salesforce_id",
                self.salesforce_id.as_str(),
                FieldKind::Text,
            ),
            (
                "support_level",
                self.support_level.as_str(),
                FieldKind::Dropdown,
            ),
        ];
        out.extend(
            optional
                .into_iter()
                .filter_map(|(role, key, kind)| key.as_deref().map(|k| (role, k, kind))),
        );
        out
    }
}

/// The plan table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plans {
    /// Plan names, highest first.
    pub rank: Vec<String>,
    /// The plan of an account with no current subscription.
    pub expired: String,
    /// Plan name → raw tiers that mean it (case-insensitive).
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
}

/// Deletion settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    /// Whether greatly-expired orgs are deleted (Global only).
    pub delete_greatly_expired: bool,
    /// An org carrying this tag is never deleted.
    pub protect_tag: String,
}

/// Settings of the `salesforce-cases` job for this instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSettings {
    /// Prepended to the ticket id to make the Case key (`""` Global, `usfed-` US Federal).
    pub case_key_prefix: String,
    /// Ticket statuses that close the Case; default `["closed"]` (docs/behaviour.md §7).
    #[serde(default = "default_closed_statuses")]
    pub closed_statuses: Vec<String>,
    /// The Case `Origin`; default `Web` (docs/behaviour.md §7).
    #[serde(default = "default_origin")]
    pub origin: String,
    /// The Case external-id field holding the key.
    pub external_id_field: String,
    /// The Case field holding the agent URL of the ticket.
    pub ticket_url_field: String,
}

fn default_closed_statuses() -> Vec<String> {
    vec!["closed".to_string()]
}

fn default_origin() -> String {
    "Web".to_string()
}

/// A mapping file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// Which instance.
    pub instance: Instance,
    /// Role → field key.
    pub fields: FieldKeys,
    /// Plans.
    pub plans: Plans,
    /// Raw geo (any case) → region value.
    #[serde(default)]
    pub regions: BTreeMap<String, String>,
    /// Field key → (computed value → option value).
    #[serde(default)]
    pub dropdowns: BTreeMap<String, BTreeMap<String, String>>,
    /// Field key → tag.
    #[serde(default)]
    pub checkboxes: BTreeMap<String, String>,
    /// Deletion settings.
    pub deletion: Deletion,
    /// Case settings.
    pub cases: CaseSettings,
}

/// Which case [`with_case_folded`] folds to.
#[derive(Clone, Copy)]
pub(crate) enum Case {
    Lower,
    Upper,
}

/// Calls `f` with `raw` in lower or upper case (`str::to_lowercase` / `to_uppercase`);
/// a short ASCII text (every tier, geo and colour the data has) is folded on the stack
/// instead of into a new string.
pub(crate) fn with_case_folded<R>(raw: &str, case: Case, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 64];
    if raw.is_ascii() {
        if let Some(folded) = buf.get_mut(..raw.len()) {
            folded.copy_from_slice(raw.as_bytes());
            match case {
                Case::Lower => folded.make_ascii_lowercase(),
                Case::Upper => folded.make_ascii_uppercase(),
            }
            if let Ok(text) = std::str::from_utf8(folded) {
                return f(text);
            }
        }
    }
    let owned = match case {
        Case::Lower => raw.to_lowercase(),
        Case::Upper => raw.to_uppercase(),
    };
    f(&owned)
}

/// A validated mapping, with its lookup indexes.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The file as written (read through [`Mapping::file`]: the indexes below are
    /// built from it once).
    file: MappingFile,
    /// Lowercased raw tier → plan name (looked up once per subscription).
    tiers: rustc_hash::FxHashMap<String, String>,
    /// Uppercased raw geo → region value (once per account).
    regions: rustc_hash::FxHashMap<String, String>,
    /// The file's drop-downs (field key → computed value → option value), hashed.
    options: rustc_hash::FxHashMap<String, rustc_hash::FxHashMap<String, String>>,
    /// The drop-down of each role's key by its slot (its place in `org_keys`): computed
    /// value → option value and the option's place in `tag_names`. Looked up three
    /// times per account: one hash lookup each rather than two.
    options_by_slot: Vec<Option<rustc_hash::FxHashMap<String, (String, usize)>>>,
    /// Every managed tag ([`Mapping::managed_tags`]), sorted and unique: the list every
    /// desired org's [`crate::model::ManagedTags`] points into.
    tag_names: Arc<[String]>,
    /// sha256 (hex) of the text it was parsed from; `None` when built from a
    /// [`MappingFile`] value.
    source_sha256: Option<String>,
    /// Managed number fields Zendesk declares `integer` ([`Mapping::set_zendesk_types`]).
    integer_fields: BTreeSet<String>,
    /// The managed org field keys, sorted and unique: the keys of every desired org.
    org_keys: Arc<[String]>,
    /// Where each role's key is in `org_keys`.
    slots: FieldSlots,
}

/// The index in [`Mapping::org_keys`] of each role's key (`None`: the role is not
/// mapped), found once per mapping rather than once per account.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldSlots {
    pub(crate) salesforce_id: Option<usize>,
    pub(crate) sfdc_short_id: Option<usize>,
    pub(crate) support_level: Option<usize>,
    pub(crate) arr: Option<usize>,
    pub(crate) sales_segmentation: Option<usize>,
    pub(crate) market_segment: Option<usize>,
    pub(crate) account_owner: Option<usize>,
    pub(crate) account_type: Option<usize>,
    pub(crate) technical_account_manager: Option<usize>,
    pub(crate) seats: Option<usize>,
    pub(crate) region: Option<usize>,
    pub(crate) health_score: Option<usize>,
    pub(crate) expiration_date: Option<usize>,
    pub(crate) restricted_account: Option<usize>,
    pub(crate) solutions_architect: Option<usize>,
}

impl FieldSlots {
    fn new(keys: &FieldKeys, sorted: &[String]) -> FieldSlots {
        let at = |key: &str| sorted.binary_search_by(|k| k.as_str().cmp(key)).ok();
        let opt = |key: &Option<String>| key.as_deref().and_then(at);
        FieldSlots {
            salesforce_id: at(&keys.salesforce_id),
            sfdc_short_id: opt(&keys.sfdc_short_id),
            support_level: at(&keys.support_level),
            arr: opt(&keys.arr),
            sales_segmentation: opt(&keys.sales_segmentation),
            market_segment: opt(&keys.market_segment),
            account_owner: opt(&keys.account_owner),
            account_type: opt(&keys.account_type),
            technical_account_manager: opt(&keys.technical_account_manager),
            seats: opt(&keys.seats),
            region: opt(&keys.region),
            health_score: opt(&keys.health_score),
            expiration_date: opt(&keys.expiration_date),
            restricted_account: opt(&keys.restricted_account),
            solutions_architect: opt(&keys.solutions_architect),
        }
    }
}

impl Mapping {
    /// The embedded default mapping of an instance.
    pub fn embedded(instance: Instance) -> Result<Mapping, Error> {
        match instance {
            Instance::Global => Mapping::parse(GLOBAL_TOML, "embedded global.toml"),
            Instance::UsFederal => Mapping::parse(US_FEDERAL_TOML, "embedded us-federal.toml"),
        }
    }

    /// Reads and validates a mapping file (`--mapping FILE`). A file larger than
    /// [`MAX_MAPPING_BYTES`] is refused without being read whole (a real mapping is a few
    /// KB; a huge one is a wrong path or a generated file gone astray), and so is one that
    /// is not UTF-8.
    pub fn load(path: &std::path::Path) -> Result<Mapping, Error> {
        use std::io::Read as _;
        let shown = path.display().to_string();
        let read_error = |source| Error::MappingRead {
            path: shown.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        // One byte past the cap tells a file at the cap from a larger one; `take` also
        // bounds what is read from a device or a pipe whose length is unknown.
        file.take(MAX_MAPPING_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_MAPPING_BYTES {
            return Err(Error::MappingTooLarge {
                path: shown,
                limit: MAX_MAPPING_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|e| Error::MappingParse {
            origin: shown.clone(),
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Mapping::parse(&text, &shown)
    }

    /// Parses and validates mapping TOML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Mapping, Error> {
        let file: MappingFile = toml::from_str(text).map_err(|e| Error::MappingParse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut mapping = Mapping::from_file(file, origin)?;
        mapping.source_sha256 = Some(sha256_hex(text.as_bytes()));
        Ok(mapping)
    }

    /// The sha256 (hex) of the mapping text in use, embedded or `--mapping` (the
    /// report's identity); `None` for a mapping built from a [`MappingFile`] value.
    pub fn source_sha256(&self) -> Option<&str> {
        self.source_sha256.as_deref()
    }

    /// docs/behaviour.md §8 number fields: records which managed number fields Zendesk declares
    /// `integer` in `organization_fields` (their values are then rounded to whole
    /// numbers before the diff); the others are written as decimals.
    pub fn set_zendesk_types(&mut self, defs: &[ZendeskOrgField]) {
        let numbers: BTreeSet<&str> = self
            .file
            .fields
            .roles()
            .into_iter()
            .filter(|(_, _, kind)| *kind == FieldKind::Number)
            .map(|(_, key, _)| key)
            .collect();
        self.integer_fields = defs
            .iter()
            .filter(|d| d.field_type == "integer" && numbers.contains(d.key.as_str()))
            .map(|d| d.key.clone())
            .collect();
    }

    /// Whether Zendesk declares this managed number field `integer`.
    pub fn is_integer_field(&self, key: &str) -> bool {
        self.integer_fields.contains(key)
    }

    /// Validates a parsed mapping, listing every problem with its key.
    pub fn from_file(file: MappingFile, origin: &str) -> Result<Mapping, Error> {
        let problems = validate(&file);
        if !problems.is_empty() {
            return Err(Error::MappingInvalid {
                origin: origin.to_string(),
                problems,
            });
        }
        let mut tiers = rustc_hash::FxHashMap::default();
        for plan in file
            .plans
            .rank
            .iter()
            .chain(std::iter::once(&file.plans.expired))
        {
            tiers.insert(plan.to_lowercase(), plan.clone());
        }
        for (plan, aliases) in &file.plans.aliases {
            for alias in aliases {
                tiers.insert(alias.trim().to_lowercase(), plan.clone());
            }
        }
        let regions = file
            .regions
            .iter()
            .map(|(raw, region)| (raw.trim().to_uppercase(), region.clone()))
            .collect();
        let mut org_keys: Vec<String> = file
            .fields
            .roles()
            .into_iter()
            .map(|(_, key, _)| key.to_string())
            .collect();
        org_keys.sort();
        org_keys.dedup();
        let slots = FieldSlots::new(&file.fields, &org_keys);
        let options = file
            .dropdowns
            .iter()
            .map(|(key, options)| (key.clone(), options.clone().into_iter().collect()))
            .collect();
        let tag_names: Arc<[String]> = managed_tags_of(&file).into_iter().collect();
        // Every option value is a managed tag, so each has its place.
        let place = |tag: &str| place_of(&tag_names, tag);
        let options_by_slot = org_keys
            .iter()
            .map(|key| {
                file.dropdowns.get(key).map(|options| {
                    options
                        .iter()
                        .filter_map(|(computed, option)| {
                            Some((computed.clone(), (option.clone(), place(option)?)))
                        })
                        .collect()
                })
            })
            .collect();
        Ok(Mapping {
            file,
            tiers,
            regions,
            options,
            source_sha256: None,
            integer_fields: BTreeSet::new(),
            org_keys: org_keys.into(),
            slots,
            options_by_slot,
            tag_names,
        })
    }

    /// The file as written.
    pub fn file(&self) -> &MappingFile {
        &self.file
    }

    /// Which instance this mapping is for.
    pub fn instance(&self) -> Instance {
        self.file.instance
    }

    /// The org field keys.
    pub fn fields(&self) -> &FieldKeys {
        &self.file.fields
    }

    /// The plan a raw tier means (case-insensitive, trimmed), if known.
    pub fn plan_for_tier(&self, raw: &str) -> Option<&str> {
        with_case_folded(raw.trim(), Case::Lower, |key| {
            self.tiers.get(key).map(String::as_str)
        })
    }

    /// The rank of a plan: 0 is the highest. `None` for `expired` or an unknown name.
    pub fn plan_rank(&self, plan: &str) -> Option<usize> {
        self.file.plans.rank.iter().position(|p| p == plan)
    }

    /// The plan of an account without a current subscription.
    pub fn expired_plan(&self) -> &str {
        &self.file.plans.expired
    }

    /// The region value of a raw geo (case-insensitive), if known.
    pub fn region_for_geo(&self, raw: &str) -> Option<&str> {
        with_case_folded(raw.trim(), Case::Upper, |key| {
            self.regions.get(key).map(String::as_str)
        })
    }

    /// The option value (= tag) of a computed value in a managed drop-down.
    pub fn option(&self, field_key: &str, computed: &str) -> Option<&str> {
        self.options
            .get(field_key)
            .and_then(|options| options.get(computed))
            .map(String::as_str)
    }

    /// [`Mapping::option`] of the drop-down at `slot` of [`Mapping::org_keys`], with the
    /// option's place in [`Mapping::tag_names`].
    pub(crate) fn option_at(&self, slot: usize, computed: &str) -> Option<(&str, usize)> {
        self.options_by_slot
            .get(slot)
            .and_then(Option::as_ref)
            .and_then(|options| options.get(computed))
            .map(|(option, place)| (option.as_str(), *place))
    }

    /// The place of a managed tag in [`Mapping::tag_names`].
    pub(crate) fn tag_place(&self, tag: &str) -> Option<usize> {
        place_of(&self.tag_names, tag)
    }

    /// Every managed tag, sorted and unique (shared: cloning is cheap).
    pub(crate) fn tag_names(&self) -> &Arc<[String]> {
        &self.tag_names
    }

    /// The tag of a managed checkbox.
    pub fn checkbox_tag(&self, field_key: &str) -> Option<&str> {
        self.file.checkboxes.get(field_key).map(String::as_str)
    }

    /// Every managed tag: all option values of managed drop-downs and every checkbox tag.
    pub fn managed_tags(&self) -> BTreeSet<String> {
        self.tag_names.iter().cloned().collect()
    }

    /// The org field keys the sync writes, sorted and unique (shared: cloning is cheap).
    pub fn org_keys(&self) -> &Arc<[String]> {
        &self.org_keys
    }

    /// Where each role's key is in [`Mapping::org_keys`].
    pub(crate) fn slots(&self) -> &FieldSlots {
        &self.slots
    }

    /// The org field keys the sync writes, in a fixed order.
    pub fn managed_keys(&self) -> Vec<String> {
        self.file
            .fields
            .roles()
            .into_iter()
            .map(|(_, key, _)| key.to_string())
            .collect()
    }

    /// The tag that protects an org from deletion.
    pub fn protect_tag(&self) -> &str {
        &self.file.deletion.protect_tag
    }

    /// Whether greatly-expired orgs are deleted on this instance.
    pub fn deletes_greatly_expired(&self) -> bool {
        self.file.deletion.delete_greatly_expired
    }

    /// Case settings.
    pub fn cases(&self) -> &CaseSettings {
        &self.file.cases
    }

    /// Checks the mapping against Zendesk's organization field definitions: every
    /// mapped key exists (and is active, of a fitting type), every mapped option
    /// value is among its drop-down's `custom_field_options[].value`, every checkbox
    /// tag matches. Returns every mismatch at once.
    pub fn check_against_zendesk(&self, defs: &[ZendeskOrgField]) -> Result<(), Error> {
        let by_key: HashMap<&str, &ZendeskOrgField> =
            defs.iter().map(|d| (d.key.as_str(), d)).collect();
        let mut mismatches = Vec::new();
        for (role, key, kind) in self.file.fields.roles() {
            let Some(def) = by_key.get(key) else {
                mismatches.push(format!(
                    "field {key} (role {role}) does not exist in Zendesk"
                ));
                continue;
            };
            if !def.active {
                mismatches.push(format!("field {key} is inactive in Zendesk"));
            }
            let expected: &[&str] = match kind {
                FieldKind::Text => &["text", "textarea", "regexp"],
                FieldKind::Number => &["decimal", "integer"],
                FieldKind::Dropdown => &["dropdown", "tagger"],
                FieldKind::Checkbox => &["checkbox"],
            };
            if !expected.contains(&def.field_type.as_str()) {
                mismatches.push(format!(
                    "field {key} has type {:?} in Zendesk, expected one of {expected:?}",
                    def.field_type
                ));
            }
            if kind == FieldKind::Dropdown {
                let present: BTreeSet<&str> = def
                    .custom_field_options
                    .iter()
                    .map(|o| o.value.as_str())
                    .collect();
                let wanted: BTreeSet<&str> = self
                    .file
                    .dropdowns
                    .get(key)
                    .map(|o| o.values().map(String::as_str).collect())
                    .unwrap_or_default();
                for value in wanted.difference(&present) {
                    mismatches.push(format!(
                        "field {key}: option value {value:?} does not exist in Zendesk"
                    ));
                }
            }
            if kind == FieldKind::Checkbox {
                if let (Some(theirs), Some(ours)) = (def.tag.as_deref(), self.checkbox_tag(key)) {
                    if theirs != ours {
                        mismatches.push(format!(
                            "field {key}: checkbox tag is {theirs:?} in Zendesk, the mapping says {ours:?}"
                        ));
                    }
                }
            }
        }
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(Error::FieldsMismatch { mismatches })
        }
    }
}

/// The sha256 of some bytes, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_of_lines([bytes])
}

/// [`sha256_hex`] of the lines joined by `\n`, fed one by one (the joined text is never
/// held: a plan's lines at 100k accounts are some 30 MB).
pub fn sha256_hex_of_lines<L: AsRef<[u8]>>(lines: impl IntoIterator<Item = L>) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for (i, line) in lines.into_iter().enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.as_ref());
    }
    let digest = hasher.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_tag(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

/// A mapped role: (role name, field key, kind), as [`FieldKeys::roles`] lists them.
type Role<'a> = (&'static str, &'a str, FieldKind);

/// The place of `tag` in `names` (sorted, unique).
fn place_of(names: &[String], tag: &str) -> Option<usize> {
    names.binary_search_by(|t| t.as_str().cmp(tag)).ok()
}

/// Every managed tag of a mapping file: all option values of managed drop-downs and
/// every checkbox tag, sorted and unique.
fn managed_tags_of(file: &MappingFile) -> BTreeSet<String> {
    file.dropdowns
        .values()
        .flat_map(|options| options.values().cloned())
        .chain(file.checkboxes.values().cloned())
        .collect()
}

/// Every problem of a mapping file, each naming its key, in file order: fields,
/// drop-down options and checkbox tags, plans and aliases, regions, deletion, cases.
fn validate(file: &MappingFile) -> Vec<String> {
    let mut problems = Vec::new();
    let roles = file.fields.roles();
    check_field_keys(&roles, &mut problems);
    check_field_tables(file, &roles, &mut problems);
    let dropdown_tags = check_dropdown_options(file, &roles, &mut problems);
    check_checkbox_tags(file, &roles, &dropdown_tags, &mut problems);
    check_plans(file, &mut problems);
    check_plan_aliases(&file.plans, &mut problems);
    check_regions(file, &mut problems);
    check_deletion(file, &dropdown_tags, &mut problems);
    check_cases(file, &mut problems);
    problems
}

/// `[fields]`: every key is non-blank and used by one role only.
fn check_field_keys(roles: &[Role<'_>], problems: &mut Vec<String>) {
    let mut keys_seen: HashMap<&str, &str> = HashMap::new();
    for (role, key, _) in roles {
        if key.trim().is_empty() {
            problems.push(format!("fields.{role}: empty field key"));
        } else if let Some(other) = keys_seen.insert(key, role) {
            problems.push(format!(
                "fields.{role}: key {key:?} is also used by fields.{other}"
            ));
        }
    }
}

/// docs/behaviour.md §4 drop-downs and tags: every mapped drop-down has options in
/// `[dropdowns.KEY]`, every mapped checkbox a tag in `[checkboxes]`.
fn check_field_tables(file: &MappingFile, roles: &[Role<'_>], problems: &mut Vec<String>) {
    for (role, key, kind) in roles {
        match kind {
            FieldKind::Dropdown => match file.dropdowns.get(*key) {
                Some(options) if !options.is_empty() => {}
                _ => problems.push(format!(
                    "fields.{role}: drop-down {key:?} has no [dropdowns.{key}] options"
                )),
            },
            FieldKind::Checkbox if !file.checkboxes.contains_key(*key) => problems.push(format!(
                "fields.{role}: checkbox {key:?} has no tag in [checkboxes]"
            )),
            _ => {}
        }
    }
}

/// The field keys of the roles of one kind.
fn keys_of_kind<'a>(roles: &[Role<'a>], kind: FieldKind) -> BTreeSet<&'a str> {
    roles
        .iter()
        .filter(|(_, _, k)| *k == kind)
        .map(|(_, key, _)| *key)
        .collect()
}

/// docs/behaviour.md §4 managed tags, drop-downs: each `[dropdowns.KEY]` is a mapped drop-down,
/// each option value is a valid tag, and no tag is the option of two drop-downs.
/// Returns each option value's drop-down (the managed tags of the drop-downs).
fn check_dropdown_options<'f>(
    file: &'f MappingFile,
    roles: &[Role<'_>],
    problems: &mut Vec<String>,
) -> HashMap<&'f str, String> {
    let dropdown_keys = keys_of_kind(roles, FieldKind::Dropdown);
    let mut tag_owner: HashMap<&str, String> = HashMap::new();
    for (key, options) in &file.dropdowns {
        if !dropdown_keys.contains(key.as_str()) {
            problems.push(format!(
                "dropdowns.{key}: not a drop-down mapped in [fields]"
            ));
        }
        for (computed, value) in options {
            if !is_tag(value) {
                problems.push(format!(
                    "dropdowns.{key}.{computed}: option value {value:?} is not a valid tag"
                ));
            }
            match tag_owner.get(value.as_str()) {
                Some(owner) if owner != key => problems.push(format!(
                    "dropdowns.{key}.{computed}: tag {value:?} is also managed by {owner}"
                )),
                Some(_) => {}
                None => {
                    tag_owner.insert(value, key.clone());
                }
            }
        }
    }
    tag_owner
}

/// docs/behaviour.md §4 managed tags, checkboxes: each `[checkboxes]` entry is a mapped checkbox,
/// its tag is a valid tag and not also a drop-down's option.
fn check_checkbox_tags(
    file: &MappingFile,
    roles: &[Role<'_>],
    dropdown_tags: &HashMap<&str, String>,
    problems: &mut Vec<String>,
) {
    let checkbox_keys = keys_of_kind(roles, FieldKind::Checkbox);
    for (key, tag) in &file.checkboxes {
        if !checkbox_keys.contains(key.as_str()) {
            problems.push(format!(
                "checkboxes.{key}: not a checkbox mapped in [fields]"
            ));
        }
        if !is_tag(tag) {
            problems.push(format!("checkboxes.{key}: tag {tag:?} is not a valid tag"));
        }
        if let Some(owner) = dropdown_tags.get(tag.as_str()) {
            problems.push(format!(
                "checkboxes.{key}: tag {tag:?} is also managed by {owner}"
            ));
        }
    }
}

/// docs/behaviour.md §3.3 plan rank: `plans.rank` is non-empty without repeats, `plans.expired`
/// is not ranked, and every plan (ranked or expired) has an option in the
/// `support_level` drop-down.
fn check_plans(file: &MappingFile, problems: &mut Vec<String>) {
    let plans = &file.plans;
    if plans.rank.is_empty() {
        problems.push("plans.rank: empty".to_string());
    }
    let mut ranked = BTreeSet::new();
    for plan in &plans.rank {
        if !ranked.insert(plan.as_str()) {
            problems.push(format!("plans.rank: plan {plan:?} listed twice"));
        }
    }
    if ranked.contains(plans.expired.as_str()) {
        problems.push(format!(
            "plans.expired: {:?} must not be ranked",
            plans.expired
        ));
    }
    let level_options = file.dropdowns.get(&file.fields.support_level);
    for plan in plans.rank.iter().chain(std::iter::once(&plans.expired)) {
        if !level_options.is_some_and(|o| o.contains_key(plan)) {
            problems.push(format!(
                "plans: plan {plan:?} has no option in [dropdowns.{}]",
                file.fields.support_level
            ));
        }
    }
}

/// docs/behaviour.md §3.2 tier aliases: each `plans.aliases.PLAN` names a ranked plan, and each
/// alias is non-blank and means one plan only (case-insensitive, plan names included).
fn check_plan_aliases(plans: &Plans, problems: &mut Vec<String>) {
    let ranked: BTreeSet<&str> = plans.rank.iter().map(String::as_str).collect();
    let mut alias_owner: HashMap<String, String> = HashMap::new();
    for plan in plans.rank.iter().chain(std::iter::once(&plans.expired)) {
        alias_owner.insert(plan.to_lowercase(), plan.clone());
    }
    for (plan, aliases) in &plans.aliases {
        if !ranked.contains(plan.as_str()) {
            problems.push(format!(
                "plans.aliases.{plan}: unknown rank (plan not in plans.rank)"
            ));
        }
        for alias in aliases {
            let lower = alias.trim().to_lowercase();
            if lower.is_empty() {
                problems.push(format!("plans.aliases.{plan}: empty alias"));
                continue;
            }
            match alias_owner.get(&lower) {
                Some(owner) => problems.push(format!(
                    "plans.aliases.{plan}: alias {alias:?} is already used by plan {owner:?}"
                )),
                None => {
                    alias_owner.insert(lower, plan.clone());
                }
            }
        }
    }
}

/// docs/behaviour.md §4 `org_region`: every region value of the region table has an option in
/// the region drop-down; a region table needs a mapped region field.
fn check_regions(file: &MappingFile, problems: &mut Vec<String>) {
    let Some(region_key) = &file.fields.region else {
        if !file.regions.is_empty() {
            problems.push("regions: listed but fields.region is not mapped".to_string());
        }
        return;
    };
    let options = file.dropdowns.get(region_key);
    for (raw, region) in &file.regions {
        if !options.is_some_and(|o| o.contains_key(region)) {
            problems.push(format!(
                "regions.{raw}: region {region:?} has no option in [dropdowns.{region_key}]"
            ));
        }
    }
}

/// docs/behaviour.md §5 delete: the protect tag (`do_not_delete`) is a valid tag and not a managed
/// one (the sync would remove it); only the Global instance deletes orgs.
fn check_deletion(
    file: &MappingFile,
    dropdown_tags: &HashMap<&str, String>,
    problems: &mut Vec<String>,
) {
    let protect_tag = &file.deletion.protect_tag;
    if !is_tag(protect_tag) {
        problems.push(format!(
            "deletion.protect_tag: {protect_tag:?} is not a valid tag"
        ));
    } else if dropdown_tags.contains_key(protect_tag.as_str())
        || file.checkboxes.values().any(|t| t == protect_tag)
    {
        problems.push(format!(
            "deletion.protect_tag: {protect_tag:?} is a managed tag; the sync would remove it"
        ));
    }
    if file.deletion.delete_greatly_expired && file.instance != Instance::Global {
        problems.push(
            "deletion.delete_greatly_expired: only the Global instance deletes orgs".to_string(),
        );
    }
}

/// docs/behaviour.md §7 case settings: closed statuses, `Origin` and the two Case fields are set.
fn check_cases(file: &MappingFile, problems: &mut Vec<String>) {
    if file.cases.closed_statuses.is_empty() {
        problems.push("cases.closed_statuses: empty".to_string());
    }
    for (name, value) in [
        ("origin", &file.cases.origin),
        ("external_id_field", &file.cases.external_id_field),
        ("ticket_url_field", &file.cases.ticket_url_field),
    ] {
        if value.trim().is_empty() {
            problems.push(format!("cases.{name}: empty"));
        }
    }
}
