//! A typed async client for the Salesforce REST API: OAuth flows, query streams that
//! follow `nextRecordsUrl` (child relationships included), sObject writes, composite
//! collections, typed errors and a retry policy.
//!
//! The wire contract is `shared/reference/salesforce-api.md`.
//!
//! ```no_run
//! use futures::StreamExt;
//! use sfdc_client::{Client, Credentials};
//! # async fn f() -> Result<(), sfdc_client::Error> {
//! let client = Client::builder()
//!     .login_url("https://acme.my.salesforce.com")
//!     .credentials(Credentials::ClientCredentials {
//!         client_id: "3MVG9...".into(),
//!         client_secret: "secret".to_owned().into(),
//!     })
//!     .build()?;
//! let mut rows = std::pin::pin!(client.query::<serde_json::Value>("SELECT Id FROM Account"));
//! while let Some(row) = rows.next().await {
//!     println!("{:?}", row?);
//! }
//! println!("{:?}", client.call_counts());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

mod auth;
mod client;
mod collections;
mod error;
mod http;
mod limits;
mod query;
mod retry;
mod sobjects;

pub use auth::{Credentials, JwtClaims};
pub use client::{
    Client, ClientBuilder, DEFAULT_API_VERSION, DEFAULT_LOGIN_URL, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_RUN_RETRY_BUDGET,
};
pub use collections::{CollectionRecord, CollectionResult, MAX_COLLECTION_RECORDS};
pub use error::{ApiErrorItem, Error, TransportKind};
pub use limits::{parse_limit_info, ApiUsage, RequestKind};
pub use query::{encode_q, QueryItem, QueryPage, QueryTotal, RecordError};
pub use retry::{parse_retry_after, RetryPolicy, MAX_RETRY_AFTER};
pub use secrecy::SecretString;
pub use sobjects::{SaveResult, UpsertOutcome};
