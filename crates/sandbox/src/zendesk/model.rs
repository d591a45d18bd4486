//! Wire types of the simulated Zendesk API, written from `reference/zendesk-api.md`
//! (independent of `zendesk-client`, so a misreading there cannot hide behind the same
//! misreading here). Custom field values stay JSON values: Zendesk stores any type there.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An organization as the API returns it (§4 "Organization object").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    /// API URL of the record; filled in by the simulator.
    #[serde(default)]
    pub url: String,
    /// 64-bit id.
    pub id: u64,
    /// Unique name (trimmed, case-insensitive).
    pub name: String,
    /// Whether tickets are shared in the org.
    #[serde(default)]
    pub shared_tickets: bool,
    /// Whether comments are shared in the org.
    #[serde(default)]
    pub shared_comments: bool,
    /// Free external id (a string).
    #[serde(default)]
    pub external_id: Option<String>,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub created_at: String,
    /// ISO-8601 update time.
    #[serde(default)]
    pub updated_at: String,
    /// Domains whose users join the org.
    #[serde(default)]
    pub domain_names: Vec<String>,
    /// Free details text.
    #[serde(default)]
    pub details: Option<String>,
    /// Free notes text.
    #[serde(default)]
    pub notes: Option<String>,
    /// Default group.
    #[serde(default)]
    pub group_id: Option<u64>,
    /// Tags (a write replaces the whole list).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom field values keyed by field key.
    #[serde(default)]
    pub organization_fields: Map<String, Value>,
}

/// The writable attributes of an organization in a create or update body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrganizationInput {
    /// Target id (update_many batch form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New external id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// New details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// New notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// New domain list (replaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_names: Option<Vec<String>>,
    /// New tag list (replaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Custom field values to merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_fields: Option<Map<String, Value>>,
    /// New default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
}

/// A drop-down option of a custom field: `value` is also the tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldOption {
    /// Option id.
    #[serde(default)]
    pub id: u64,
    /// Human label.
    pub name: String,
    /// Raw label.
    #[serde(default)]
    pub raw_name: String,
    /// Option value, which is also the tag Zendesk puts on the record.
    pub value: String,
}

/// An organization field definition (§4.11).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrganizationField {
    /// 64-bit id.
    pub id: u64,
    /// API URL.
    #[serde(default)]
    pub url: String,
    /// Field type: text, decimal, dropdown, checkbox, ...
    #[serde(rename = "type")]
    pub field_type: String,
    /// Key used in `organization_fields`.
    pub key: String,
    /// Title.
    pub title: String,
    /// Raw title.
    #[serde(default)]
    pub raw_title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Raw description.
    #[serde(default)]
    pub raw_description: String,
    /// Position in the UI.
    #[serde(default)]
    pub position: u64,
    /// Whether the field is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Tag of a checkbox field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Options of a drop-down field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_options: Option<Vec<FieldOption>>,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub created_at: String,
    /// ISO-8601 update time.
    #[serde(default)]
    pub updated_at: String,
}

fn yes() -> bool {
    true
}

/// A user as the API returns it (§5 "User object").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// 64-bit id.
    pub id: u64,
    /// API URL.
    #[serde(default)]
    pub url: String,
    /// Display name.
    pub name: String,
    /// Primary email (stored lowercased), or null.
    #[serde(default)]
    pub email: Option<String>,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub created_at: String,
    /// ISO-8601 update time.
    #[serde(default)]
    pub updated_at: String,
    /// Time zone.
    #[serde(default = "tz")]
    pub time_zone: String,
    /// IANA time zone.
    #[serde(default = "tz")]
    pub iana_time_zone: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Locale id.
    #[serde(default = "one")]
    pub locale_id: u64,
    /// Locale.
    #[serde(default = "locale")]
    pub locale: String,
    /// Default organization.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// `end-user`, `agent` or `admin`.
    #[serde(default = "end_user")]
    pub role: String,
    /// Whether the identity is verified.
    #[serde(default)]
    pub verified: bool,
    /// External id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether the user is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Whether the user is suspended.
    #[serde(default)]
    pub suspended: bool,
    /// Ticket restriction.
    #[serde(default)]
    pub ticket_restriction: Option<String>,
    /// Restricted agent flag.
    #[serde(default)]
    pub restricted_agent: bool,
    /// Role type.
    #[serde(default)]
    pub role_type: Option<u64>,
    /// Custom role.
    #[serde(default)]
    pub custom_role_id: Option<u64>,
    /// Default group.
    #[serde(default)]
    pub default_group_id: Option<u64>,
    /// Custom user field values keyed by field key.
    #[serde(default)]
    pub user_fields: Map<String, Value>,
}

fn tz() -> String {
    "America/New_York".to_owned()
}
fn one() -> u64 {
    1
}
fn locale() -> String {
    "en-US".to_owned()
}
fn end_user() -> String {
    "end-user".to_owned()
}

/// The writable attributes of a user in a create or update body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserInput {
    /// Target id (update_many batch form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Role (default end-user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Default organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<u64>,
    /// External id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Tags (replace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Verified flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Custom user fields to merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_fields: Option<Map<String, Value>>,
}

/// How a ticket arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Via {
    /// Channel, e.g. `api`, `web`, `email`.
    pub channel: String,
    /// Source details.
    #[serde(default)]
    pub source: ViaSource,
}

/// Source details of a [`Via`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ViaSource {
    /// Sender details.
    #[serde(default)]
    pub from: Map<String, Value>,
    /// Recipient details.
    #[serde(default)]
    pub to: Map<String, Value>,
    /// Relation.
    #[serde(default)]
    pub rel: Option<String>,
}

/// One ticket custom field value: `{id, value}` (an array on tickets, unlike orgs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketFieldValue {
    /// Field id.
    pub id: u64,
    /// Value of any JSON type.
    #[serde(default)]
    pub value: Value,
}

/// A ticket as the API returns it (§7.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ticket {
    /// API URL.
    #[serde(default)]
    pub url: String,
    /// 64-bit id.
    pub id: u64,
    /// External id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Channel.
    #[serde(default = "via_api")]
    pub via: Via,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub created_at: String,
    /// ISO-8601 update time.
    #[serde(default)]
    pub updated_at: String,
    /// Ticket type.
    #[serde(default, rename = "type")]
    pub ticket_type: Option<String>,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Raw subject.
    #[serde(default)]
    pub raw_subject: Option<String>,
    /// First comment; read-only after creation.
    #[serde(default)]
    pub description: String,
    /// urgent, high, normal, low or null.
    #[serde(default)]
    pub priority: Option<String>,
    /// new, open, pending, hold, solved or closed.
    #[serde(default = "status_new")]
    pub status: String,
    /// Recipient address.
    #[serde(default)]
    pub recipient: Option<String>,
    /// Requester.
    #[serde(default)]
    pub requester_id: Option<u64>,
    /// Submitter.
    #[serde(default)]
    pub submitter_id: Option<u64>,
    /// Assignee.
    #[serde(default)]
    pub assignee_id: Option<u64>,
    /// Organization.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// Group.
    #[serde(default)]
    pub group_id: Option<u64>,
    /// CCs.
    #[serde(default)]
    pub collaborator_ids: Vec<u64>,
    /// Followers.
    #[serde(default)]
    pub follower_ids: Vec<u64>,
    /// Email CCs.
    #[serde(default)]
    pub email_cc_ids: Vec<u64>,
    /// Problem ticket.
    #[serde(default)]
    pub problem_id: Option<u64>,
    /// Whether incidents link to it.
    #[serde(default)]
    pub has_incidents: bool,
    /// Public flag.
    #[serde(default = "yes")]
    pub is_public: bool,
    /// Due date.
    #[serde(default)]
    pub due_at: Option<String>,
    /// Tags (a write replaces).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom field values.
    #[serde(default)]
    pub custom_fields: Vec<TicketFieldValue>,
    /// Legacy alias of `custom_fields`.
    #[serde(default)]
    pub fields: Vec<TicketFieldValue>,
    /// Satisfaction rating.
    #[serde(default)]
    pub satisfaction_rating: Option<Value>,
    /// Sharing agreements.
    #[serde(default)]
    pub sharing_agreement_ids: Vec<u64>,
    /// Follow-ups.
    #[serde(default)]
    pub followup_ids: Vec<u64>,
    /// Form.
    #[serde(default)]
    pub ticket_form_id: Option<u64>,
    /// Brand.
    #[serde(default)]
    pub brand_id: Option<u64>,
    /// Channelback flag.
    #[serde(default)]
    pub allow_channelback: bool,
    /// Attachments flag.
    #[serde(default = "yes")]
    pub allow_attachments: bool,
}

fn via_api() -> Via {
    Via {
        channel: "api".to_owned(),
        source: ViaSource::default(),
    }
}
fn status_new() -> String {
    "new".to_owned()
}

/// A comment in a ticket write (only its presence matters to the simulator).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CommentInput {
    /// Comment text.
    #[serde(default)]
    pub body: Option<String>,
    /// Public flag.
    #[serde(default)]
    pub public: Option<bool>,
}

/// The writable attributes of a ticket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketInput {
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Description (create only; ignored on update, as the real API does).
    #[serde(default)]
    pub description: Option<String>,
    /// First or added comment.
    #[serde(default)]
    pub comment: Option<CommentInput>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Requester.
    #[serde(default)]
    pub requester_id: Option<u64>,
    /// Organization.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// Assignee.
    #[serde(default)]
    pub assignee_id: Option<u64>,
    /// Tags (replace).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Custom field values (merged by id).
    #[serde(default)]
    pub custom_fields: Option<Vec<TicketFieldValue>>,
    /// Safe-update flag.
    #[serde(default)]
    pub safe_update: Option<bool>,
    /// Expected `updated_at` for a safe update.
    #[serde(default)]
    pub updated_stamp: Option<String>,
}

/// One row of a job's `results` (§6.2): every field optional, shapes differ per resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    /// Position in the request (failed rows, and some resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Action name (`update`, `delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Record id (junk on failed create_or_update_many rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// `Created`, `Updated`, `Deleted` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Success flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// Error code of a failed row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Error message of a failed row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Email (create_or_update_many rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A job status (§6.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobStatus {
    /// Opaque `V3-…` id.
    pub id: String,
    /// Poll URL.
    pub url: String,
    /// Number of tasks.
    pub total: Option<u64>,
    /// Null while queued.
    pub progress: Option<u64>,
    /// `queued`, `working`, `completed` or `failed`.
    pub status: String,
    /// Progress or completion message.
    pub message: Option<String>,
    /// Rows (or one object), null until completed.
    pub results: Option<JobResults>,
}

/// `results` of a completed job (§6.1): a list of rows, or one object such as
/// `{"success": true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JobResults {
    /// One row per item.
    Rows(Vec<JobRow>),
    /// One object for the whole job.
    Object(Map<String, Value>),
}
