//! Flags and environment → a ready [`CasesJob`]: the mapping of `--instance` (or
//! `--mapping`), credentials from the environment (or the in-process sandbox with
//! `--sandbox`), a Salesforce client that sends `Sforce-Auto-Assign: FALSE`.

use crate::cases::CasesJob;
use crate::cli::CommonArgs;
use crate::shell::{configure, SandboxHandle};
use crate::Error;
use secrecy::SecretString;
use sync_core::mapping::Instance;

/// The environment variable holding the webhook signing secret.
pub const WEBHOOK_SECRET_VAR: &str = "ZD_WEBHOOK_SECRET";

/// A job ready to run, and the sandbox it talks to (kept alive as long as this).
pub struct Environment {
    /// The job.
    pub job: CasesJob,
    /// The sandbox of `--sandbox`, kept until the run is over.
    _sandbox: Option<SandboxHandle>,
}

impl Environment {
    /// Builds the job; with `--sandbox`, starts the simulated APIs first.
    pub async fn build(instance: Instance, common: &CommonArgs) -> Result<Environment, Error> {
        let mapping = crate::jobs::load_mapping(instance, common.mapping.as_deref())?;
        let (sandbox, config) = configure(instance, common, common.today()).await?;
        let salesforce = config
            .salesforce_builder()
            .auto_assign(false)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let zendesk = config.zendesk_client(common.zd_rate_limit)?;
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
