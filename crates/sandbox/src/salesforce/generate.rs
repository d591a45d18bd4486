//! Deterministic data generator for `--sandbox-accounts N` and benchmarks: the same
//! [`GenerateConfig`] always yields the same org (ChaCha8 seeded with `seed`, ids from
//! counters), dated relative to `today`.
//!
//! The mix (approximate shares of the N accounts, drawn per account):
//!
//! | share | kind |
//! |---|---|
//! | 84 % | Global (`Account_Territory__c` not US public sector) |
//! | 15 % | US Federal (`Account_Territory__c` `USPUB-FED-<area>`), 1–4 contacts each |
//! | 1 % | territory `USPUB FED` (matches the contacts query's `USPUB_FED%`, not the accounts query's `USPUB-FED%`) |
//!
//! Within each, by subscription state:
//!
//! | share | state |
//! |---|---|
//! | 40 % | current customer subscription (end 30–1,500 days ahead) |
//! | 10 % | current Zuora subscription only |
//! | 8 % | current customer *and* Zuora subscriptions (tiers may differ) |
//! | 10 % | expired recently (end 1–700 days ago), mostly `Former Customer` |
//! | 5 % | greatly expired (end 1,100–4,000 days ago, past 3 years), `Former Customer` |
//! | 3 % | no subscription, `Next_Renewal_Date__c` only |
//! | 2 % | only a `Cancelled` subscription (filtered out by the query) |
//! | 6 % | partners: each variant (Former / Alliance / Open / Select / Technology), current or not |
//! | 2 % | partners the query excludes (no track) |
//! | 3 % | prospects |
//! | 2 % | invalid: blank name or a 15-character `Account_ID_18__c` |
//! | 2 % | an unknown tier (`Platinum Plus`), half of them alongside a known tier |
//! | rest | current with an alias tier (`Basic`, `Self-Managed - Ultimate`, …) |
//!
//! Tiers are drawn from the plans, their aliases and both short and long names. Regions:
//! the six known plus `APJ`, ~3 % unknown (`Antarctica`) and ~3 % blank. Health colours
//! in mixed case, ~10 % blank. ~5 % `Restricted Party`. Global accounts get 0–2 billing
//! accounts with sold-to emails (~4 % invalid, ~4 % the same address as a sibling in other
//! case, ~5 % blank). US Federal contacts: ~6 % inactive, ~4 % a duplicate email of an earlier
//! contact in other case, ~4 % without email; ~70 % of US Federal accounts have a solutions architect.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use super::schema::{self, SObject};
use super::store::Store;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// Number of accounts.
    pub accounts: usize,
    /// RNG seed: same seed, same org.
    pub seed: u64,
    /// Dates are relative to this day.
    pub today: time::Date,
}

const TIERS: &[&str] = &[
    "Ultimate",
    "Gold",
    "Premium",
    "Silver",
    "Starter",
    "Bronze",
    "Custom",
    "Community",
    "ultimate",
    "PREMIUM",
];
const ALIAS_TIERS: &[&str] = &[
    "Basic",
    "Self-Managed - Ultimate",
    "SaaS - Premium",
    "Self-Managed - Premium",
    "Free",
];
const REGIONS: &[&str] = &["AMER", "APAC", "APJ", "EMEA", "LATAM", "NCSA", "NORAM"];
const HEALTH: &[&str] = &["Green", "Yellow", "Red", "green", "RED"];
const SEGMENTS: &[&str] = &["Large", "Mid-Market", "SMB", "PubSec"];
const WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
];
const SUFFIXES: &[&str] = &[
    "Corp", "Inc", "GmbH", "Ltd", "Labs", "Systems", "Group", "Agency",
];

struct Gen {
    rng: ChaCha8Rng,
    store: Store,
    today: time::Date,
    architects: Vec<String>,
}

fn obj(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

impl Gen {
    fn day(&self, offset: i64) -> Value {
        let d = self
            .today
            .checked_add(time::Duration::days(offset))
            .unwrap_or(self.today);
        json!(format!(
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        ))
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        if xs.is_empty() {
            return "";
        }
        xs.get(self.rng.gen_range(0..xs.len()))
            .copied()
            .unwrap_or_default()
    }

    fn insert(&mut self, sobject: &str, row: Map<String, Value>) -> Option<String> {
        let s: &'static SObject = schema::sobject(sobject)?;
        self.store.insert_seed(s, row).ok()
    }

    fn customer_sub(&mut self, account: &str, tier: &str, end: i64, status: &str) {
        let long = self.rng.gen_bool(0.3);
        let row = obj(&[
            (
                "Name",
                json!(format!("SUB-{}", self.rng.gen_range(100_000..999_999))),
            ),
            ("Account__c", json!(account)),
            ("Current_Subscription_Status__c", json!(status)),
            ("Current_Term_Start_Date__c", self.day(end - 365)),
            ("Current_Term_End_Date__c", self.day(end)),
            (
                "Entitled_Seats__c",
                json!(f64::from(self.rng.gen_range(5u32..5000))),
            ),
            // Some carry only the long plan name, which the sync falls back to.
            (
                "Product_Tier_Name_Short__c",
                if long { Value::Null } else { json!(tier) },
            ),
            ("Plan_Name__c", json!(format!("{tier} - 1 Year"))),
        ]);
        let _ = self.insert("Customer_Subscription__c", row);
    }

    fn zuora_sub(&mut self, account: &str, tier: &str, end: i64) {
        let n = self.rng.gen_range(10_000..99_999);
        let row = obj(&[
            ("Name", json!(format!("A-S{n:08}"))),
            ("Zuora__Account__c", json!(account)),
            ("Zuora__Status__c", json!("Active")),
            ("Zuora__SubscriptionStartDate__c", self.day(end - 365)),
            ("Zuora__SubscriptionEndDate__c", self.day(end)),
            ("Support_Level__c", json!(tier)),
            ("Zuora__OpportunityName__c", json!(format!("Renewal {n}"))),
            ("Zuora__SubscriptionNumber__c", json!(format!("A-S{n:08}"))),
        ]);
        let _ = self.insert("Zuora__Subscription__c", row);
    }

    fn account(&mut self, i: usize) {
        let territory_roll: f64 = self.rng.gen();
        let federal = territory_roll < 0.16;
        let territory = if territory_roll < 0.01 {
            "USPUB FED-East".to_string()
        } else if federal {
            format!("USPUB-FED-{}", self.pick(&["DOD", "CIV", "INTEL"]))
        } else {
            format!(
                "{}-{}",
                self.pick(&["AMER", "EMEA", "APAC"]),
                self.rng.gen_range(1..20)
            )
        };
        let name = format!("{} {} {}", self.pick(WORDS), self.pick(SUFFIXES), i + 1);
        let region = match self.rng.gen_range(0..100) {
            0..=2 => Value::Null,
            3..=5 => json!("Antarctica"),
            _ => json!(self.pick(REGIONS)),
        };
        let health = if self.rng.gen_bool(0.1) {
            Value::Null
        } else {
            json!(self.pick(HEALTH))
        };
        let restricted = if self.rng.gen_bool(0.05) {
            json!("Restricted Party")
        } else {
            json!("No")
        };
        let mut row = obj(&[
            ("Name", json!(name)),
            ("Type", json!("Customer")),
            (
                "CARR_This_Account__c",
                json!(f64::from(self.rng.gen_range(0u32..500_000))),
            ),
            (
                "Ultimate_Parent_Sales_Segment_Employees__c",
                json!(self.pick(SEGMENTS)),
            ),
            (
                "Account_Owner_Calc__c",
                json!(format!("Owner {}", self.rng.gen_range(1..40))),
            ),
            (
                "Number_of_Licenses_This_Account__c",
                json!(f64::from(self.rng.gen_range(1u32..10_000))),
            ),
            (
                "Technical_Account_Manager_Name__c",
                json!(format!("TAM {}", self.rng.gen_range(1..25))),
            ),
            ("Account_Demographics_Geo__c", region.clone()),
            ("Region__c", region),
            ("GS_Health_Score_Color__c", health),
            ("Restricted_Account__c", restricted),
            ("Support_Level__c", json!(self.pick(TIERS))),
            ("Account_Territory__c", json!(territory)),
        ]);
        if federal && self.rng.gen_bool(0.7) && !self.architects.is_empty() {
            let k = self.rng.gen_range(0..self.architects.len());
            if let Some(sa) = self.architects.get(k) {
                row.insert("Solutions_Architect_Lookup__c".into(), json!(sa));
            }
        }
        let kind = self.rng.gen_range(0..100);
        match kind {
            60..=72 => {
                row.insert("Type".into(), json!("Former Customer"));
            }
            73..=75 => {
                let offset = self.rng.gen_range(-400..400);
                row.insert("Next_Renewal_Date__c".into(), self.day(offset));
            }
            78..=85 => {
                row.insert("Type".into(), json!("Partner"));
                let (status, ptype, track) = match kind {
                    78 => ("Former", "Channel", Some("Open")),
                    79 => ("Authorized", "Alliance", Some("Technology")),
                    80 => ("Authorized", "Channel", Some("Open")),
                    81 => ("Authorized", "Channel", Some("Technology")),
                    82 => ("Authorized", "Channel", Some("Select")),
                    83 => ("Authorized", "Alliance", Some("Select")),
                    // Excluded by the Global query: no track.
                    _ => ("Authorized", "Channel", None),
                };
                row.insert("Partners_Partner_Status__c".into(), json!(status));
                row.insert("Partners_Partner_Type__c".into(), json!(ptype));
                row.insert(
                    "Partner_Track__c".into(),
                    track.map_or(Value::Null, |t| json!(t)),
                );
            }
            86..=88 => {
                row.insert("Type".into(), json!("Prospect"));
            }
            89 => {
                row.insert("Name".into(), json!("  "));
            }
            _ => {}
        }
        let Some(id) = self.insert("Account", row) else {
            return;
        };
        if kind == 90 {
            // An invalid, 15-character "18-character" id.
            let s = schema::sobject("Account");
            if let Some(s) = s {
                self.store
                    .set_field(s, &id, "Account_ID_18__c", json!(id[..15].to_string()));
            }
        }
        match kind {
            0..=39 | 78..=81 => {
                let tier = self.pick(TIERS);
                let end = self.rng.gen_range(30..1500);
                self.customer_sub(&id, tier, end, "Active");
            }
            40..=49 | 82 | 83 => {
                let tier = self.pick(TIERS);
                let end = self.rng.gen_range(30..1500);
                self.zuora_sub(&id, tier, end);
            }
            50..=57 => {
                let (a, b) = (self.pick(TIERS), self.pick(TIERS));
                let (e1, e2) = (self.rng.gen_range(30..1500), self.rng.gen_range(-300..1500));
                self.customer_sub(&id, a, e1, "Active");
                self.zuora_sub(&id, b, e2);
            }
            58..=67 => {
                let tier = self.pick(TIERS);
                let end = -self.rng.gen_range(1..700);
                self.customer_sub(&id, tier, end, "Active");
            }
            68..=72 => {
                let tier = self.pick(TIERS);
                let end = -self.rng.gen_range(1100..4000);
                self.customer_sub(&id, tier, end, "Active");
            }
            76 | 77 => {
                let tier = self.pick(TIERS);
                self.customer_sub(&id, tier, 200, "Cancelled");
            }
            91 | 92 => {
                let end = self.rng.gen_range(30..1500);
                self.customer_sub(&id, "Platinum Plus", end, "Active");
                if kind == 92 {
                    self.zuora_sub(&id, "Gold", end);
                }
            }
            93..=99 => {
                let tier = self.pick(ALIAS_TIERS);
                let end = self.rng.gen_range(30..1500);
                self.customer_sub(&id, tier, end, "Active");
            }
            _ => {}
        }
        if federal || territory_roll < 0.01 {
            self.contacts(&id, i);
        } else {
            self.billing(&id, i);
        }
    }

    fn billing(&mut self, account: &str, i: usize) {
        let mut first: Option<String> = None;
        for k in 0..self.rng.gen_range(0..3) {
            let roll = self.rng.gen_range(0..100);
            let email = match (roll, &first) {
                (0..=3, _) => json!("billing at example dot com"),
                (4..=7, Some(prev)) => json!(prev.to_uppercase()),
                (8..=12, _) => Value::Null,
                _ => json!(format!("billing{k}@customer{}.example.com", i + 1)),
            };
            if first.is_none() {
                first = email.as_str().map(str::to_string);
            }
            let row = obj(&[
                ("Name", json!(format!("Billing Contact {}-{k}", i + 1))),
                ("Zuora__Account__c", json!(account)),
                ("Zuora__SoldToWorkEmail__c", email),
            ]);
            let _ = self.insert("Zuora__CustomerAccount__c", row);
        }
    }

    fn contacts(&mut self, account: &str, i: usize) {
        let mut previous: Vec<String> = Vec::new();
        for k in 0..self.rng.gen_range(1..5) {
            let roll = self.rng.gen_range(0..100);
            let email = match roll {
                0..=3 if !previous.is_empty() => {
                    let k = self.rng.gen_range(0..previous.len());
                    json!(previous.get(k).map(|p| p.to_uppercase()))
                }
                4..=7 => Value::Null,
                _ => json!(format!("contact{k}@agency{}.example.gov", i + 1)),
            };
            if let Some(e) = email.as_str() {
                previous.push(e.to_string());
            }
            let row = obj(&[
                ("FirstName", json!(format!("Person{k}"))),
                ("LastName", json!(format!("Agency{}", i + 1))),
                ("Email", email),
                ("AccountId", json!(account)),
                ("Inactive_Contact__c", json!((8..=13).contains(&roll))),
            ]);
            let _ = self.insert("Contact", row);
        }
    }
}

impl Store {
    /// A deterministic generated org (see the module doc for the mix).
    pub fn generate(cfg: &GenerateConfig) -> Store {
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            store: Store::new(),
            today: cfg.today,
            architects: Vec::new(),
        };
        for k in 0..5 {
            let row = obj(&[
                ("Name", json!(format!("Solutions Architect {}", k + 1))),
                ("Email", json!(format!("sa{}@example.com", k + 1))),
                ("IsActive", json!(true)),
            ]);
            if let Some(id) = g.insert("User", row) {
                g.architects.push(id);
            }
        }
        for i in 0..cfg.accounts {
            g.account(i);
        }
        g.store
    }
}
