//! The edge between the clients' wire types and sync-core's own: every conversion
//! from a Zendesk client type into the type the rules take happens here, once, and
//! back for the ids the writes send.

use serde::Deserialize as _;
use sync_core::cases::TicketPriority;
use sync_core::ids::{ZendeskOrgId, ZendeskUserId};
use sync_core::value::FieldValue;
use sync_core::zendesk::{
    FieldOption, OrgFields, Role, SharedFieldKeys, ZendeskOrg, ZendeskOrgField, ZendeskUser,
};

/// sync-core's id of an organization the client names.
pub const fn org_id(id: zendesk_client::OrgId) -> ZendeskOrgId {
    ZendeskOrgId(id.0)
}

/// The client's id of an organization sync-core names.
pub const fn client_org_id(id: ZendeskOrgId) -> zendesk_client::OrgId {
    zendesk_client::OrgId(id.0)
}

/// sync-core's id of a user the client names.
pub const fn user_id(id: zendesk_client::UserId) -> ZendeskUserId {
    ZendeskUserId(id.0)
}

/// The client's id of a user sync-core names.
pub const fn client_user_id(id: ZendeskUserId) -> zendesk_client::UserId {
    zendesk_client::UserId(id.0)
}

/// The sync's view of an organization the client read. A custom field value of a
/// shape the sync does not know is kept as [`FieldValue::Other`]; unset (`null`)
/// fields are left out. The field keys come from `keys`, one copy shared by every org
/// read (issue 13: compact records).
pub fn zendesk_org(org: zendesk_client::Organization, keys: &mut SharedFieldKeys) -> ZendeskOrg {
    let mut tags = org.tags;
    tags.shrink_to_fit();
    ZendeskOrg {
        id: org_id(org.id),
        name: org.name,
        tags,
        organization_fields: OrgFields::from_iter_shared(
            org.organization_fields
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let value = match FieldValue::deserialize(&v) {
                        Ok(value) => value,
                        Err(_) => FieldValue::Other(Box::new(v)),
                    };
                    (k, value)
                }),
            keys,
        ),
        created_at: org.created_at,
    }
}

/// The sync's view of a user the client read: a compact typed record (its custom
/// fields, which the rules never read, are dropped).
pub fn zendesk_user(user: zendesk_client::User) -> ZendeskUser {
    let role = match user.role.as_str() {
        "end-user" => Role::EndUser,
        "agent" => Role::Agent,
        "admin" => Role::Admin,
        other => Role::Other(other.to_string()),
    };
    ZendeskUser {
        id: user_id(user.id),
        name: user.name,
        email: user.email,
        role,
        organization_id: user.organization_id.map(org_id),
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

/// The rules' view of a ticket priority.
pub fn ticket_priority(priority: &zendesk_client::TicketPriority) -> TicketPriority {
    match priority {
        zendesk_client::TicketPriority::Urgent => TicketPriority::Urgent,
        zendesk_client::TicketPriority::High => TicketPriority::High,
        zendesk_client::TicketPriority::Normal => TicketPriority::Normal,
        zendesk_client::TicketPriority::Low => TicketPriority::Low,
        zendesk_client::TicketPriority::Other(other) => TicketPriority::Other(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cross_the_edge_unchanged_both_ways() {
        for n in [0, 1, 360_000_000_123, u64::MAX] {
            let org = org_id(zendesk_client::OrgId(n));
            assert_eq!(org, ZendeskOrgId(n));
            assert_eq!(client_org_id(org), zendesk_client::OrgId(n));
            let user = user_id(zendesk_client::UserId(n));
            assert_eq!(user, ZendeskUserId(n));
            assert_eq!(client_user_id(user), zendesk_client::UserId(n));
        }
    }

    #[test]
    fn a_client_user_keeps_its_ids() {
        let user: zendesk_client::User = serde_json::from_value(serde_json::json!({
            "id": 41, "name": "N", "email": "n@x.example", "role": "end-user",
            "organization_id": 7
        }))
        .unwrap();
        let user = zendesk_user(user);
        assert_eq!(
            (user.id, user.organization_id),
            (ZendeskUserId(41), Some(ZendeskOrgId(7)))
        );
    }
}
