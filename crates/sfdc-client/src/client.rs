//! The [`Client`] handle and its [`ClientBuilder`]: base URLs, API version,
//! credentials, retry policy and timeouts. Resource calls live in their own modules.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{parse_base_url, Auth, Credentials};
use crate::error::Error;
use crate::http::{Http, RawResponse, Request};
use crate::limits::ApiUsage;
use crate::retry::RetryPolicy;

/// Default REST API version.
pub const DEFAULT_API_VERSION: &str = "v62.0";

/// Default OAuth login URL.
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// Default cap on one answer's body: 64 MiB (a query page of 2,000 rows is a few MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Default run budget of retry waiting shared by all calls of a client: 30 minutes.
pub const DEFAULT_RUN_RETRY_BUDGET: Duration = Duration::from_secs(30 * 60);

/// A Salesforce REST client. Cheap to clone; clones share the session and counters.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: Http,
    pub(crate) auth: Auth,
    pub(crate) api_version: String,
    pub(crate) batch_size: Option<u32>,
    pub(crate) auto_assign: Option<bool>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_version", &self.inner.api_version)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    login_url: String,
    api_version: String,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    batch_size: Option<u32>,
    auto_assign: Option<bool>,
    max_response_bytes: u64,
    run_retry_budget: Option<Duration>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: None,
            login_url: DEFAULT_LOGIN_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
            batch_size: None,
            auto_assign: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            run_retry_budget: Some(DEFAULT_RUN_RETRY_BUDGET),
        }
    }
}

impl ClientBuilder {
    /// The credentials (required).
    ///
    /// ```no_run
    /// use sfdc_client::{Client, Credentials};
    /// let client = Client::builder()
    ///     .credentials(Credentials::AccessToken {
    ///         access_token: "00D...".to_owned().into(),
    ///         instance_url: "https://acme.my.salesforce.com".into(),
    ///     })
    ///     .build()?;
    /// # Ok::<(), sfdc_client::Error>(())
    /// ```
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The OAuth host the token request goes to (any scheme and port). Default
    /// `https://login.salesforce.com`; the client-credentials flow needs the My Domain URL.
    ///
    /// ```no_run
    /// let b = sfdc_client::Client::builder().login_url("https://acme.my.salesforce.com");
    /// ```
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// The REST API version, `v62.0` or `62.0`. Default [`DEFAULT_API_VERSION`].
    ///
    /// ```no_run
    /// let b = sfdc_client::Client::builder().api_version("v59.0");
    /// ```
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The retry policy for transient failures.
    ///
    /// ```no_run
    /// let b = sfdc_client::Client::builder().retry_policy(sfdc_client::RetryPolicy::none());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whole-request timeout (default 120 s) and connect timeout (default 15 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let b = sfdc_client::Client::builder().timeouts(Duration::from_secs(60), Duration::from_secs(5));
    /// ```
    pub fn timeouts(mut self, request: Duration, connect: Duration) -> Self {
        self.timeout = request;
        self.connect_timeout = connect;
        self
    }

    /// Largest body read from one answer (default [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB).
    /// A larger answer is [`Error::ResponseTooLarge`]; reading stops at the cap.
    ///
    /// ```no_run
    /// let b = sfdc_client::Client::builder().max_response_bytes(16 * 1024 * 1024);
    /// ```
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Total retry waiting all calls of this client may spend together (default
    /// [`DEFAULT_RUN_RETRY_BUDGET`], 30 minutes); `None` is no run budget (each call
    /// still has its own, [`RetryPolicy::max_elapsed`]). Once spent, a call that would
    /// retry returns its error instead.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let b = sfdc_client::Client::builder().run_retry_budget(Some(Duration::from_secs(600)));
    /// ```
    pub fn run_retry_budget(mut self, budget: Option<Duration>) -> Self {
        self.run_retry_budget = budget;
        self
    }

    /// Sends `Sforce-Query-Options: batchSize=N` on queries (Salesforce clamps to 200..=2000).
    ///
    /// ```no_run
    /// let b = sfdc_client::Client::builder().query_batch_size(500);
    /// ```
    pub fn query_batch_size(mut self, size: u32) -> Self {
        self.batch_size = Some(size);
        self
    }

    /// Sends `Sforce-Auto-Assign: TRUE`/`FALSE` on every write. Unset, Salesforce
    /// defaults to TRUE and assignment rules may rewrite `OwnerId`.
    ///
    /// ```no_run
    /// let b = sfdc_client::Client::builder().auto_assign(false);
    /// ```
    pub fn auto_assign(mut self, enabled: bool) -> Self {
        self.auto_assign = Some(enabled);
        self
    }

    /// Checks the configuration and builds the client. No request is sent.
    ///
    /// ```no_run
    /// use sfdc_client::{Client, Credentials};
    /// let client = Client::builder()
    ///     .login_url("https://acme.my.salesforce.com")
    ///     .credentials(Credentials::ClientCredentials {
    ///         client_id: "3MVG9...".into(),
    ///         client_secret: "secret".to_owned().into(),
    ///     })
    ///     .build()?;
    /// # Ok::<(), sfdc_client::Error>(())
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self
            .credentials
            .ok_or_else(|| Error::Config("no Salesforce credentials were given".into()))?;
        let login_url = parse_base_url("login URL", &self.login_url)?;
        let api_version = normalize_version(&self.api_version)?;
        if let Some(size) = self.batch_size {
            if !(200..=2000).contains(&size) {
                return Err(Error::Config(format!(
                    "query batch size {size} is outside Salesforce's 200..=2000"
                )));
            }
        }
        if self.max_response_bytes == 0 {
            return Err(Error::Config(
                "the response size cap must be at least 1 byte".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("sfdc-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http: Http::new(
                    client,
                    self.retry,
                    self.max_response_bytes,
                    self.run_retry_budget,
                ),
                auth: Auth::new(credentials, &login_url)?,
                api_version,
                batch_size: self.batch_size,
                auto_assign: self.auto_assign,
            }),
        })
    }
}

fn normalize_version(raw: &str) -> Result<String, Error> {
    let digits = raw.trim().trim_start_matches('v');
    let ok = digits.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(format!("v{digits}"))
    } else {
        Err(Error::Config(format!(
            "API version {raw:?} is not like v62.0"
        )))
    }
}

impl Client {
    /// Starts a [`ClientBuilder`].
    ///
    /// ```no_run
    /// let builder = sfdc_client::Client::builder();
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API version in use, e.g. `v62.0`.
    ///
    /// ```no_run
    /// # fn f(client: sfdc_client::Client) { assert_eq!(client.api_version(), "v62.0"); }
    /// ```
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The latest `Sforce-Limit-Info` usage seen, if any response carried one.
    ///
    /// ```no_run
    /// # fn f(client: sfdc_client::Client) {
    /// if let Some(u) = client.api_usage() { println!("{}/{}", u.used, u.limit); }
    /// # }
    /// ```
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.inner.http.usage.latest()
    }

    /// Whether this client has warned that the daily API usage passed 80 % (logged once,
    /// at warn, with the usage).
    pub fn api_usage_warned(&self) -> bool {
        self.inner.http.usage.warned()
    }

    /// What is left of the run budget of retry waiting (`None`: no run budget).
    ///
    /// ```no_run
    /// # fn f(client: sfdc_client::Client) {
    /// println!("{:?} of retry waiting left", client.run_retry_budget_left());
    /// # }
    /// ```
    pub fn run_retry_budget_left(&self) -> Option<Duration> {
        self.inner.http.run_budget_left()
    }

    /// HTTP requests sent so far (retries included), by kind name: `auth`, `query`,
    /// `query_more`, `create`, `get`, `update`, `upsert`, `delete`, `collections`.
    ///
    /// ```no_run
    /// # fn f(client: sfdc_client::Client) {
    /// let total: u64 = client.call_counts().values().sum();
    /// # }
    /// ```
    pub fn call_counts(&self) -> BTreeMap<&'static str, u64> {
        self.inner.http.usage.snapshot()
    }

    /// Authenticates now (normally done lazily by the first call), to fail early on bad credentials.
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// client.authenticate().await?;
    /// # Ok(()) }
    /// ```
    pub async fn authenticate(&self) -> Result<(), Error> {
        self.inner.auth.session(&self.inner.http).await.map(|_| ())
    }

    /// `/services/data/vXX.X` followed by `rest`.
    pub(crate) fn data_path(&self, rest: &str) -> String {
        format!("/services/data/{}{}", self.inner.api_version, rest)
    }

    pub(crate) async fn execute(&self, req: &Request) -> Result<RawResponse, Error> {
        self.inner.http.execute(&self.inner.auth, req).await
    }

    /// The `Sforce-Auto-Assign` header for writes, if configured.
    pub(crate) fn write_headers(&self) -> Vec<(&'static str, String)> {
        match self.inner.auto_assign {
            Some(true) => vec![("Sforce-Auto-Assign", "TRUE".into())],
            Some(false) => vec![("Sforce-Auto-Assign", "FALSE".into())],
            None => Vec::new(),
        }
    }
}
