//! Simulated Salesforce and Zendesk APIs served on loopback, so that the whole product
//! runs and is tested with no network. Independent of the client crates: its wire
//! types are written from the references.
//!
//! [`Sandbox::start`] binds both APIs on `127.0.0.1` and returns their base URLs and an
//! [`Admin`] handle; dropping the [`Sandbox`] shuts both servers down. A job binary's
//! `--sandbox` uses [`Sandbox::start_for_job`]; the binaries' end-to-end tests share
//! `testing` (behind the `testing` cargo feature). The admin side of both simulators
//! (a handle, and `/__admin` over HTTP) is [`admin`].

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod admin;
pub mod faults;
pub mod salesforce;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod zendesk;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

pub use admin::{Admin, Refused, RequestCounts};
pub use faults::{Api, Fault, FaultPlan, FaultRule, Faults, When};
pub use zendesk::hold::{HeldWrite, HoldWrite, WriteStatus};
pub use zendesk::quirks::{DestroyManyResults, DuplicateEmailRow, JobLimitAnswer, Quirks, User403};
pub use zendesk::{WebhookTarget, ZendeskCredentials};

/// Everything that can go wrong starting the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A port could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// A Zendesk seed file is missing or malformed.
    #[error("bad Zendesk seed {}: {message}", path.display())]
    Seed {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the JSON path.
        message: String,
    },
    /// The Salesforce seed could not be loaded.
    #[error("bad Salesforce seed: {0}")]
    SalesforceSeed(#[from] salesforce::SeedError),
}

/// Which Zendesk instance's data set to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// Zendesk Global.
    Global,
    /// Zendesk US Federal.
    UsFederal,
}

impl Instance {
    /// The fixture directory name under `zendesk/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Instance::Global => "global",
            Instance::UsFederal => "us-federal",
        }
    }
}

/// Where the data comes from.
#[derive(Debug, Clone)]
pub enum Seed {
    /// A fixtures directory holding `salesforce/` and `zendesk/<instance>/`.
    Fixtures(PathBuf),
    /// A deterministic generated data set.
    Generated {
        /// Number of Salesforce accounts.
        accounts: usize,
        /// Generator seed.
        seed: u64,
        /// The day the data is dated relative to.
        today: time::Date,
    },
}

/// How to start the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Zendesk data set.
    pub instance: Instance,
    /// Seed data.
    pub seed: Seed,
    /// Zendesk job latency (queued → completed).
    pub job_latency: Duration,
    /// Zendesk requests per minute.
    pub rate_limit_per_minute: u32,
    /// Most Zendesk jobs queued or running at once (real: 30); beyond it a bulk write
    /// answers 429 `TooManyJobs`.
    pub job_limit: usize,
    /// Answer 403 on bulk user creation.
    pub bulk_user_create_disabled: bool,
    /// Fault rules and seed.
    pub faults: FaultPlan,
    /// Where ticket webhooks go.
    pub webhook: Option<WebhookTarget>,
    /// Zendesk credentials to require (`None`: accept any).
    pub zendesk_credentials: Option<ZendeskCredentials>,
    /// Salesforce behaviour, including the credentials it requires.
    pub salesforce: salesforce::SalesforceConfig,
    /// Salesforce port (0: any free port).
    pub salesforce_port: u16,
    /// Zendesk port (0: any free port).
    pub zendesk_port: u16,
    /// Requests per minute each Zendesk incremental export allows, on top of
    /// `rate_limit_per_minute` (real: 10); `None` for no such limit.
    pub incremental_rate_limit_per_minute: Option<u32>,
    /// A generated seed also puts the accounts' sold-to emails in play: end-users (in
    /// their org, with no org, in another org) and deleted users with those emails, and
    /// recently created orgs (shares in `zendesk::generate`). No effect on a fixtures seed.
    pub sold_to_users: bool,
    /// A generated seed also holds this many end-users unrelated to Salesforce, to size
    /// a user scan. No effect on a fixtures seed.
    pub extra_users: usize,
    /// How the simulated Zendesk answers the shapes the reference marks [UNCONFIRMED]
    /// (default: the sandbox's usual answers); changeable at run time through the admin.
    pub zendesk_quirks: Quirks,
    /// Hold the Nth Zendesk write (counted from start, optionally on one endpoint): it is
    /// not applied and stays open until released through the admin (`None`: no hold).
    pub hold_write: Option<HoldWrite>,
}

impl SandboxConfig {
    /// The repository's demo seed in `fixtures/sandbox`, Global instance, millisecond jobs
    /// and a high rate limit, no faults, any credentials accepted.
    pub fn default_fixtures() -> SandboxConfig {
        SandboxConfig {
            instance: Instance::Global,
            seed: Seed::Fixtures(fixtures_dir()),
            job_latency: Duration::from_millis(20),
            rate_limit_per_minute: 100_000,
            job_limit: 30,
            bulk_user_create_disabled: false,
            faults: FaultPlan::default(),
            webhook: None,
            zendesk_credentials: None,
            salesforce: salesforce::SalesforceConfig::default(),
            salesforce_port: 0,
            zendesk_port: 0,
            incremental_rate_limit_per_minute: Some(10),
            sold_to_users: false,
            extra_users: 0,
            zendesk_quirks: Quirks::default(),
            hold_write: None,
        }
    }
}

/// How long a Zendesk job takes in a sandbox a job binary starts with `--sandbox`: long
/// enough that a job is seen queued, short enough for a demo.
pub const JOB_SANDBOX_LATENCY: Duration = Duration::from_millis(50);

/// The generator seed of `--sandbox-accounts N`, fixed so that a generated run repeats.
pub const JOB_SANDBOX_SEED: u64 = 7;

/// What a job binary's `--sandbox` flag asks for.
#[derive(Debug, Clone, Copy)]
pub struct JobSandbox {
    /// Zendesk data set.
    pub instance: Instance,
    /// `Some(n)`: a generated data set of `n` accounts; `None`: the demo seed in
    /// `fixtures/sandbox`.
    pub generated_accounts: Option<usize>,
    /// The day generated data is dated relative to (the run's `--today`).
    pub today: time::Date,
    /// Zendesk requests per minute (the job's `--zd-rate-limit`).
    pub rate_limit_per_minute: u32,
}

/// The repository's `fixtures/sandbox` directory.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sandbox")
}

/// Both simulated APIs, running. Dropping it shuts them down gracefully.
pub struct Sandbox {
    salesforce_url: String,
    zendesk_url: String,
    admin: Admin,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("salesforce_url", &self.salesforce_url)
            .field("zendesk_url", &self.zendesk_url)
            .finish_non_exhaustive()
    }
}

async fn bind(port: u16) -> Result<(tokio::net::TcpListener, String), Error> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    Ok((listener, format!("http://{local}")))
}

impl Sandbox {
    /// Loads or generates the data, binds both ports and starts serving.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, Error> {
        let (sf_store, zd_data) = match &config.seed {
            Seed::Fixtures(dir) => (
                salesforce::Store::load_dir(&dir.join("salesforce"))?,
                zendesk::Data::load_dir(&dir.join("zendesk").join(config.instance.dir_name()))?,
            ),
            Seed::Generated {
                accounts,
                seed,
                today,
            } => {
                let store = salesforce::Store::generate(&salesforce::GenerateConfig {
                    accounts: *accounts,
                    seed: *seed,
                    today: *today,
                });
                let extras = zendesk::generate::Extras {
                    sold_to_users: config.sold_to_users,
                    extra_users: config.extra_users,
                };
                let zd = zendesk::generate::generate_from(
                    &store,
                    config.instance,
                    *seed,
                    *today,
                    extras,
                );
                (store, zd)
            }
        };
        let (sf_listener, salesforce_url) = bind(config.salesforce_port).await?;
        let (zd_listener, zendesk_url) = bind(config.zendesk_port).await?;

        let faults = Faults::new(config.faults.clone());
        let sf = salesforce::SalesforceSim::new(sf_store, config.salesforce.clone());
        let hook_sim = sf.clone();
        faults.on_expire_salesforce(move || hook_sim.expire_tokens());
        let zd = zendesk::ZendeskSim::new(
            zd_data,
            zendesk::ZendeskConfig {
                base_url: zendesk_url.clone(),
                job_latency: config.job_latency,
                rate_limit: config.rate_limit_per_minute,
                job_limit: config.job_limit,
                bulk_user_create_disabled: config.bulk_user_create_disabled,
                webhook: config.webhook.clone(),
                credentials: config.zendesk_credentials.clone(),
                incremental_rate_limit: config.incremental_rate_limit_per_minute,
                quirks: config.zendesk_quirks,
                hold_write: config.hold_write.clone(),
                ..zendesk::ZendeskConfig::default()
            },
            faults.clone(),
        );
        let admin = Admin::new(zd.clone(), sf.clone(), faults.clone());
        let sf_router = sf.router().layer(axum::middleware::from_fn_with_state(
            faults::FaultLayer {
                faults: faults.clone(),
                api: Api::Salesforce,
            },
            faults::middleware,
        ));
        let zd_router = admin.router().merge(zd.router());

        let (shutdown, rx) = watch::channel(false);
        for (listener, router) in [(sf_listener, sf_router), (zd_listener, zd_router)] {
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let stop = async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!(error = %e, "sandbox server stopped");
                }
            });
        }
        Ok(Sandbox {
            salesforce_url,
            zendesk_url,
            admin,
            shutdown,
        })
    }

    /// Starts the sandbox a job binary runs against with `--sandbox`: the demo seed or a
    /// generated data set, the job's Zendesk instance and rate limit, and
    /// [`JOB_SANDBOX_LATENCY`]. Logs both base URLs.
    pub async fn start_for_job(job: JobSandbox) -> Result<Sandbox, Error> {
        let mut config = SandboxConfig::default_fixtures();
        config.instance = job.instance;
        config.job_latency = JOB_SANDBOX_LATENCY;
        config.rate_limit_per_minute = job.rate_limit_per_minute;
        if let Some(accounts) = job.generated_accounts {
            config.seed = Seed::Generated {
                accounts,
                seed: JOB_SANDBOX_SEED,
                today: job.today,
            };
        }
        let sandbox = Sandbox::start(config).await?;
        tracing::info!(
            salesforce = sandbox.salesforce_url(),
            zendesk = sandbox.zendesk_url(),
            "sandbox started; credentials in the environment are ignored"
        );
        Ok(sandbox)
    }

    /// Base URL of the simulated Salesforce, e.g. `http://127.0.0.1:PORT`.
    pub fn salesforce_url(&self) -> &str {
        &self.salesforce_url
    }

    /// Base URL of the simulated Zendesk (without `/api/v2`).
    pub fn zendesk_url(&self) -> &str {
        &self.zendesk_url
    }

    /// The admin handle: state dumps, request counts, faults, tickets, token expiry.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // A write held open would keep the server from shutting down: drop it.
        self.admin.release_held_write(false);
        let _ = self.shutdown.send(true);
    }
}
