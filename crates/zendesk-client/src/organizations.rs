//! Organizations (reference §4): list, show, show_many, bulk create/update/destroy, an
//! org's users, and the custom field definitions with their drop-down options.

use crate::client::{Client, Request};
use crate::ids::{join_ids, FieldId, OrgId};
use crate::jobs::{bulk_request, check_batch_len, submit, JobHandle};
use crate::page::{items, page_envelope};
use crate::retry::Safety;
use crate::users::User;
use crate::wire_enum::wire_enum;
use crate::Result;
use futures::stream::BoxStream;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// An organization. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Its name (unique per account).
    pub name: String,
    /// The external id, a string or null.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Its tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Custom field values keyed by field key; null values mean unset.
    #[serde(default, deserialize_with = "null_as_default")]
    pub organization_fields: Map<String, Value>,
    /// Domain names.
    #[serde(default, deserialize_with = "null_as_default")]
    pub domain_names: Vec<String>,
    /// Details text.
    #[serde(default)]
    pub details: Option<String>,
    /// Notes text.
    #[serde(default)]
    pub notes: Option<String>,
    /// Default group.
    #[serde(default)]
    pub group_id: Option<u64>,
    /// Creation time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Last update time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// Reads `null` as the type's default (an empty map or list).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A new organization for `create_many`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct NewOrganization {
    /// The name.
    pub name: String,
    /// The external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Custom field values by key.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub organization_fields: Map<String, Value>,
}

/// One org's change for `update_many` (batch form). Only the fields set are sent; `tags`,
/// when set, replaces all the org's tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganizationUpdate {
    /// The org to change.
    pub id: OrgId,
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The full new tag list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Custom field values to set (only the keys given change).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub organization_fields: Map<String, Value>,
}

impl OrganizationUpdate {
    /// A change to org `id` that changes nothing yet.
    ///
    /// ```
    /// use zendesk_client::{OrgId, OrganizationUpdate};
    /// let u = OrganizationUpdate { name: Some("Acme".into()), ..OrganizationUpdate::new(OrgId(7)) };
    /// assert_eq!(serde_json::to_string(&u).expect("json"), r#"{"id":7,"name":"Acme"}"#);
    /// ```
    pub fn new(id: OrgId) -> Self {
        OrganizationUpdate {
            id,
            name: None,
            external_id: None,
            tags: None,
            organization_fields: Map::new(),
        }
    }
}

wire_enum!(
    /// A custom field's type.
    FieldType {
        /// Single-line text.
        Text => "text",
        /// Multi-line text.
        Textarea => "textarea",
        /// Checkbox.
        Checkbox => "checkbox",
        /// Date.
        Date => "date",
        /// Integer.
        Integer => "integer",
        /// Decimal.
        Decimal => "decimal",
        /// Regular expression.
        Regexp => "regexp",
        /// Drop-down.
        Dropdown => "dropdown",
        /// Multi-select.
        Multiselect => "multiselect",
        /// Lookup relationship.
        Lookup => "lookup",
    }
);

/// An organization custom field definition.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrganizationField {
    /// Its id.
    pub id: FieldId,
    /// Its key, as used in `organization_fields`.
    pub key: String,
    /// Its type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
    /// Whether active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Drop-down and multi-select options.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_field_options: Vec<FieldOption>,
    /// For checkboxes: the tag added when checked.
    #[serde(default)]
    pub tag: Option<String>,
}

/// A drop-down option: `value` is what is written and the tag Zendesk adds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FieldOption {
    /// Option id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Display name.
    pub name: String,
    /// Value (tag).
    pub value: String,
}

page_envelope!(OrgPage, organizations, Organization);
page_envelope!(OrgUserPage, users, User);

#[derive(Deserialize)]
struct OneOrg {
    organization: Organization,
}

#[derive(Deserialize)]
struct OrgList {
    organizations: Vec<Organization>,
}

#[derive(Deserialize)]
struct FieldList {
    organization_fields: Vec<OrganizationField>,
    #[serde(default)]
    next_page: Option<String>,
}

/// The organizations handler.
#[derive(Debug, Clone)]
pub struct Organizations {
    client: Client,
}

impl Organizations {
    pub(crate) fn new(client: Client) -> Self {
        Organizations { client }
    }

    /// Every organization, page by page (`GET organizations?page[size]=100`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut orgs = client.organizations().list();
    /// while let Some(org) = orgs.try_next().await? {
    ///     println!("{} {}", org.id, org.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> BoxStream<'static, Result<Organization>> {
        items::<OrgPage>(
            self.client.clone(),
            Request::get("organizations.json", "GET organizations"),
        )
    }

    /// One organization (`GET organizations/{id}`); unknown ids are [`Error::NotFound`].
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let org = client.organizations().show(zendesk_client::OrgId(42)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn show(&self, id: OrgId) -> Result<Organization> {
        let req = Request::get(format!("organizations/{id}.json"), "GET organizations/{id}");
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<OneOrg>()?
            .organization)
    }

    /// Up to 100 organizations by id (`GET organizations/show_many?ids=`), in Zendesk's
    /// order, not the request's.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::OrgId;
    /// let orgs = client.organizations().show_many(&[OrgId(1), OrgId(2)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn show_many(&self, ids: &[OrgId]) -> Result<Vec<Organization>> {
        self.show_many_by("ids", join_ids(ids), ids.len()).await
    }

    /// Up to 100 organizations by external id (`GET organizations/show_many?external_ids=`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let ids = vec!["A-1".to_string(), "A-2".to_string()];
    /// let orgs = client.organizations().show_many_by_external_ids(&ids).await?;
    /// # Ok(()) }
    /// ```
    pub async fn show_many_by_external_ids(&self, ids: &[String]) -> Result<Vec<Organization>> {
        self.show_many_by("external_ids", ids.join(","), ids.len())
            .await
    }

    async fn show_many_by(&self, key: &str, joined: String, n: usize) -> Result<Vec<Organization>> {
        check_batch_len(n)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let req = Request::get(
            "organizations/show_many.json",
            "GET organizations/show_many",
        )
        .query(key, joined);
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<OrgList>()?
            .organizations)
    }

    /// Submits up to 100 creates as one job (`POST organizations/create_many`). Waits for a
    /// free job slot first. Never repeated blindly: a lost answer is
    /// [`Error::WriteOutcomeUnknown`].
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::NewOrganization;
    /// let job = client
    ///     .organizations()
    ///     .create_many(vec![NewOrganization { name: "Acme".into(), ..Default::default() }])
    ///     .await?;
    /// let reports = client.jobs().wait_all(vec![job]).await;
    /// # Ok(()) }
    /// ```
    pub async fn create_many(&self, orgs: Vec<NewOrganization>) -> Result<JobHandle> {
        check_batch_len(orgs.len())?;
        let req = bulk_request(
            Method::POST,
            "organizations/create_many.json",
            "POST organizations/create_many",
            "organizations",
            &orgs,
            Safety::Write,
        )?;
        submit(&self.client, req, orgs.len()).await
    }

    /// Submits up to 100 per-org changes as one job (`PUT organizations/update_many`,
    /// batch form `{"organizations":[{id, …}]}`). Setting values is idempotent, so this is
    /// repeated on server errors.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::{OrgId, OrganizationUpdate};
    /// let change = OrganizationUpdate { name: Some("Acme Inc".into()), ..OrganizationUpdate::new(OrgId(7)) };
    /// let job = client.organizations().update_many(vec![change]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_many(&self, updates: Vec<OrganizationUpdate>) -> Result<JobHandle> {
        check_batch_len(updates.len())?;
        let req = bulk_request(
            Method::PUT,
            "organizations/update_many.json",
            "PUT organizations/update_many",
            "organizations",
            &updates,
            Safety::Idempotent,
        )?;
        submit(&self.client, req, updates.len()).await
    }

    /// Submits up to 100 deletions as one job (`DELETE organizations/destroy_many?ids=`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let job = client.organizations().destroy_many(&[zendesk_client::OrgId(9)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn destroy_many(&self, ids: &[OrgId]) -> Result<JobHandle> {
        check_batch_len(ids.len())?;
        let req = Request::write(
            Method::DELETE,
            "organizations/destroy_many.json",
            "DELETE organizations/destroy_many",
            Safety::Write,
        )
        .query("ids", join_ids(ids));
        submit(&self.client, req, ids.len()).await
    }

    /// The users of one organization, page by page (`GET organizations/{id}/users`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let users: Vec<_> = client.organizations().users(zendesk_client::OrgId(7)).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn users(&self, id: OrgId) -> BoxStream<'static, Result<User>> {
        items::<OrgUserPage>(
            self.client.clone(),
            Request::get(
                format!("organizations/{id}/users.json"),
                "GET organizations/{id}/users",
            ),
        )
    }

    /// All organization field definitions with their drop-down options
    /// (`GET organization_fields`, following `next_page` if the list is paged).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// for field in client.organizations().fields().await? {
    ///     let values: Vec<_> = field.custom_field_options.iter().map(|o| &o.value).collect();
    ///     println!("{} ({}): {values:?}", field.key, field.field_type);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fields(&self) -> Result<Vec<OrganizationField>> {
        let mut all = Vec::new();
        let mut next = Some("organization_fields.json".to_owned());
        let mut seen = std::collections::HashSet::new();
        while let Some(path) = next.take() {
            if !seen.insert(path.clone()) {
                break;
            }
            let page = self
                .client
                .execute(Request::get(path, "GET organization_fields"))
                .await?
                .decode::<FieldList>()?;
            all.extend(page.organization_fields);
            next = page.next_page;
        }
        Ok(all)
    }
}
