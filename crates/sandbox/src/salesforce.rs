//! The simulated Salesforce REST API.
