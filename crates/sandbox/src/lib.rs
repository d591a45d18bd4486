//! Simulated Salesforce and Zendesk APIs served on loopback, so that the whole product
//! runs and is tested with no network. Independent of the client crates: its wire
//! types are written from the references.

pub mod salesforce;
pub mod zendesk;
