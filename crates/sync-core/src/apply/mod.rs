//! Applying a plan to Zendesk: the only part of sync-core that writes. Bulk jobs of
//! 100 records, submitted in windows below Zendesk's 30 queued jobs and polled
//! together; every record ends applied or failed (with Zendesk's message), and a write
//! whose answer was lost is re-read before anything is sent again (SPEC §9).
//!
//! A refused record is data for the report; an `Err` from these functions means Zendesk
//! cannot be reached or refuses us, and the run stops (exit 4).

pub mod federal_users;
pub mod orgs;
pub mod sold_to;

use zendesk_client::Error as ZdError;

use crate::value::FieldValue;
use crate::zendesk::{FieldOption, Role, ZendeskOrg, ZendeskOrgField, ZendeskUser};

/// Jobs submitted before waiting for them: below Zendesk's 30 queued jobs, so the
/// client's job slots are never all held by handles nobody is polling yet.
pub const JOB_WINDOW: usize = 25;

/// Writes that an API error stopped part-way: what was done (confirmed by job
/// results) before the error, and the error, which stops the run (exit 4). The
/// report is built from `done`, so it never claims the planned writes.
#[derive(Debug)]
pub struct Stopped<T> {
    /// What was applied, or failed, before the error.
    pub done: T,
    /// The error that stopped the writes.
    pub error: ZdError,
}

/// A record write that did not happen, with Zendesk's code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    /// The account the record is for.
    pub salesforce_id: String,
    /// Zendesk's row code (e.g. `OrganizationUpdateFailed`), or the kind of a refused call.
    pub code: String,
    /// Zendesk's message.
    pub message: String,
}

/// A short code for a refused call, in the spirit of Zendesk's row codes.
pub fn error_code(error: &ZdError) -> String {
    match error {
        ZdError::DuplicateValue(_) => "DuplicateValue",
        ZdError::WriteOutcomeUnknown { .. } => "OutcomeUnknown",
        ZdError::NotFound(_) => "RecordNotFound",
        ZdError::TooManyValues(_) => "TooManyValues",
        _ => "RequestFailed",
    }
    .to_string()
}

/// The sync's view of an organization the client read. A custom field value of a
/// shape the sync does not know is kept as [`FieldValue::Other`].
pub fn zendesk_org(org: zendesk_client::Organization) -> ZendeskOrg {
    ZendeskOrg {
        id: org.id.0,
        name: org.name,
        tags: org.tags,
        organization_fields: org
            .organization_fields
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let value = serde_json::from_value(v.clone()).unwrap_or(FieldValue::Other(v));
                (k, value)
            })
            .collect(),
        created_at: org.created_at,
    }
}

/// The sync's view of a user the client read.
pub fn zendesk_user(user: zendesk_client::User) -> ZendeskUser {
    let role = match user.role.as_str() {
        "end-user" => Role::EndUser,
        "agent" => Role::Agent,
        "admin" => Role::Admin,
        other => Role::Other(other.to_string()),
    };
    ZendeskUser {
        id: user.id.0,
        name: user.name,
        email: user.email,
        role,
        organization_id: user.organization_id.map(|o| o.0),
        tags: user.tags,
        created_at: user.created_at,
    }
}

/// The sync's view of an organization field definition.
pub fn zendesk_org_field(field: zendesk_client::OrganizationField) -> ZendeskOrgField {
    ZendeskOrgField {
        id: Some(field.id.0),
        key: field.key,
        field_type: field.field_type.as_str().to_string(),
        title: field.title,
        active: field.active.unwrap_or(true),
        tag: field.tag,
        custom_field_options: field
            .custom_field_options
            .into_iter()
            .map(|o| FieldOption {
                id: o.id,
                name: o.name,
                value: o.value,
            })
            .collect(),
    }
}
