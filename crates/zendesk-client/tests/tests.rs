//! Integration tests of the Zendesk client against httpmock servers replaying bodies in
//! the real API's shapes (`fixtures/zendesk/`). One test binary; modules per concern.

#[path = "suite/support.rs"]
mod support;

#[path = "suite/budgets.rs"]
mod budgets;
#[path = "suite/errors.rs"]
mod errors;
#[path = "suite/jobs.rs"]
mod jobs;
#[path = "suite/organizations.rs"]
mod organizations;
#[path = "suite/pagination.rs"]
mod pagination;
#[path = "suite/rate_limits.rs"]
mod rate_limits;
#[path = "suite/tickets.rs"]
mod tickets;
#[path = "suite/tolerance.rs"]
mod tolerance;
#[path = "suite/users.rs"]
mod users;
#[path = "suite/webhook.rs"]
mod webhook;
