//! End-to-end tests of `salesforce-cases`: the real binary against the sandbox's
//! simulated Salesforce and Zendesk on loopback.

mod suite;
