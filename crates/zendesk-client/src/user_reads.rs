//! The user reads that size and make one scan of the users (reference §5.10–§5.12):
//! `users/count` (an estimate), the deleted users (cursor pages), and the cursor-based
//! incremental user export (1,000 a page, its own 10 requests a minute).

use crate::client::Request;
use crate::page::{items, page_envelope};
use crate::users::{Role, User, Users};
use crate::{Error, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Deserialize;

page_envelope!(DeletedUserPage, deleted_users, User);

#[derive(Deserialize)]
struct CountAnswer {
    count: CountValue,
}

#[derive(Deserialize)]
struct CountValue {
    value: u64,
}

#[derive(Deserialize)]
struct IncrementalUserPage {
    users: Vec<User>,
    #[serde(default)]
    after_cursor: Option<String>,
    #[serde(default)]
    end_of_stream: bool,
}

/// Records per page asked of the incremental export (its maximum).
const EXPORT_PER_PAGE: &str = "1000";

impl Users {
    /// The number of users, optionally of one role (`GET users/count?role=…`): an
    /// estimate (\[UNCONFIRMED\], cached past about 100,000 users), for sizing a scan only.
    /// Another shape than `{"count":{"value":N}}` is [`Error::Decode`].
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// let about = client.users().count(Some(zendesk_client::Role::EndUser)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn count(&self, role: Option<Role>) -> Result<u64> {
        let mut req = Request::get("users/count.json", "GET users/count");
        if let Some(role) = role {
            req = req.query("role", role.as_str());
        }
        Ok(self
            .client
            .execute(req)
            .await?
            .decode::<CountAnswer>()?
            .count
            .value)
    }

    /// The deleted users, soft and permanently deleted (`GET deleted_users`, cursor pages
    /// of 100). A permanently deleted user has no email.
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let deleted: Vec<_> = client.users().deleted().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn deleted(&self) -> BoxStream<'static, Result<User>> {
        items::<DeletedUserPage>(
            self.client.clone(),
            Request::get("deleted_users.json", "GET deleted_users"),
        )
    }

    /// Every user of the cursor-based incremental export from `start_time` (unix
    /// seconds; 0 for all): `GET incremental/users/cursor.json?start_time=…&per_page=1000`,
    /// then `?cursor=` until `end_of_stream`. Deleted users may appear (`active: false`).
    ///
    /// ```no_run
    /// # async fn demo(client: zendesk_client::Client) -> zendesk_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let all: Vec<_> = client.users().incremental(0).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn incremental(&self, start_time: i64) -> BoxStream<'static, Result<User>> {
        let client = self.client.clone();
        let first = ("start_time".to_owned(), start_time.to_string());
        stream::try_unfold(Some(first), move |param| {
            let client = client.clone();
            async move {
                let Some((key, value)) = param else {
                    return Ok(None);
                };
                let req = Request::get(
                    "incremental/users/cursor.json",
                    "GET incremental/users/cursor",
                )
                .query(&key, value.clone())
                .query("per_page", EXPORT_PER_PAGE);
                let answer = client.execute(req).await?;
                let page = answer.decode::<IncrementalUserPage>()?;
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
                Ok(Some((page.users, next)))
            }
        })
        .map_ok(|users| stream::iter(users.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}
