//! A typed async client for the Zendesk Support API: cursor pagination, organizations,
//! users, tickets, bulk jobs polled together, a rate limiter, and webhook signature
//! verification.
//!
//! The wire contract is `shared/reference/zendesk-api.md`. Start with [`ClientBuilder`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), zendesk_client::Error> {
//! use futures::TryStreamExt;
//! use zendesk_client::{Auth, Client};
//!
//! let client = Client::builder()
//!     .subdomain("example")
//!     .auth(Auth::api_token("ops@example.com", "secret-token"))
//!     .requests_per_minute(200)
//!     .build()?;
//! let orgs: Vec<_> = client.organizations().list().try_collect().await?;
//! println!("{} organizations", orgs.len());
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

mod client;
mod decode;
mod error;
mod ids;
mod jobs;
mod organizations;
mod page;
mod rate;
mod retry;
mod tickets;
mod user_reads;
mod users;
pub mod webhook;
mod wire_enum;

pub use client::{
    Auth, Client, ClientBuilder, Waits, DEFAULT_CONNECT_TIMEOUT, DEFAULT_JOB_LIMIT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_RUN_RETRY_BUDGET,
    DEFAULT_TIMEOUT,
};
pub use error::{ApiError, Error, FieldError, SignatureFailure};
pub use ids::{FieldId, JobId, OrgId, TicketId, UserId};
pub use jobs::{
    ItemOutcome, JobHandle, JobReport, JobResults, JobRow, JobState, JobStatus, Jobs, PollPolicy,
    RowVerdict, MAX_ITEMS_PER_JOB,
};
pub use organizations::{
    FieldOption, FieldType, NewOrganization, Organization, OrganizationField, OrganizationUpdate,
    Organizations,
};
pub use page::CursorPage;
pub use rate::RateHeaders;
pub use retry::{parse_retry_after, RetryPolicy, MAX_RETRY_AFTER};
pub use tickets::{
    CustomFieldValue, IncrementalTicketPage, Ticket, TicketComment, TicketPriority, TicketStatus,
    TicketUpdate, TicketWithRelated, Tickets,
};
pub use users::{NewUser, Role, UpsertedUser, User, UserUpdate, Users};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
