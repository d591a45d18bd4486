//! The pure rules of the cases job (docs/behaviour.md §7): the Case key, the Case fields a ticket
//! gives (priority map, description cut to 32,000 characters), and the decision for one
//! ticket given the Case Salesforce already has. No I/O, no clock.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ids::ZendeskOrgId;
use crate::mapping::CaseSettings;
use crate::model::FindingKind;
use crate::report::{ChangeAction, FailureKind};

/// The longest `Description` written, in characters (the Case textarea limit).
pub const MAX_DESCRIPTION_CHARS: usize = 32_000;
/// The longest `Subject` written, in characters (Salesforce refuses longer with `STRING_TOO_LONG`).
pub const MAX_SUBJECT_CHARS: usize = 255;
/// The `Status` of a Case created for an open ticket.
pub const STATUS_NEW: &str = "New";
/// The `Status` that closes a Case.
pub const STATUS_CLOSED: &str = "Closed";

/// The `errors[]` kinds of the cases job: findings (reported, never failing a run)
/// and the one failure.
/// Finding: the ticket has no organization, or its org has no `salesforce_id`.
pub const NO_ORGANIZATION: FindingKind = FindingKind::NoOrganization;
/// Finding: Salesforce refused the Case's account (`INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY`,
/// `ENTITY_IS_DELETED`): the account is missing or deleted.
pub const MISSING_ACCOUNT: FindingKind = FindingKind::MissingAccount;
/// Finding: the ticket does not exist (any more) in Zendesk.
pub const TICKET_NOT_FOUND: FindingKind = FindingKind::TicketNotFound;
/// Failure: Salesforce refused a Case write, or a key matched several Cases.
pub const CASE_WRITE_FAILED: FailureKind = FailureKind::CaseWriteFailed;

/// A ticket's priority, as the rules see it (converted from the Zendesk client's at
/// the edge, in sync-jobs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TicketPriority {
    /// `urgent`.
    Urgent,
    /// `high`.
    High,
    /// `normal`.
    Normal,
    /// `low`.
    Low,
    /// A value the rules do not know, kept as Zendesk spelled it.
    Other(String),
}

/// What happened to a ticket, as a trigger or webhook names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketEvent {
    /// The ticket was created.
    Created,
    /// The ticket was closed.
    Closed,
}

impl TicketEvent {
    /// The event's name: `created` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketEvent::Created => "created",
            TicketEvent::Closed => "closed",
        }
    }
}

impl fmt::Display for TicketEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TicketEvent {
    type Err = String;

    /// Parses `created` or `closed` (any case, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "created" => Ok(TicketEvent::Created),
            "closed" => Ok(TicketEvent::Closed),
            _ => Err(format!(
                "unknown ticket event {s:?}: expected \"created\" or \"closed\""
            )),
        }
    }
}

/// Parses a ticket id as a trigger renders it: digits, possibly inside a string.
pub fn parse_ticket_id(s: &str) -> Result<u64, String> {
    let t = s.trim();
    match t.parse::<u64>() {
        Ok(0) => Err("ticket id 0 is not a Zendesk ticket id".to_string()),
        Ok(id) => Ok(id),
        Err(_) => Err(format!("ticket id {s:?} is not a positive integer")),
    }
}

/// The Case key of a ticket: the mapping's `case_key_prefix` + the ticket id, so the
/// two Zendesk instances never share a key in the one Salesforce org.
pub fn case_key(settings: &CaseSettings, ticket_id: u64) -> String {
    format!("{}{ticket_id}", settings.case_key_prefix)
}

/// The Case `Priority` of a ticket priority: urgent/high → High, normal → Medium,
/// low → Low; none, or a value we do not know, → not sent (Salesforce's default).
pub fn case_priority(priority: Option<&TicketPriority>) -> Option<&'static str> {
    match priority? {
        TicketPriority::Urgent | TicketPriority::High => Some("High"),
        TicketPriority::Normal => Some("Medium"),
        TicketPriority::Low => Some("Low"),
        TicketPriority::Other(_) => None,
    }
}

/// The first `max` characters of `s` (characters, not bytes: never splits one).
pub fn cut_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// The agent URL of a ticket, from the Zendesk base URL (`https://x.zendesk.com`,
/// with or without `/api/v2/`): `https://x.zendesk.com/agent/tickets/{id}`.
pub fn agent_url(zendesk_base: &str, ticket_id: u64) -> String {
    let base = zendesk_base.trim_end_matches('/');
    let base = base.strip_suffix("/api/v2").unwrap_or(base);
    format!("{base}/agent/tickets/{ticket_id}")
}

/// Where a ticket's organization leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TicketOrg {
    /// The ticket has no organization.
    None,
    /// The organization has no (or a blank) `salesforce_id`.
    NoSalesforceId {
        /// The Zendesk organization.
        organization_id: ZendeskOrgId,
    },
    /// The organization's Salesforce account.
    Account {
        /// `salesforce_id`, trimmed.
        salesforce_id: String,
    },
}

/// What the rules need to know about one ticket, read from Zendesk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    /// The ticket id.
    pub ticket_id: u64,
    /// Its status as Zendesk spells it (`open`, `closed`, …).
    pub status: String,
    /// Subject.
    pub subject: Option<String>,
    /// Description (the first comment).
    pub description: Option<String>,
    /// Priority.
    pub priority: Option<TicketPriority>,
    /// Its organization's account.
    pub org: TicketOrg,
    /// The requester's email.
    pub requester_email: Option<String>,
    /// The requester's name.
    pub requester_name: Option<String>,
    /// The agent URL of the ticket.
    pub agent_url: String,
}

impl TicketFacts {
    /// Whether the ticket's status is one of the mapping's `closed_statuses` (any case).
    pub fn is_closed(&self, settings: &CaseSettings) -> bool {
        settings
            .closed_statuses
            .iter()
            .any(|s| s.trim().eq_ignore_ascii_case(self.status.trim()))
    }
}

/// The Case fields a ticket gives (everything but `Status` and the key). `None` is
/// "not sent".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseFields {
    /// `AccountId`.
    pub account_id: Option<String>,
    /// `Subject` (cut to 255 characters).
    pub subject: Option<String>,
    /// `Description` (cut to 32,000 characters).
    pub description: Option<String>,
    /// `Priority`.
    pub priority: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// `SuppliedEmail`.
    pub supplied_email: Option<String>,
    /// `SuppliedName`.
    pub supplied_name: Option<String>,
    /// The ticket URL field (named by the mapping).
    pub ticket_url: Option<String>,
}

fn non_blank(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl CaseFields {
    /// The fields a ticket gives, with `AccountId` = `account`.
    pub fn from_ticket(facts: &TicketFacts, account: &str, settings: &CaseSettings) -> CaseFields {
        CaseFields {
            account_id: Some(account.to_string()),
            subject: non_blank(facts.subject.as_deref())
                .map(|s| cut_chars(&s, MAX_SUBJECT_CHARS).to_string()),
            description: facts
                .description
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(|d| cut_chars(d, MAX_DESCRIPTION_CHARS).to_string()),
            priority: case_priority(facts.priority.as_ref()).map(str::to_string),
            origin: non_blank(Some(&settings.origin)),
            supplied_email: non_blank(facts.requester_email.as_deref()),
            supplied_name: non_blank(facts.requester_name.as_deref()),
            ticket_url: Some(facts.agent_url.clone()),
        }
    }

    /// `(Salesforce field name, value)` of every field, in a fixed order.
    fn named<'a>(&'a self, settings: &'a CaseSettings) -> [(&'a str, &'a Option<String>); 8] {
        [
            ("AccountId", &self.account_id),
            ("Subject", &self.subject),
            ("Description", &self.description),
            ("Priority", &self.priority),
            ("Origin", &self.origin),
            ("SuppliedEmail", &self.supplied_email),
            ("SuppliedName", &self.supplied_name),
            (settings.ticket_url_field.as_str(), &self.ticket_url),
        ]
    }

    /// The upsert body: every field set, plus `Status` when given. The external-id
    /// field is left out (it is in the URL).
    pub fn body(&self, settings: &CaseSettings, status: Option<&str>) -> Map<String, Value> {
        let mut body: Map<String, Value> = self
            .named(settings)
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::from(v.as_str()))))
            .collect();
        if let Some(status) = status {
            body.insert("Status".into(), status.into());
        }
        body
    }

    /// The fields of `self` (desired) that are set and differ from `actual`, as an
    /// upsert body. Never `Status`.
    pub fn changed_from(&self, actual: &CaseFields, settings: &CaseSettings) -> Map<String, Value> {
        self.named(settings)
            .into_iter()
            .zip(actual.named(settings))
            .filter_map(|((k, want), (_, have))| match want {
                Some(w) if have.as_deref().map(str::trim) != Some(w.trim()) => {
                    Some((k.to_string(), Value::from(w.as_str())))
                }
                _ => None,
            })
            .collect()
    }
}

/// A Case Salesforce already has for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingCase {
    /// Its record id.
    pub id: String,
    /// Its `Status`.
    pub status: Option<String>,
    /// Its `IsClosed` (derived by Salesforce from `Status`).
    pub is_closed: bool,
    /// Its current fields.
    pub fields: CaseFields,
}

/// How far the rules go with a ticket that already has a Case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An event: create, update the fields (never `Status`), or close.
    Event,
    /// Reconcile: only repair a missing Case or a missing close; fields are left alone.
    Repair,
}

/// What to do for one ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No Case yet: upsert one with these fields and `Status`.
    Create {
        /// The Case key.
        key: String,
        /// The upsert body (`Status` included).
        body: Map<String, Value>,
        /// Whether it is created already closed.
        closed: bool,
    },
    /// The Case exists: upsert these changed fields (never `Status`).
    Update {
        /// The Case key.
        key: String,
        /// Its record id.
        case_id: String,
        /// The changed fields.
        body: Map<String, Value>,
    },
    /// The Case exists and is open, the ticket is closed: set `Status` = Closed.
    Close {
        /// The Case key.
        key: String,
        /// Its record id.
        case_id: String,
    },
    /// Nothing to write.
    Unchanged {
        /// The Case key.
        key: String,
        /// Why, for the log.
        reason: &'static str,
    },
    /// No Case and no account to give one: nothing to do, reported (`no_organization`).
    NoAccount {
        /// The Case key.
        key: String,
        /// Why.
        message: String,
    },
}

impl Decision {
    /// The Case key the decision is about.
    pub fn key(&self) -> &str {
        match self {
            Decision::Create { key, .. }
            | Decision::Update { key, .. }
            | Decision::Close { key, .. }
            | Decision::Unchanged { key, .. }
            | Decision::NoAccount { key, .. } => key,
        }
    }

    /// The report's change action, for a decision that writes.
    pub fn action(&self) -> Option<ChangeAction> {
        match self {
            Decision::Create { .. } => Some(ChangeAction::CreateCase),
            Decision::Update { .. } => Some(ChangeAction::UpdateCase),
            Decision::Close { .. } => Some(ChangeAction::CloseCase),
            Decision::Unchanged { .. } | Decision::NoAccount { .. } => None,
        }
    }

    /// The upsert body of a decision that writes.
    pub fn body(&self) -> Option<Map<String, Value>> {
        match self {
            Decision::Create { body, .. } | Decision::Update { body, .. } => Some(body.clone()),
            Decision::Close { .. } => {
                let mut m = Map::new();
                m.insert("Status".into(), STATUS_CLOSED.into());
                Some(m)
            }
            Decision::Unchanged { .. } | Decision::NoAccount { .. } => None,
        }
    }
}

/// The decision for one ticket (docs/behaviour.md §7). The ticket's own status decides, not the
/// event that announced it, so a late or replayed `created` never reopens a closed
/// Case and a `closed` whose ticket is open again creates or updates, never closes.
///
/// - Case exists, ticket closed: close it unless already closed.
/// - Case exists, ticket open: update the fields that differ, never `Status`
///   ([`Mode::Event`]); leave it ([`Mode::Repair`]).
/// - No Case, an account: create it, `New`, or already `Closed` for a closed ticket.
/// - No Case, no account: nothing ([`Decision::NoAccount`]).
pub fn decide(
    facts: &TicketFacts,
    existing: Option<&ExistingCase>,
    settings: &CaseSettings,
    mode: Mode,
) -> Decision {
    let key = case_key(settings, facts.ticket_id);
    let closed = facts.is_closed(settings);
    let account = match &facts.org {
        TicketOrg::Account { salesforce_id } => Some(salesforce_id.as_str()),
        TicketOrg::None | TicketOrg::NoSalesforceId { .. } => None,
    };
    match (existing, account) {
        (Some(case), _) if closed => {
            if case.is_closed {
                Decision::Unchanged {
                    key,
                    reason: "the Case is already closed",
                }
            } else {
                Decision::Close {
                    key,
                    case_id: case.id.clone(),
                }
            }
        }
        (Some(_), _) if mode == Mode::Repair => Decision::Unchanged {
            key,
            reason: "the Case exists",
        },
        (Some(_), None) => Decision::Unchanged {
            key,
            reason: "the ticket has no account any more; the Case is left as it is",
        },
        (Some(case), Some(account)) => {
            let body = CaseFields::from_ticket(facts, account, settings)
                .changed_from(&case.fields, settings);
            if body.is_empty() {
                Decision::Unchanged {
                    key,
                    reason: "the Case already has these fields",
                }
            } else {
                Decision::Update {
                    key,
                    case_id: case.id.clone(),
                    body,
                }
            }
        }
        (None, Some(account)) => {
            let status = if closed { STATUS_CLOSED } else { STATUS_NEW };
            Decision::Create {
                key,
                body: CaseFields::from_ticket(facts, account, settings)
                    .body(settings, Some(status)),
                closed,
            }
        }
        (None, None) => Decision::NoAccount {
            key,
            message: match &facts.org {
                TicketOrg::NoSalesforceId { organization_id } => format!(
                    "ticket {}: organization {organization_id} has no salesforce_id; no Case",
                    facts.ticket_id
                ),
                _ => format!("ticket {}: no organization; no Case", facts.ticket_id),
            },
        },
    }
}

/// What a Case needs after a create met it: the lookup found no Case, but the upsert
/// answered "updated" because a concurrent writer (a replayed or parallel event, a
/// reconcile) created it in between, so the upsert just set its `Status` to the
/// create's. `case` is the Case read again, `ticket_closed_now` the ticket's status
/// read again: a closed ticket's Case ends Closed (the other writer may have closed it
/// and the upsert reopened it); an open ticket's Case is left as the upsert made it.
pub fn after_create_met_a_case(
    key: String,
    ticket_closed_now: bool,
    case: Option<&ExistingCase>,
) -> Decision {
    match case {
        Some(case) if ticket_closed_now && !case.is_closed => Decision::Close {
            key,
            case_id: case.id.clone(),
        },
        Some(_) => Decision::Unchanged {
            key,
            reason: "the Case's status already fits the ticket",
        },
        None => Decision::Unchanged {
            key,
            reason: "the Case is no longer found",
        },
    }
}
