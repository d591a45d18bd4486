//! Flags and environment → a ready [`CasesJob`]: the mapping of `--instance` (or
//! `--mapping`), credentials from the environment (or the in-process sandbox with
//! `--sandbox`), a Salesforce client that sends `Sforce-Auto-Assign: FALSE`.

use secrecy::SecretString;
use sync_core::cases::CasesJob;
use sync_core::cli::CommonArgs;
use sync_core::config::Config;
use sync_core::mapping::Instance;
use sync_core::Error;

use crate::args::InstanceArg;

/// The environment variable holding the webhook signing secret.
pub const WEBHOOK_SECRET_VAR: &str = "ZD_WEBHOOK_SECRET";

/// A job ready to run, and the sandbox it talks to (kept alive as long as this).
pub struct Environment {
    /// The job.
    pub job: CasesJob,
    /// The sandbox of `--sandbox`, kept until the run is over.
    #[cfg(feature = "sandbox")]
    _sandbox: Option<sandbox::Sandbox>,
}

impl Environment {
    /// Builds the job; with `--sandbox`, starts the simulated APIs first.
    pub async fn build(instance: InstanceArg, common: &CommonArgs) -> Result<Environment, Error> {
        let instance = Instance::from(instance);
        let mapping = sync_core::jobs::load_mapping(instance, common.mapping.as_deref())?;
        let (config, sandbox) = if common.sandbox {
            let (config, sandbox) = start_sandbox(instance, common).await?;
            (config, Some(sandbox))
        } else {
            (Config::from_env()?, None)
        };
        let salesforce = config
            .salesforce_builder()
            .auto_assign(false)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let zendesk = config.zendesk_client(common.zd_rate_limit)?;
        #[cfg(not(feature = "sandbox"))]
        let _: Option<()> = sandbox;
        Ok(Environment {
            job: CasesJob {
                salesforce,
                zendesk,
                mapping,
                dry_run: common.dry_run,
            },
            #[cfg(feature = "sandbox")]
            _sandbox: sandbox,
        })
    }
}

/// `--sandbox`: the simulated APIs in-process, serving the instance's data set.
#[cfg(feature = "sandbox")]
async fn start_sandbox(
    instance: Instance,
    common: &CommonArgs,
) -> Result<(Config, sandbox::Sandbox), Error> {
    let sandbox = sandbox::Sandbox::start_for_job(sandbox::JobSandbox {
        instance: match instance {
            Instance::Global => sandbox::Instance::Global,
            Instance::UsFederal => sandbox::Instance::UsFederal,
        },
        generated_accounts: common.sandbox_accounts,
        today: common.today(),
        rate_limit_per_minute: common.zd_rate_limit,
    })
    .await
    .map_err(|e| Error::Config(format!("cannot start the sandbox: {e}")))?;
    let config = Config::for_sandbox(sandbox.salesforce_url(), sandbox.zendesk_url());
    Ok((config, sandbox))
}

#[cfg(not(feature = "sandbox"))]
async fn start_sandbox(_: Instance, _: &CommonArgs) -> Result<(Config, ()), Error> {
    Err(sync_core::jobs::binary::no_sandbox())
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
