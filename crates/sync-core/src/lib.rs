//! The rules of the Zendesk ⇄ Salesforce sync, pure: Salesforce records into domain
//! types, mapping files, evaluation of accounts, the diff into a reviewable plan, the
//! safety guards, the user and case decisions, and the report model. No network, no
//! async runtime, no clock (every rule takes `today`), no API client: the types it
//! needs from the APIs are its own ([`ZendeskOrg`], [`ZendeskUser`],
//! [`cases::TicketPriority`]), converted at the edge by `sync-jobs`, which runs these
//! rules against the APIs.
//!
//! One org sync, as `sync-jobs` drives it:
//!
//! 1. [`Mapping::embedded`] or [`Mapping::load`], then
//!    [`Mapping::check_against_zendesk`] with the instance's `organization_fields`
//!    (exit 2 on a mismatch);
//! 2. the query ([`soql`]) records as `serde_json::Value`s and the Zendesk orgs as
//!    [`ZendeskOrg`]s, then [`plan_orgs`] (decode → evaluate → diff) gives a [`Plan`];
//! 3. [`check_guards`] (and [`guards::check_contacts_guard`]) before any write;
//! 4. sync-jobs applies the plan; sold-to users of new orgs with
//!    [`users::decide_sold_to`] (orgs that still count as new: [`users::is_new_org`]);
//!    US Federal users with [`users::plan_federal_users`];
//! 5. [`report::ReportBuilder`]: the plan(s), the guards and the
//!    [`report::Outcome`] of every planned write → the [`Report`] (`to_json`,
//!    `to_markdown`, `summary_table`).
//!
//! The cases job's rules (Case key, Case fields, the decision per ticket, the webhook
//! body) are in [`cases`].
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![deny(missing_docs)]

pub mod cases;
pub mod diff;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod field_map;
pub mod guards;
pub mod ids;
pub mod mapping;
pub mod model;
pub mod records;
pub mod report;
pub mod report_markdown;
pub mod soql;
pub mod users;
pub mod value;
pub mod zendesk;

pub use diff::{diff_orgs, plan_orgs, OrgCreate, OrgDelete, OrgPatch, OrgUpdate, Plan};
pub use error::Error;
pub use evaluate::{evaluate_account, Evaluation};
pub use field_map::FieldMap;
pub use guards::{check_guards, Guard, GuardConfig};
pub use ids::{SalesforceId, ZendeskOrgId, ZendeskUserId};
pub use mapping::{Instance, Mapping};
pub use model::{Account, Contact, DesiredOrg, DesiredOrgFields, Finding, FindingKind};
pub use records::{decode_accounts, decode_contacts};
pub use report::{Report, ReportBuilder};
pub use value::FieldValue;
pub use zendesk::{ZendeskOrg, ZendeskOrgField, ZendeskUser};
