//! A typed async client for the Zendesk Support API: cursor pagination, organizations,
//! users, tickets, bulk jobs polled together, a rate limiter, and webhook signature
//! verification.
//!
//! The wire contract is `shared/reference/zendesk-api.md`.
