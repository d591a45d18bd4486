//! The simulated Zendesk Support API.
