//! The rules of the Zendesk ⇄ Salesforce sync: Salesforce records into domain types,
//! mapping files, evaluation of accounts, the diff into a reviewable plan, the safety
//! guards, and the report. Evaluation and diff are pure: no I/O, no clock.
#![deny(missing_docs)]

pub mod diff;
pub mod error;
pub mod evaluate;
pub mod guards;
pub mod mapping;
pub mod model;
pub mod records;
pub mod report;
pub mod soql;
pub mod users;
pub mod value;
pub mod zendesk;

pub use diff::{diff_orgs, plan_orgs, OrgCreate, OrgDelete, OrgPatch, OrgUpdate, Plan};
pub use error::Error;
pub use evaluate::{evaluate_account, Evaluation};
pub use guards::{check_guards, Guard, GuardConfig};
pub use mapping::{Instance, Mapping};
pub use model::{Account, Contact, DesiredOrg, Finding, FindingKind};
pub use records::{decode_accounts, decode_contacts};
pub use report::Report;
pub use value::FieldValue;
pub use zendesk::{ZendeskOrg, ZendeskOrgField, ZendeskUser};
