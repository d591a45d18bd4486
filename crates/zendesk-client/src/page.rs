//! Cursor pagination (reference §3.1): one `CursorPage<T>` and one stream over all pages.
//! Requests carry `page[size]=100`; the end is `meta.has_more == false` — the last page
//! still carries a non-null `links.next`, which must never be followed or trusted.

use crate::client::{Client, Request};
use crate::{Error, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Records per page; Zendesk's maximum.
pub(crate) const PAGE_SIZE: &str = "100";

/// One page of a cursor-paginated list.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// `meta.has_more`: whether another page follows.
    pub has_more: bool,
    /// `meta.after_cursor`: where the next page starts.
    pub after_cursor: Option<String>,
}

/// `meta` of a cursor page.
#[derive(Deserialize)]
pub(crate) struct Meta {
    has_more: bool,
    #[serde(default)]
    after_cursor: Option<String>,
}

/// A page's envelope with its records under a resource-specific key.
pub(crate) trait Envelope: DeserializeOwned {
    /// The record type.
    type Item;
    /// Splits into records and `meta`.
    fn into_parts(self) -> (Vec<Self::Item>, Meta);
}

/// Declares a page envelope struct `{ <key>: [T], meta: {...} }`.
macro_rules! page_envelope {
    ($name:ident, $key:ident, $item:ty) => {
        #[derive(serde::Deserialize)]
        pub(crate) struct $name {
            $key: Vec<$item>,
            meta: $crate::page::Meta,
        }

        impl $crate::page::Envelope for $name {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, $crate::page::Meta) {
                (self.$key, self.meta)
            }
        }
    };
}
pub(crate) use page_envelope;

enum State {
    Next(Option<String>),
    Done,
}

/// Streams every page of `first` (a GET; `page[size]` is added), following
/// `page[after]` until `meta.has_more` is false.
pub(crate) fn pages<E>(
    client: Client,
    first: Request,
) -> BoxStream<'static, Result<CursorPage<E::Item>>>
where
    E: Envelope + Send + 'static,
    E::Item: Send + 'static,
{
    stream::try_unfold(State::Next(None), move |state| {
        let client = client.clone();
        let first = first.clone();
        async move {
            let cursor = match state {
                State::Done => return Ok(None),
                State::Next(c) => c,
            };
            let mut req = first.query("page[size]", PAGE_SIZE);
            if let Some(c) = &cursor {
                req = req.query("page[after]", c.clone());
            }
            let answer = client.execute(req).await?;
            let (items, meta) = answer.decode::<E>()?.into_parts();
            let next = if meta.has_more {
                match meta.after_cursor {
                    Some(c) if Some(&c) != cursor.as_ref() => State::Next(Some(c)),
                    // has_more without a fresh cursor would loop forever.
                    other => {
                        return Err(Error::Decode {
                            url: answer.url,
                            path: "meta.after_cursor".into(),
                            message: format!("has_more is true but after_cursor is {other:?}"),
                            body: String::new(),
                        })
                    }
                }
            } else {
                State::Done
            };
            let page = CursorPage {
                items,
                has_more: meta.has_more,
                after_cursor: match &next {
                    State::Next(c) => c.clone(),
                    State::Done => None,
                },
            };
            Ok(Some((page, next)))
        }
    })
    .boxed()
}

/// Streams every record of every page.
pub(crate) fn items<E>(client: Client, first: Request) -> BoxStream<'static, Result<E::Item>>
where
    E: Envelope + Send + 'static,
    E::Item: Send + 'static,
{
    pages::<E>(client, first)
        .map_ok(|p| stream::iter(p.items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}
