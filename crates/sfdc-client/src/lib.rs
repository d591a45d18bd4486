//! A typed async client for the Salesforce REST API: OAuth flows, query streams that
//! follow `nextRecordsUrl` (child relationships included), sObject writes, composite
//! collections, typed errors and a retry policy.
//!
//! The wire contract is `shared/reference/salesforce-api.md`.
