//! Configuration from the environment (docs/behaviour.md §8): Salesforce and Zendesk credentials,
//! validated up front so that a missing variable is named before any request is sent
//! (exit 2), and the two API clients built from them. The credentials are the clients'
//! own types ([`sfdc_client::Credentials`], [`zendesk_client::Auth`]): secrets are
//! [`SecretString`]s and their `Debug` never shows them.

use secrecy::SecretString;
use sfdc_client::Credentials;

use crate::Error;

/// Everything needed to talk to Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceConfig {
    /// The credentials, the first complete set in the environment: an access token
    /// (`SFDC_ACCESS_TOKEN`, `SFDC_INSTANCE_URL`), the JWT bearer flow (`SFDC_USERNAME`,
    /// `SFDC_PRIVATE_KEY_FILE`, `SFDC_CLIENT_ID`; `SFDC_JWT_AUDIENCE`, default
    /// `SFDC_LOGIN_URL`), or client credentials (`SFDC_CLIENT_ID`,
    /// `SFDC_CLIENT_SECRET`, `SFDC_LOGIN_URL` the My Domain URL).
    pub auth: sfdc_client::Credentials,
    /// `SFDC_LOGIN_URL` (token endpoint base), default `https://login.salesforce.com`.
    pub login_url: String,
    /// `SFDC_API_VERSION`, default `v62.0`.
    pub api_version: String,
}

/// Where the Zendesk account is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZendeskLocation {
    /// `ZD_URL`, any scheme and port.
    Url(String),
    /// `ZD_SUBDOMAIN`: `https://{subdomain}.zendesk.com`.
    Subdomain(String),
}

/// Everything needed to talk to Zendesk.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    /// The account.
    pub location: ZendeskLocation,
    /// The credentials: `ZD_EMAIL` + `ZD_API_TOKEN`, else `ZD_OAUTH_TOKEN`.
    pub auth: zendesk_client::Auth,
}

/// The whole environment-derived configuration of a sync job.
#[derive(Debug, Clone)]
pub struct Config {
    /// Salesforce side.
    pub salesforce: SalesforceConfig,
    /// Zendesk side.
    pub zendesk: ZendeskConfig,
    /// Time budget of one API call's retries (`--retry-budget`); `None` keeps the
    /// clients' default (5 minutes).
    pub retry_budget: Option<std::time::Duration>,
}

/// Reads one variable; blank values count as unset, surrounding whitespace (the
/// newline of `$(cat file)`) is dropped.
fn var(lookup: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The names in `names` that are unset.
fn missing(lookup: &dyn Fn(&str) -> Option<String>, names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|n| var(lookup, n).is_none())
        .collect()
}

impl Config {
    /// Reads the process environment. See [`Config::from_lookup`].
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable name → its value). Both
    /// sides are checked before returning, so one error names every missing variable.
    ///
    /// ```
    /// let env = |name: &str| match name {
    ///     "SFDC_ACCESS_TOKEN" => Some("00D...".to_string()),
    ///     "SFDC_INSTANCE_URL" => Some("http://127.0.0.1:1".to_string()),
    ///     "ZD_URL" => Some("http://127.0.0.1:2".to_string()),
    ///     "ZD_OAUTH_TOKEN" => Some("secret".to_string()),
    ///     _ => None,
    /// };
    /// let config = sync_jobs::config::Config::from_lookup(&env).unwrap();
    /// assert!(!format!("{config:?}").contains("secret"));
    /// ```
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let problems = value_problems(lookup);
        if !problems.is_empty() {
            return Err(Error::Config(problems.join("; ")));
        }
        let sf = salesforce_from(lookup);
        let zd = zendesk_from(lookup);
        match (sf, zd) {
            (Ok(salesforce), Ok(zendesk)) => Ok(Config {
                salesforce,
                zendesk,
                retry_budget: None,
            }),
            (Err(a), Err(b)) => Err(Error::Config(format!("{a}; {b}"))),
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(Error::Config(e)),
        }
    }

    /// The configuration that points both clients at a sandbox (`--sandbox`): the
    /// client-credentials flow at the simulated Salesforce, an API token for Zendesk.
    /// Credentials in the environment are ignored.
    pub fn for_sandbox(salesforce_url: &str, zendesk_url: &str) -> Config {
        Config {
            salesforce: SalesforceConfig {
                auth: Credentials::ClientCredentials {
                    client_id: "sandbox".to_string(),
                    client_secret: SecretString::from("sandbox".to_string()),
                },
                login_url: salesforce_url.to_string(),
                api_version: sfdc_client::DEFAULT_API_VERSION.to_string(),
            },
            zendesk: ZendeskConfig {
                location: ZendeskLocation::Url(zendesk_url.to_string()),
                auth: zendesk_client::Auth::ApiToken {
                    email: "sandbox@example.com".to_string(),
                    token: SecretString::from("sandbox".to_string()),
                },
            },
            retry_budget: None,
        }
    }

    /// The Zendesk account's base URL (for links to orgs in the Markdown report),
    /// without a trailing slash.
    pub fn zendesk_base_url(&self) -> String {
        match &self.zendesk.location {
            ZendeskLocation::Url(url) => url.trim_end_matches('/').to_string(),
            ZendeskLocation::Subdomain(s) => format!("https://{s}.zendesk.com"),
        }
    }

    /// Builds the Salesforce client. No request is sent.
    pub fn salesforce_client(&self) -> Result<sfdc_client::Client, Error> {
        self.salesforce_builder()
            .build()
            .map_err(|e| Error::Config(e.to_string()))
    }

    /// The Salesforce client builder with credentials, login URL and API version set,
    /// for a job that needs more (the cases job sets `auto_assign(false)`).
    pub fn salesforce_builder(&self) -> sfdc_client::ClientBuilder {
        let s = &self.salesforce;
        let builder = sfdc_client::Client::builder()
            .credentials(s.auth.clone())
            .login_url(s.login_url.clone())
            .api_version(s.api_version.clone());
        match self.retry_budget {
            Some(budget) => builder.retry_policy(sfdc_client::RetryPolicy {
                max_elapsed: budget,
                max_elapsed_without_answer: budget
                    .min(sfdc_client::RetryPolicy::default().max_elapsed_without_answer),
                ..sfdc_client::RetryPolicy::default()
            }),
            None => builder,
        }
    }

    /// Builds the Zendesk client with the request limit of `--zd-rate-limit`. No request
    /// is sent.
    pub fn zendesk_client(
        &self,
        requests_per_minute: u32,
    ) -> Result<zendesk_client::Client, Error> {
        self.zendesk_builder(requests_per_minute)
            .build()
            .map_err(|e| Error::Config(e.to_string()))
    }

    /// The Zendesk client builder with location, credentials and request limit set, for
    /// a job that needs more (the webhook receiver sets its retry policy).
    pub fn zendesk_builder(&self, requests_per_minute: u32) -> zendesk_client::ClientBuilder {
        let z = &self.zendesk;
        let builder = match &z.location {
            ZendeskLocation::Url(url) => zendesk_client::Client::builder().url(url.clone()),
            ZendeskLocation::Subdomain(s) => zendesk_client::Client::builder().subdomain(s.clone()),
        };
        let builder = match self.retry_budget {
            Some(budget) => builder.retry_policy(zendesk_client::RetryPolicy {
                max_elapsed: budget,
                max_elapsed_without_answer: budget
                    .min(zendesk_client::RetryPolicy::default().max_elapsed_without_answer),
                ..zendesk_client::RetryPolicy::default()
            }),
            None => builder,
        };
        builder
            .auth(z.auth.clone())
            .requests_per_minute(requests_per_minute)
    }
}

/// What is wrong with a URL variable's value: a URL the clients can send to is
/// `http(s)://host[:port][/path]` with no user info, query or fragment. `None` when fine.
fn url_problem(name: &str, value: &str) -> Option<String> {
    if value.chars().any(char::is_control) {
        return Some(format!(
            "{name} contains a control character (a newline?); expected a URL like https://example.com"
        ));
    }
    let url = match url::Url::parse(value) {
        Ok(url) => url,
        Err(e) => {
            return Some(format!(
                "{name} {value:?} is not a URL ({e}); expected one like https://example.com"
            ))
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!(
            "{name} {value:?} has scheme {:?}; it must be https (or http for a local test server)",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some(format!("{name} {value:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // The value is not echoed: it carries a password.
        return Some(format!(
            "{name} carries a user name or password; credentials go in their own variables"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Some(format!(
            "{name} {value:?} has a query or fragment; give the base URL only"
        ));
    }
    None
}

/// What is wrong with a secret's value (never echoed): a control character inside
/// it (a newline from a pasted or multi-line value) cannot go in an HTTP header.
fn secret_problem(name: &str, value: &str) -> Option<String> {
    value.chars().any(char::is_control).then(|| {
        format!(
            "{name} contains a control character (a newline?) inside the value, \
             which cannot be sent in an HTTP header (the value is not shown)"
        )
    })
}

/// What is wrong with a one-word value (a client id, a user name): no whitespace or
/// control character inside.
fn word_problem(name: &str, value: &str) -> Option<String> {
    value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
        .then(|| format!("{name} {value:?} contains whitespace or a control character"))
}

/// What is wrong with an email variable.
fn email_problem(name: &str, value: &str) -> Option<String> {
    word_problem(name, value).or_else(|| {
        let ok = value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
        (!ok).then(|| format!("{name} {value:?} is not an email address"))
    })
}

/// What is wrong with `ZD_SUBDOMAIN`: letters, digits and hyphens only (`acme` for
/// `https://acme.zendesk.com`).
fn subdomain_problem(value: &str) -> Option<String> {
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        None
    } else if value.contains("://") || value.contains('.') {
        Some(format!(
            "ZD_SUBDOMAIN {value:?} is not a subdomain (like acme for https://acme.zendesk.com); \
             put a full URL in ZD_URL instead"
        ))
    } else {
        Some(format!(
            "ZD_SUBDOMAIN {value:?} is not a subdomain: letters, digits and hyphens only"
        ))
    }
}

/// What is wrong with `SFDC_API_VERSION` (`v62.0` or `62.0`).
fn version_problem(value: &str) -> Option<String> {
    let digits = value.strip_prefix('v').unwrap_or(value);
    let ok = digits.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.len() <= 4
            && b.len() <= 2
            && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    });
    (!ok).then(|| format!("SFDC_API_VERSION {value:?} is not a version like v62.0"))
}

/// The largest private key file read from `SFDC_PRIVATE_KEY_FILE` (a PEM key is a few KB).
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Reads the PEM private key of `SFDC_PRIVATE_KEY_FILE`, refusing a file that is too
/// large or does not hold a PEM private key (its contents are never shown).
fn read_private_key(path: &str) -> Result<String, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read SFDC_PRIVATE_KEY_FILE {path}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read SFDC_PRIVATE_KEY_FILE {path}: {e}"))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_KEY_FILE_BYTES {
        return Err(format!(
            "SFDC_PRIVATE_KEY_FILE {path} is larger than {MAX_KEY_FILE_BYTES} bytes: not a PEM key"
        ));
    }
    let pem = String::from_utf8(bytes)
        .map_err(|_| format!("SFDC_PRIVATE_KEY_FILE {path} is not PEM text"))?;
    if !pem.contains("-----BEGIN") || !pem.contains("PRIVATE KEY") {
        return Err(format!(
            "SFDC_PRIVATE_KEY_FILE {path} holds no PEM private key (no -----BEGIN ... PRIVATE KEY----- line)"
        ));
    }
    Ok(pem)
}

/// Every problem with the values of the variables that are set (each named), checked
/// before any client is built: a wrong scheme, a newline inside a token, a garbage
/// version would otherwise end in retries and exit 4 instead of exit 2 up front.
fn value_problems(lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    type Check = fn(&str, &str) -> Option<String>;
    let checks: [(&str, Check); 14] = [
        ("SFDC_INSTANCE_URL", url_problem),
        ("SFDC_LOGIN_URL", url_problem),
        ("SFDC_JWT_AUDIENCE", url_problem),
        ("ZD_URL", url_problem),
        ("SFDC_ACCESS_TOKEN", secret_problem),
        ("SFDC_CLIENT_SECRET", secret_problem),
        ("ZD_API_TOKEN", secret_problem),
        ("ZD_OAUTH_TOKEN", secret_problem),
        ("SFDC_CLIENT_ID", word_problem),
        ("SFDC_USERNAME", word_problem),
        ("SFDC_PRIVATE_KEY_FILE", |n, v| {
            v.chars()
                .any(char::is_control)
                .then(|| format!("{n} contains a control character"))
        }),
        ("ZD_EMAIL", email_problem),
        ("ZD_SUBDOMAIN", |_, v| subdomain_problem(v)),
        ("SFDC_API_VERSION", |_, v| version_problem(v)),
    ];
    checks
        .iter()
        .filter_map(|(name, check)| var(lookup, name).and_then(|value| check(name, &value)))
        .collect()
}

fn salesforce_from(lookup: &dyn Fn(&str) -> Option<String>) -> Result<SalesforceConfig, String> {
    let login_url =
        var(lookup, "SFDC_LOGIN_URL").unwrap_or_else(|| sfdc_client::DEFAULT_LOGIN_URL.to_string());
    let api_version = var(lookup, "SFDC_API_VERSION")
        .unwrap_or_else(|| sfdc_client::DEFAULT_API_VERSION.to_string());
    let config = |auth| SalesforceConfig {
        auth,
        login_url: login_url.clone(),
        api_version: api_version.clone(),
    };
    const TOKEN: &[&str] = &["SFDC_ACCESS_TOKEN", "SFDC_INSTANCE_URL"];
    const JWT: &[&str] = &["SFDC_USERNAME", "SFDC_PRIVATE_KEY_FILE", "SFDC_CLIENT_ID"];
    const CLIENT: &[&str] = &["SFDC_CLIENT_ID", "SFDC_CLIENT_SECRET", "SFDC_LOGIN_URL"];
    let get = |name: &str| var(lookup, name).unwrap_or_default();

    let token_missing = missing(lookup, TOKEN);
    if token_missing.is_empty() {
        return Ok(config(Credentials::AccessToken {
            access_token: SecretString::from(get("SFDC_ACCESS_TOKEN")),
            instance_url: get("SFDC_INSTANCE_URL"),
        }));
    }
    let jwt_missing = missing(lookup, JWT);
    if jwt_missing.is_empty() {
        let path = get("SFDC_PRIVATE_KEY_FILE");
        let pem = read_private_key(&path)?;
        // docs/behaviour.md §8: the audience defaults to the same URL as the token endpoint
        // (`https://test.salesforce.com` for a sandbox org needs no second variable).
        let audience = var(lookup, "SFDC_JWT_AUDIENCE").unwrap_or_else(|| login_url.clone());
        return Ok(config(Credentials::JwtBearer {
            client_id: get("SFDC_CLIENT_ID"),
            username: get("SFDC_USERNAME"),
            private_key_pem: SecretString::from(pem),
            audience,
        }));
    }
    let client_missing = missing(lookup, CLIENT);
    if client_missing.is_empty() {
        return Ok(config(Credentials::ClientCredentials {
            client_id: get("SFDC_CLIENT_ID"),
            client_secret: SecretString::from(get("SFDC_CLIENT_SECRET")),
        }));
    }
    Err(format!(
        "no complete set of Salesforce credentials in the environment: \
         access token (missing {}), or JWT bearer (missing {}), or client credentials (missing {})",
        token_missing.join(", "),
        jwt_missing.join(", "),
        client_missing.join(", ")
    ))
}

fn zendesk_from(lookup: &dyn Fn(&str) -> Option<String>) -> Result<ZendeskConfig, String> {
    let mut problems = Vec::new();
    let location = match (var(lookup, "ZD_URL"), var(lookup, "ZD_SUBDOMAIN")) {
        (Some(url), _) => Some(ZendeskLocation::Url(url)),
        (None, Some(sub)) => Some(ZendeskLocation::Subdomain(sub)),
        (None, None) => {
            problems.push("no Zendesk account: set ZD_URL or ZD_SUBDOMAIN".to_string());
            None
        }
    };
    let token_missing = missing(lookup, &["ZD_EMAIL", "ZD_API_TOKEN"]);
    let auth = if token_missing.is_empty() {
        Some(zendesk_client::Auth::ApiToken {
            email: var(lookup, "ZD_EMAIL").unwrap_or_default(),
            token: SecretString::from(var(lookup, "ZD_API_TOKEN").unwrap_or_default()),
        })
    } else if let Some(token) = var(lookup, "ZD_OAUTH_TOKEN") {
        Some(zendesk_client::Auth::OAuth(SecretString::from(token)))
    } else {
        problems.push(format!(
            "no complete set of Zendesk credentials: API token (missing {}), or ZD_OAUTH_TOKEN (missing)",
            token_missing.join(", ")
        ));
        None
    };
    match (location, auth) {
        (Some(location), Some(auth)) => Ok(ZendeskConfig { location, auth }),
        _ => Err(problems.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    const ZD: [(&str, &str); 3] = [
        ("ZD_URL", "http://127.0.0.1:9"),
        ("ZD_EMAIL", "ops@example.com"),
        ("ZD_API_TOKEN", "zd-secret"),
    ];

    #[test]
    fn nothing_set_names_every_missing_variable() {
        let err = Config::from_lookup(&lookup(&[])).unwrap_err().to_string();
        for name in [
            "SFDC_ACCESS_TOKEN",
            "SFDC_INSTANCE_URL",
            "SFDC_USERNAME",
            "SFDC_PRIVATE_KEY_FILE",
            "SFDC_CLIENT_ID",
            "SFDC_CLIENT_SECRET",
            "SFDC_LOGIN_URL",
            "ZD_URL or ZD_SUBDOMAIN",
            "ZD_EMAIL",
            "ZD_API_TOKEN",
            "ZD_OAUTH_TOKEN",
        ] {
            assert!(err.contains(name), "{name} not named in: {err}");
        }
    }

    #[test]
    fn half_a_token_set_names_the_other_half() {
        let mut vars = ZD.to_vec();
        vars.push(("SFDC_ACCESS_TOKEN", "tok"));
        let err = Config::from_lookup(&lookup(&vars)).unwrap_err().to_string();
        assert!(
            err.contains("access token (missing SFDC_INSTANCE_URL)"),
            "{err}"
        );
        assert!(!err.contains("Zendesk"), "{err}");
    }

    #[test]
    fn first_complete_set_wins_and_secrets_stay_out_of_debug() {
        let mut vars = ZD.to_vec();
        vars.extend([
            ("SFDC_ACCESS_TOKEN", "sf-secret-token"),
            ("SFDC_INSTANCE_URL", "http://127.0.0.1:8"),
            ("SFDC_CLIENT_ID", "id"),
            ("SFDC_CLIENT_SECRET", "sf-client-secret"),
            ("SFDC_LOGIN_URL", "http://127.0.0.1:7"),
        ]);
        let config = Config::from_lookup(&lookup(&vars)).unwrap();
        assert!(matches!(
            config.salesforce.auth,
            Credentials::AccessToken { .. }
        ));
        let debug = format!("{config:?}");
        for secret in ["sf-secret-token", "sf-client-secret", "zd-secret"] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        config.salesforce_client().unwrap();
        config.zendesk_client(200).unwrap();
    }

    #[test]
    fn client_credentials_need_the_login_url() {
        let mut vars = ZD.to_vec();
        vars.extend([("SFDC_CLIENT_ID", "id"), ("SFDC_CLIENT_SECRET", "s")]);
        let err = Config::from_lookup(&lookup(&vars)).unwrap_err().to_string();
        assert!(
            err.contains("client credentials (missing SFDC_LOGIN_URL)"),
            "{err}"
        );
        vars.push(("SFDC_LOGIN_URL", "https://acme.my.salesforce.com"));
        let config = Config::from_lookup(&lookup(&vars)).unwrap();
        assert!(matches!(
            config.salesforce.auth,
            Credentials::ClientCredentials { .. }
        ));
        assert_eq!(
            config.salesforce.login_url,
            "https://acme.my.salesforce.com"
        );
    }

    #[test]
    fn jwt_reads_the_key_file_and_the_audience_defaults_to_the_login_url() {
        let dir = std::env::temp_dir().join(format!("sync-core-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key.pem");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        let key_path = key.to_string_lossy().to_string();
        let mut vars = ZD.to_vec();
        vars.extend([
            ("SFDC_USERNAME", "ops@acme.com"),
            ("SFDC_PRIVATE_KEY_FILE", key_path.as_str()),
            ("SFDC_CLIENT_ID", "id"),
        ]);
        let config = Config::from_lookup(&lookup(&vars)).unwrap();
        match &config.salesforce.auth {
            Credentials::JwtBearer { audience, .. } => {
                assert_eq!(audience, "https://login.salesforce.com")
            }
            other => panic!("expected JWT, got {other:?}"),
        }
        vars.push(("SFDC_LOGIN_URL", "https://test.salesforce.com"));
        let config = Config::from_lookup(&lookup(&vars)).unwrap();
        match &config.salesforce.auth {
            Credentials::JwtBearer { audience, .. } => {
                assert_eq!(audience, "https://test.salesforce.com")
            }
            other => panic!("expected JWT, got {other:?}"),
        }
        vars.push(("SFDC_JWT_AUDIENCE", "https://login.salesforce.com"));
        let config = Config::from_lookup(&lookup(&vars)).unwrap();
        match &config.salesforce.auth {
            Credentials::JwtBearer { audience, .. } => {
                assert_eq!(audience, "https://login.salesforce.com")
            }
            other => panic!("expected JWT, got {other:?}"),
        }
        std::fs::remove_file(&key).unwrap();
        let err = Config::from_lookup(&lookup(&vars)).unwrap_err().to_string();
        assert!(err.contains("cannot read SFDC_PRIVATE_KEY_FILE"), "{err}");
    }

    #[test]
    fn zendesk_oauth_and_subdomain() {
        let vars = [
            ("SFDC_ACCESS_TOKEN", "t"),
            ("SFDC_INSTANCE_URL", "http://127.0.0.1:8"),
            ("ZD_SUBDOMAIN", "acme"),
            ("ZD_OAUTH_TOKEN", "oauth-secret"),
        ];
        let config = Config::from_lookup(&lookup(&vars)).unwrap();
        assert_eq!(
            config.zendesk.location,
            ZendeskLocation::Subdomain("acme".into())
        );
        assert!(!format!("{config:?}").contains("oauth-secret"));
    }

    #[test]
    fn bad_values_are_named_and_secrets_not_shown() {
        let base = [
            ("SFDC_ACCESS_TOKEN", "tok"),
            ("SFDC_INSTANCE_URL", "https://acme.my.salesforce.com"),
            ("ZD_URL", "https://acme.zendesk.com"),
            ("ZD_OAUTH_TOKEN", "zd"),
        ];
        let cases: &[(&str, &str, &str)] = &[
            ("ZD_URL", "ftp://acme.zendesk.com", "scheme \"ftp\""),
            (
                "SFDC_INSTANCE_URL",
                "ftp://acme.my.salesforce.com",
                "scheme",
            ),
            ("SFDC_LOGIN_URL", "login.salesforce.com", "not a URL"),
            ("ZD_URL", "https://", "not a URL"),
            (
                "ZD_URL",
                "https://u:pw@acme.zendesk.com",
                "user name or password",
            ),
            ("ZD_URL", "https://acme.zendesk.com/?x=1", "query"),
            (
                "SFDC_ACCESS_TOKEN",
                "00D!abc\ndef-secret",
                "control character",
            ),
            ("ZD_OAUTH_TOKEN", "abc\rdef-secret", "control character"),
            ("ZD_EMAIL", "not-an-email", "not an email"),
            (
                "ZD_SUBDOMAIN",
                "https://acme.zendesk.com",
                "put a full URL in ZD_URL",
            ),
            ("ZD_SUBDOMAIN", "ac me", "letters, digits and hyphens"),
            ("SFDC_API_VERSION", "latest", "not a version"),
            ("SFDC_CLIENT_ID", "id with spaces", "whitespace"),
        ];
        for (name, value, needle) in cases {
            let mut vars: Vec<(&str, &str)> =
                base.iter().filter(|(k, _)| k != name).copied().collect();
            vars.push((name, value));
            let err = Config::from_lookup(&lookup(&vars)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(name), "{name} not named: {text}");
            assert!(text.contains(needle), "{name}={value:?}: {text}");
            assert!(!text.contains("def-secret"), "a secret was shown: {text}");
            assert_eq!(crate::exit::for_error(&err), crate::exit::CONFIG);
        }
        // Surrounding whitespace (the newline `$(cat file)` keeps) is dropped, not refused.
        let mut vars = base.to_vec();
        vars.push(("ZD_EMAIL", " ops@example.com\n"));
        vars.push(("ZD_API_TOKEN", "token\n"));
        Config::from_lookup(&lookup(&vars)).unwrap();
    }

    #[test]
    fn a_key_file_that_is_not_a_pem_key_is_refused() {
        let dir = std::env::temp_dir().join(format!("sync-jobs-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key.txt");
        std::fs::write(&key, "just text").unwrap();
        let key_path = key.to_string_lossy().to_string();
        let mut vars = ZD.to_vec();
        vars.extend([
            ("SFDC_USERNAME", "ops@acme.com"),
            ("SFDC_PRIVATE_KEY_FILE", key_path.as_str()),
            ("SFDC_CLIENT_ID", "id"),
        ]);
        let err = Config::from_lookup(&lookup(&vars)).unwrap_err().to_string();
        assert!(err.contains("holds no PEM private key"), "{err}");
        std::fs::write(&key, vec![b'A'; 100_000]).unwrap();
        let err = Config::from_lookup(&lookup(&vars)).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
