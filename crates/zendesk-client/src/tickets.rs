//! Tickets (reference §7): show (with the requester and organization sideloaded, falling
//! back to separate reads when a sideload is absent), update (with safe update), and the
//! cursor-based incremental ticket export, which ends on `end_of_stream`, never on a
//! missing link (§4.14, §5.10).

use crate::client::{Client, Request};
use crate::ids::{OrgId, TicketId, UserId};
use crate::organizations::{null_as_default, Organization};
use crate::retry::Safety;
use crate::users::User;
use crate::wire_enum::wire_enum;
use crate::{Error, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

wire_enum!(
    /// A ticket's status.
    TicketStatus {
        /// New.
        New => "new",
        /// Open.
        Open => "open",
        /// Pending.
        Pending => "pending",
        /// On hold.
        Hold => "hold",
        /// Solved.
        Solved => "solved",
        /// Closed.
        Closed => "closed",
        /// Deleted (seen in exports).
        Deleted => "deleted",
    }
);

wire_enum!(
    /// A ticket's priority.
    TicketPriority {
        /// Urgent.
        Urgent => "urgent",
        /// High.
        High => "high",
        /// Normal.
        Normal => "normal",
        /// Low.
        Low => "low",
    }
);

/// A ticket custom field value: `{id, value}`, value of any JSON type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    /// The ticket field id.
    pub id: u64,
    /// Its value (string, array, number, boolean or null).
    #[serde(default)]
    pub value: Value,
}

/// A ticket. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ticket {
    /// Its id.
    pub id: TicketId,
    /// API URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// The first comment's text.
    #[serde(default)]
    pub description: Option<String>,
    /// Status.
    pub status: TicketStatus,
    /// Priority, if set.
    #[serde(default)]
    pub priority: Option<TicketPriority>,
    /// The requester.
    #[serde(default)]
    pub requester_id: Option<UserId>,
    /// The submitter.
    #[serde(default)]
    pub submitter_id: Option<UserId>,
    /// The assignee.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// The organization.
    #[serde(default)]
    pub organization_id: Option<OrgId>,
    /// The group.
    #[serde(default)]
    pub group_id: Option<u64>,
    /// External id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Custom field values.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Vec<CustomFieldValue>,
    /// Creation time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Last update time (the `updated_stamp` of a safe update).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// A ticket with its requester and organization.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketWithRelated {
    /// The ticket.
    pub ticket: Ticket,
    /// Its requester, if it has one.
    pub requester: Option<User>,
    /// Its organization, if it has one.
    pub organization: Option<Organization>,
}

/// A comment to add with an update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketComment {
    /// The text.
    pub body: String,
    /// Visible to the requester.
    pub public: bool,
}

/// A ticket change; only the fields set are sent. `tags` replaces all tags.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TicketUpdate {
    /// New status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    /// The full new tag list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Custom field values to set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    /// A comment to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<TicketComment>,
    /// Safe update: the `updated_at` the change was based on; a mismatch is
    /// [`Error::StaleUpdate`] (409).
    #[serde(
        rename = "updated_stamp",
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub safe_update_stamp: Option<OffsetDateTime>,
    /// `true` for a safe update; set together with the stamp by [`TicketUpdate::safe`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_update: Option<bool>,
}

impl TicketUpdate {
    /// Makes this a safe update against the ticket's `updated_at`.
    ///
    /// ```
    /// use time::macros::datetime;
    /// let u = zendesk_client::TicketUpdate::default().safe(datetime!(2023-09-18 23:37:03 UTC));
    /// let json = serde_json::to_string(&u).expect("serializes");
    /// assert_eq!(json, r#"{"updated_stamp":"2023-09-18T23:37:03Z","safe_update":true}"#);
    /// ```
    pub fn safe(mut self, updated_at: OffsetDateTime) -> Self {
        self.safe_update_stamp = Some(updated_at);
        self.safe_update = Some(true);
        self
    }
}

/// One page of the incremental ticket export.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IncrementalTicketPage {
    /// Tickets changed in this slice.
    pub tickets: Vec<Ticket>,
    /// The cursor of the next page; save it to resume a later run.
    #[serde(default)]
    pub after_cursor: Option<String>,
    /// Whether this is the last page (the only end signal).
    pub end_of_stream: bool,
}

#[derive(Deserialize)]
struct OneTicket {
    ticket: Ticket,
    #[serde(default)]
    users: Option<Vec<User>>,
    #[serde(default)]
    organizations: Option<Vec<Organization>>,
}

/// The tickets handler.
#[derive(Debug, Clone)]
pub struct Tickets {
    client: Client,
}

impl Tickets {
    pub(crate) fn new(client: Client) -> Self {
        Tickets { client }
    }

    /// One ticket (`GET tickets/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let ticket = client.tickets().show(zendesk_client::TicketId(1234)).await?;
    /// println!("{} is {}", ticket.id, ticket.status);
    /// # Ok(()) }
    /// ```
    pub async fn show(&self, id: TicketId) -> Result<Ticket> {
        let req = Request::get(format!("tickets/{id}.json"), "GET tickets/{id}");
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<OneTicket>()?
            .ticket)
    }

    /// One ticket with its requester and organization: `GET tickets/{id}?include=users,organizations`,
    /// reading the requester or organization separately when the answer does not sideload it.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let t = client.tickets().show_with_related(zendesk_client::TicketId(1234)).await?;
    /// let sfid = t.organization.as_ref().and_then(|o| o.organization_fields.get("salesforce_id"));
    /// # Ok(()) }
    /// ```
    pub async fn show_with_related(&self, id: TicketId) -> Result<TicketWithRelated> {
        let req = Request::get(format!("tickets/{id}.json"), "GET tickets/{id}")
            .query("include", "users,organizations");
        let OneTicket {
            ticket,
            users,
            organizations,
        } = self.client.execute(req).await?.decode::<OneTicket>()?;
        let requester = match ticket.requester_id {
            None => None,
            Some(uid) => match users.and_then(|us| us.into_iter().find(|u| u.id == uid)) {
                Some(u) => Some(u),
                None => Some(self.client.users().show(uid).await?),
            },
        };
        let organization = match ticket.organization_id {
            None => None,
            Some(oid) => match organizations.and_then(|os| os.into_iter().find(|o| o.id == oid)) {
                Some(o) => Some(o),
                None => Some(self.client.organizations().show(oid).await?),
            },
        };
        Ok(TicketWithRelated {
            ticket,
            requester,
            organization,
        })
    }

    /// Updates one ticket (`PUT tickets/{id}`). Not repeated on server errors (a comment
    /// could be added twice): a lost answer is [`Error::WriteOutcomeUnknown`]. A closed
    /// ticket answers 422 ([`Error::Api`]); a stale safe update [`Error::StaleUpdate`].
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::{TicketId, TicketUpdate};
    /// let t = client.tickets().show(TicketId(1)).await?;
    /// let mut change = TicketUpdate { tags: Some(vec!["synced".into()]), ..Default::default() };
    /// if let Some(stamp) = t.updated_at {
    ///     change = change.safe(stamp);
    /// }
    /// let updated = client.tickets().update(TicketId(1), change).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: TicketId, update: TicketUpdate) -> Result<Ticket> {
        let req = Request::write(
            Method::PUT,
            format!("tickets/{id}.json"),
            "PUT tickets/{id}",
            Safety::Write,
        )
        .json(serde_json::json!({ "ticket": update }));
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<OneTicket>()?
            .ticket)
    }

    /// The cursor-based incremental ticket export from `start_time` (unix seconds, at least
    /// a minute ago): `GET incremental/tickets/cursor.json?start_time=…`, then `?cursor=`
    /// with each `after_cursor`, until `end_of_stream`.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut pages = client.tickets().incremental_export(1_700_000_000);
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("{} tickets, resume at {:?}", page.tickets.len(), page.after_cursor);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn incremental_export(
        &self,
        start_time: i64,
    ) -> BoxStream<'static, Result<IncrementalTicketPage>> {
        self.export(("start_time".to_owned(), start_time.to_string()))
    }

    /// The same export resumed from a saved `after_cursor`.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client, saved: String) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let tickets: Vec<_> = client.tickets().incremental_export_from_cursor(saved).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn incremental_export_from_cursor(
        &self,
        cursor: String,
    ) -> BoxStream<'static, Result<IncrementalTicketPage>> {
        self.export(("cursor".to_owned(), cursor))
    }

    fn export(&self, first: (String, String)) -> BoxStream<'static, Result<IncrementalTicketPage>> {
        let client = self.client.clone();
        stream::try_unfold(Some(first), move |param| {
            let client = client.clone();
            async move {
                let Some((key, value)) = param else {
                    return Ok(None);
                };
                let req = Request::get(
                    "incremental/tickets/cursor.json",
                    "GET incremental/tickets/cursor",
                )
                .query(&key, value.clone());
                let answer = client.execute(req).await?;
                let page = answer.decode::<IncrementalTicketPage>()?;
                let next = if page.end_of_stream {
                    None
                } else {
                    match &page.after_cursor {
                        Some(c) if !(key == "cursor" && *c == value) => {
                            Some(("cursor".to_owned(), c.clone()))
                        }
                        other => {
                            return Err(Error::Decode {
                                url: answer.url,
                                path: "after_cursor".into(),
                                message: format!(
                                    "end_of_stream is false but after_cursor is {other:?}"
                                ),
                                body: String::new(),
                            })
                        }
                    }
                };
                Ok(Some((page, next)))
            }
        })
        .boxed()
    }

    /// Every ticket of the export from `start_time`, flattened.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let changed: Vec<_> = client.tickets().incremental_tickets(1_700_000_000).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn incremental_tickets(&self, start_time: i64) -> BoxStream<'static, Result<Ticket>> {
        self.incremental_export(start_time)
            .map_ok(|p| stream::iter(p.tickets.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}
