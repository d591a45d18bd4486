//! Users (reference §5): list, search by email, show, single create / create_or_update,
//! and the bulk jobs. Bulk user endpoints answer 403 where bulk import is switched off,
//! but a 403 can as well be a missing permission and its body is [UNCONFIRMED]: the
//! client does not guess, every 403 is [`Error::Forbidden`] with its body, and the caller
//! tells the two apart by trying one single `create_or_update`.

use crate::client::{Client, Request};
use crate::ids::{OrgId, UserId};
use crate::jobs::{bulk_request, check_batch_len, submit, JobHandle};
use crate::organizations::null_as_default;
use crate::page::{items, page_envelope};
use crate::retry::Safety;
use crate::wire_enum::wire_enum;
use crate::{Error, Result};
use futures::stream::BoxStream;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

wire_enum!(
    /// A user's role.
    Role {
        /// A customer.
        EndUser => "end-user",
        /// An agent.
        Agent => "agent",
        /// An administrator.
        Admin => "admin",
    }
);

/// A user. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its name.
    pub name: String,
    /// Its primary email, if any.
    #[serde(default)]
    pub email: Option<String>,
    /// Its role (`end-user` by default).
    #[serde(default = "default_role")]
    pub role: Role,
    /// Its default organization.
    #[serde(default)]
    pub organization_id: Option<OrgId>,
    /// The external id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Its tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Whether active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Whether suspended.
    #[serde(default)]
    pub suspended: Option<bool>,
    /// Custom field values by key.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_fields: Map<String, Value>,
    /// Creation time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Last update time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

fn default_role() -> Role {
    Role::EndUser
}

/// A user to create (or create-or-update, matched by email or external id).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct NewUser {
    /// The name.
    pub name: String,
    /// The email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The role; Zendesk defaults to `end-user`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The default organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrgId>,
    /// The external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Suppress the verification email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify_email: Option<bool>,
}

/// One user's change for `update_many` (batch form). Only the fields set are sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserUpdate {
    /// The user to change.
    pub id: UserId,
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A new default organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrgId>,
}

impl UserUpdate {
    /// A change to user `id` that changes nothing yet.
    ///
    /// ```
    /// use zendesk_client::{OrgId, UserId, UserUpdate};
    /// let u = UserUpdate { organization_id: Some(OrgId(7)), ..UserUpdate::new(UserId(3)) };
    /// assert_eq!(serde_json::to_string(&u).expect("json"), r#"{"id":3,"organization_id":7}"#);
    /// ```
    pub fn new(id: UserId) -> Self {
        UserUpdate {
            id,
            name: None,
            email: None,
            organization_id: None,
        }
    }
}

/// The answer of a single `create_or_update`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertedUser {
    /// The user as stored.
    pub user: User,
    /// `true` on 201 (created), `false` on 200 (updated).
    pub created: bool,
}

page_envelope!(UserPage, users, User);

#[derive(Deserialize)]
struct OneUser {
    user: User,
}

#[derive(Deserialize)]
struct UserList {
    users: Vec<User>,
}

/// The users handler.
#[derive(Debug, Clone)]
pub struct Users {
    pub(crate) client: Client,
}

impl Users {
    pub(crate) fn new(client: Client) -> Self {
        Users { client }
    }

    /// Every user, optionally of one role, page by page (`GET users?role=…&page[size]=100`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// use zendesk_client::Role;
    /// let end_users: Vec<_> = client.users().list(Some(Role::EndUser)).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self, role: Option<Role>) -> BoxStream<'static, Result<User>> {
        let mut req = Request::get("users.json", "GET users");
        if let Some(role) = role {
            req = req.query("role", role.as_str());
        }
        items::<UserPage>(self.client.clone(), req)
    }

    /// Users whose email matches (`GET users/search?query=email:"…"`); normally zero or one.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let found = client.users().search_by_email("ada@example.com").await?;
    /// # Ok(()) }
    /// ```
    pub async fn search_by_email(&self, email: &str) -> Result<Vec<User>> {
        if email.contains('"') {
            return Err(Error::InvalidInput(format!(
                "email {email:?} contains a quote"
            )));
        }
        let req = Request::get("users/search.json", "GET users/search")
            .query("query", format!("email:\"{email}\""));
        Ok(self.client.execute(req).await?.decode::<UserList>()?.users)
    }

    /// One user (`GET users/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let user = client.users().show(zendesk_client::UserId(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn show(&self, id: UserId) -> Result<User> {
        let req = Request::get(format!("users/{id}.json"), "GET users/{id}");
        Ok(self.client.execute(req).await?.decode::<OneUser>()?.user)
    }

    /// Up to 100 users by id (`GET users/show_many?ids=`, reference §5.8), in Zendesk's
    /// order; ids that do not exist are simply absent.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::UserId;
    /// let users = client.users().show_many(&[UserId(5), UserId(6)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn show_many(&self, ids: &[UserId]) -> Result<Vec<User>> {
        check_batch_len(ids.len())?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let req = Request::get("users/show_many.json", "GET users/show_many")
            .query("ids", crate::ids::join_ids(ids));
        Ok(self.client.execute(req).await?.decode::<UserList>()?.users)
    }

    /// Creates one user (`POST users`). An email already in use is
    /// [`Error::DuplicateValue`]: look the user up instead.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::{Error, NewUser};
    /// let new = NewUser { name: "Ada".into(), email: Some("ada@example.com".into()), ..Default::default() };
    /// match client.users().create(new).await {
    ///     Ok(user) => println!("created {}", user.id),
    ///     Err(Error::DuplicateValue(_)) => println!("already there"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, user: NewUser) -> Result<User> {
        let req = Request::write(Method::POST, "users.json", "POST users", Safety::Write)
            .json(serde_json::json!({ "user": user }));
        Ok(self.client.execute(req).await?.decode::<OneUser>()?.user)
    }

    /// Creates or updates one user matched by email or external id
    /// (`POST users/create_or_update`): the fallback where bulk import is disabled.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::NewUser;
    /// let new = NewUser { name: "Ada".into(), email: Some("ada@example.com".into()), ..Default::default() };
    /// let done = client.users().create_or_update(new).await?;
    /// println!("{} created: {}", done.user.id, done.created);
    /// # Ok(()) }
    /// ```
    pub async fn create_or_update(&self, user: NewUser) -> Result<UpsertedUser> {
        let req = Request::write(
            Method::POST,
            "users/create_or_update.json",
            "POST users/create_or_update",
            Safety::Write,
        )
        .json(serde_json::json!({ "user": user }));
        let answer = self.client.execute(req).await?;
        Ok(UpsertedUser {
            created: answer.status == 201,
            user: answer.decode::<OneUser>()?.user,
        })
    }

    /// Submits up to 100 creates as one job (`POST users/create_many`). A 403 is
    /// [`Error::Forbidden`] with its body, whatever it says: bulk import switched off and
    /// a missing permission look alike, so probe with one single
    /// [`create_or_update`](Users::create_or_update) before falling back.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client, users: Vec<zendesk_client::NewUser>) -> zendesk_client::Result<()> {
    /// use zendesk_client::Error;
    /// match client.users().create_many(users).await {
    ///     Ok(job) => { client.jobs().wait_all(vec![job]).await; }
    ///     Err(Error::Forbidden(_)) => { /* probe with one create_or_update, then one by one */ }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn create_many(&self, users: Vec<NewUser>) -> Result<JobHandle> {
        self.bulk(
            Method::POST,
            "users/create_many.json",
            "POST users/create_many",
            &users,
            Safety::Write,
        )
        .await
    }

    /// Submits up to 100 per-user changes as one job (`PUT users/update_many`, batch form).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use zendesk_client::{OrgId, UserId, UserUpdate};
    /// let change = UserUpdate { organization_id: Some(OrgId(7)), ..UserUpdate::new(UserId(3)) };
    /// let job = client.users().update_many(vec![change]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_many(&self, updates: Vec<UserUpdate>) -> Result<JobHandle> {
        self.bulk(
            Method::PUT,
            "users/update_many.json",
            "PUT users/update_many",
            &updates,
            Safety::Idempotent,
        )
        .await
    }

    /// Submits up to 100 create-or-updates as one job (`POST users/create_or_update_many`);
    /// rows come back in request order and a failed row's `id` is junk.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client, users: Vec<zendesk_client::NewUser>) -> zendesk_client::Result<()> {
    /// let job = client.users().create_or_update_many(users).await?;
    /// let report = client.jobs().wait_all(vec![job]).await;
    /// # Ok(()) }
    /// ```
    pub async fn create_or_update_many(&self, users: Vec<NewUser>) -> Result<JobHandle> {
        self.bulk(
            Method::POST,
            "users/create_or_update_many.json",
            "POST users/create_or_update_many",
            &users,
            Safety::Write,
        )
        .await
    }

    async fn bulk<T: Serialize>(
        &self,
        method: Method,
        path: &str,
        label: &'static str,
        items: &[T],
        safety: Safety,
    ) -> Result<JobHandle> {
        check_batch_len(items.len())?;
        let req = bulk_request(method, path, label, "users", items, safety)?;
        submit(&self.client, req, items.len()).await
    }
}
