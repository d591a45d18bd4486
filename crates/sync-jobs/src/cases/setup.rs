//! Flags and environment → a ready [`CasesJob`]: the mapping of `--instance` (or
//! `--mapping`), credentials from the environment (or the in-process sandbox with
//! `--sandbox`), a Salesforce client that sends `Sforce-Auto-Assign: FALSE`.
//!
//! `serve` builds both clients with a [`CallRetry`] from its `--max-attempts` and
//! `--retry-delay-ms`: the clients' own retry loops are the only ones (the dispatcher
//! has none), and a long-lived receiver has no run-wide retry budget to run out of.

use std::time::Duration;

use crate::cases::CasesJob;
use crate::cli::CommonArgs;
use crate::shell::{configure, SandboxHandle};
use crate::Error;
use secrecy::SecretString;
use sync_core::mapping::Instance;

/// The environment variable holding the webhook signing secret.
pub const WEBHOOK_SECRET_VAR: &str = "ZD_WEBHOOK_SECRET";

/// The longest wait between two attempts of one call.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// The shortest time budget of one call, whatever the flags.
const MIN_CALL_BUDGET: Duration = Duration::from_secs(300);

/// How the webhook receiver's clients retry one API call: `attempts` in all (the first
/// included), waiting `first_delay`, doubled each time, at most [`MAX_DELAY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRetry {
    /// Attempts per call, the first included (`--max-attempts`).
    pub attempts: u32,
    /// Wait before the second attempt (`--retry-delay-ms`).
    pub first_delay: Duration,
}

impl CallRetry {
    /// The waits between attempts, added up: `first_delay · (1 + 2 + 4 …)`, each capped.
    pub fn schedule(&self) -> Duration {
        (1..self.attempts).fold(Duration::ZERO, |total, retry| {
            let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(20));
            total.saturating_add(self.first_delay.saturating_mul(factor).min(MAX_DELAY))
        })
    }

    /// No retry starts later than this after a call's first attempt: twice the schedule
    /// (room for jitter and the requests themselves), at least 5 minutes.
    pub fn call_budget(&self) -> Duration {
        self.schedule().saturating_mul(2).max(MIN_CALL_BUDGET)
    }

    /// The Salesforce client's policy.
    pub fn salesforce(&self) -> sfdc_client::RetryPolicy {
        sfdc_client::RetryPolicy {
            max_retries: self.attempts.saturating_sub(1),
            base_delay: self.first_delay,
            max_delay: MAX_DELAY,
            max_elapsed: self.call_budget(),
            ..sfdc_client::RetryPolicy::default()
        }
    }

    /// The Zendesk client's policy (429 waits as the client's default policy has them).
    pub fn zendesk(&self) -> zendesk_client::RetryPolicy {
        zendesk_client::RetryPolicy {
            max_attempts: self.attempts,
            base_backoff: self.first_delay,
            max_backoff: MAX_DELAY,
            max_elapsed: self.call_budget(),
            ..zendesk_client::RetryPolicy::default()
        }
    }
}

/// A job ready to run, and the sandbox it talks to (kept alive as long as this).
pub struct Environment {
    /// The job.
    pub job: CasesJob,
    /// The sandbox of `--sandbox`, kept until the run is over.
    _sandbox: Option<SandboxHandle>,
}

impl Environment {
    /// Builds the job; with `--sandbox`, starts the simulated APIs first. With `retry`
    /// (the webhook receiver), both clients retry as it says and have no run budget.
    pub async fn build(
        instance: Instance,
        common: &CommonArgs,
        retry: Option<CallRetry>,
    ) -> Result<Environment, Error> {
        let mapping = crate::jobs::load_mapping(instance, common.mapping.as_deref())?;
        let (sandbox, config) = configure(instance, common, common.today()).await?;
        let mut salesforce = config.salesforce_builder().auto_assign(false);
        let mut zendesk = config.zendesk_builder(common.zd_rate_limit);
        if let Some(retry) = retry {
            salesforce = salesforce
                .retry_policy(retry.salesforce())
                .run_retry_budget(None);
            zendesk = zendesk.retry_policy(retry.zendesk()).run_retry_budget(None);
        }
        let salesforce = salesforce
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let zendesk = zendesk.build().map_err(|e| Error::Config(e.to_string()))?;
        Ok(Environment {
            job: CasesJob {
                salesforce,
                zendesk,
                mapping,
                dry_run: common.dry_run,
            },
            _sandbox: sandbox,
        })
    }
}

/// The webhook signing secret from `ZD_WEBHOOK_SECRET` (exit 2 when unset).
pub fn webhook_secret() -> Result<SecretString, Error> {
    match std::env::var(WEBHOOK_SECRET_VAR) {
        Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v)),
        _ => Err(Error::Config(format!(
            "{WEBHOOK_SECRET_VAR} is not set: the webhook signing secret is needed to verify deliveries"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serve_flags_become_both_clients_policies() {
        let r = CallRetry {
            attempts: 5,
            first_delay: Duration::from_millis(1000),
        };
        assert_eq!(r.schedule(), Duration::from_secs(1 + 2 + 4 + 8));
        assert_eq!(r.call_budget(), MIN_CALL_BUDGET);
        let sf = r.salesforce();
        assert_eq!(
            (sf.max_retries, sf.base_delay, sf.max_delay),
            (4, Duration::from_secs(1), MAX_DELAY)
        );
        let zd = r.zendesk();
        assert_eq!(
            (zd.max_attempts, zd.base_backoff, zd.max_backoff),
            (5, Duration::from_secs(1), MAX_DELAY)
        );
        // Twenty attempts of up to a minute: the budget lets them all happen.
        let long = CallRetry {
            attempts: 20,
            first_delay: Duration::from_secs(60),
        };
        assert_eq!(long.schedule(), Duration::from_secs(19 * 60));
        assert_eq!(long.call_budget(), Duration::from_secs(2 * 19 * 60));
        // One attempt: no retry at all.
        let once = CallRetry {
            attempts: 1,
            first_delay: Duration::ZERO,
        };
        assert_eq!(once.salesforce().max_retries, 0);
        assert_eq!(once.zendesk().max_attempts, 1);
    }
}
