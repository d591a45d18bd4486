//! Authentication: the credential kinds, the OAuth token request (client credentials
//! and JWT bearer, reference §2.1–§2.2), and the single-flight session refresh.
//!
//! Salesforce tokens carry no expiry (§2.5), so a session is kept until a REST call
//! answers 401 `INVALID_SESSION_ID`; then exactly one task re-authenticates, tagged
//! by a generation number, and every other task waiting on the same stale generation
//! reuses the new session.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::error::{truncate_body, Error};

/// How the client obtains an access token.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A token issued elsewhere, used as is. It cannot be renewed: a 401 is an auth error.
    AccessToken {
        /// The session id.
        access_token: SecretString,
        /// The org's instance URL, e.g. `https://acme.my.salesforce.com`.
        instance_url: String,
    },
    /// OAuth client-credentials flow, posted to the login URL (must be the My Domain URL).
    ClientCredentials {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: SecretString,
    },
    /// OAuth JWT bearer flow: an RS256 assertion signed with the connected app's key.
    JwtBearer {
        /// Consumer key (the `iss` claim).
        client_id: String,
        /// Salesforce username (the `sub` claim).
        username: String,
        /// PEM-encoded RSA private key.
        private_key_pem: SecretString,
        /// The `aud` claim, with scheme: `https://login.salesforce.com` or `https://test.salesforce.com`.
        audience: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::AccessToken { instance_url, .. } => f
                .debug_struct("AccessToken")
                .field("access_token", &"[REDACTED]")
                .field("instance_url", instance_url)
                .finish(),
            Credentials::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .finish(),
            Credentials::JwtBearer {
                client_id,
                username,
                audience,
                ..
            } => f
                .debug_struct("JwtBearer")
                .field("client_id", client_id)
                .field("username", username)
                .field("private_key_pem", &"[REDACTED]")
                .field("audience", audience)
                .finish(),
        }
    }
}

/// A successful token response (reference §2.5). There is no `expires_in`.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: String,
    instance_url: String,
}

/// The token endpoint's error shape: `{"error","error_description"}`.
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// JWT bearer claims. `exp` is a NumericDate in seconds (RFC 7519).
#[derive(Debug, Serialize, Deserialize)]
pub struct JwtClaims {
    /// Consumer key.
    pub iss: String,
    /// Username.
    pub sub: String,
    /// Audience URL with scheme.
    pub aud: String,
    /// Expiry, Unix seconds; at most 3 minutes ahead.
    pub exp: i64,
}

/// How far ahead the JWT assertion expires (Salesforce allows at most 3 minutes).
const JWT_LIFETIME: Duration = Duration::from_secs(170);

/// A usable session: token, REST base URL and the generation that produced it.
pub(crate) struct Session {
    pub(crate) access_token: SecretString,
    pub(crate) instance_url: Url,
    pub(crate) generation: u64,
}

/// Holds the current session and serialises refreshes.
pub(crate) struct Auth {
    credentials: Credentials,
    token_url: Url,
    session: RwLock<Option<Arc<Session>>>,
    refresh: Mutex<()>,
}

impl Auth {
    /// Checks the credentials (parses the key, the URLs) without any request.
    pub(crate) fn new(credentials: Credentials, login_url: &Url) -> Result<Auth, Error> {
        let token_url = login_url
            .join("/services/oauth2/token")
            .map_err(|e| Error::Config(format!("login URL {login_url}: {e}")))?;
        let session = match &credentials {
            Credentials::AccessToken {
                access_token,
                instance_url,
            } => Some(Arc::new(Session {
                access_token: usable_token(access_token)
                    .map_err(|why| Error::Config(format!("the Salesforce access token {why}")))?,
                instance_url: parse_base_url("instance URL", instance_url)?,
                generation: 0,
            })),
            Credentials::ClientCredentials { client_id, .. } => {
                if client_id.trim().is_empty() {
                    return Err(Error::Config(
                        "client-credentials flow: empty client id".into(),
                    ));
                }
                if let Some(host) = login_url.host_str() {
                    if matches!(host, "login.salesforce.com" | "test.salesforce.com") {
                        return Err(Error::Config(format!(
                            "the client-credentials flow must use the org's My Domain URL, not {host} \
                             (Salesforce answers `request not supported on this domain`)"
                        )));
                    }
                }
                None
            }
            Credentials::JwtBearer {
                private_key_pem,
                audience,
                ..
            } => {
                jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
                    .map_err(|e| {
                        Error::Config(format!("JWT private key is not a usable RSA PEM key: {e}"))
                    })?;
                if !audience.starts_with("https://") && !audience.starts_with("http://") {
                    return Err(Error::Config(format!(
                        "JWT audience {audience:?} must be a URL with scheme, e.g. https://login.salesforce.com"
                    )));
                }
                None
            }
        };
        Ok(Auth {
            credentials,
            token_url,
            session: RwLock::new(session),
            refresh: Mutex::new(()),
        })
    }

    /// The current session, authenticating first if there is none yet.
    pub(crate) async fn session(&self, http: &crate::http::Http) -> Result<Arc<Session>, Error> {
        if let Some(s) = self.session.read().await.clone() {
            return Ok(s);
        }
        self.renew(http, None).await
    }

    /// Replaces the session of generation `stale` (or creates the first one). If another
    /// task already replaced it, its session is returned without a new token request.
    pub(crate) async fn renew(
        &self,
        http: &crate::http::Http,
        stale: Option<u64>,
    ) -> Result<Arc<Session>, Error> {
        let _guard = self.refresh.lock().await;
        let current = self.session.read().await.clone();
        if let Some(cur) = &current {
            if Some(cur.generation) != stale {
                return Ok(Arc::clone(cur));
            }
        }
        let token = match &self.credentials {
            Credentials::AccessToken { .. } => {
                return Err(Error::Auth {
                    status: Some(401),
                    error: "INVALID_SESSION_ID".into(),
                    description: "the given access token was rejected and cannot be renewed; \
                                  issue a new one or configure a JWT or client-credentials flow"
                        .into(),
                })
            }
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose_secret()),
                ];
                self.request_token(http, &form).await?
            }
            Credentials::JwtBearer {
                client_id,
                username,
                private_key_pem,
                audience,
            } => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let claims = JwtClaims {
                    iss: client_id.clone(),
                    sub: username.clone(),
                    aud: audience.clone(),
                    exp: now.saturating_add(JWT_LIFETIME.as_secs() as i64),
                };
                let assertion = sign_assertion(&claims, private_key_pem)?;
                let form = [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ];
                self.request_token(http, &form).await?
            }
        };
        let generation = current.map_or(1, |c| c.generation.saturating_add(1));
        let access_token =
            usable_token(&SecretString::from(token.access_token)).map_err(|why| Error::Auth {
                status: None,
                error: "invalid_token_response".into(),
                description: format!("the token endpoint issued an access token that {why}"),
            })?;
        let session = Arc::new(Session {
            access_token,
            instance_url: parse_base_url("token response instance_url", &token.instance_url)?,
            generation,
        });
        *self.session.write().await = Some(Arc::clone(&session));
        tracing::info!(generation, instance_url = %session.instance_url, "authenticated to Salesforce");
        Ok(session)
    }

    async fn request_token(
        &self,
        http: &crate::http::Http,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, Error> {
        let response = http.send_token_request(&self.token_url, form).await?;
        let url = self.token_url.as_str();
        if (200..300).contains(&response.status) {
            return crate::error::decode(&response.body, url).map_err(|e| match e {
                Error::Decode { path, message, .. } => Error::Auth {
                    status: Some(response.status),
                    error: "invalid_token_response".into(),
                    description: format!("token response from {url} at `{path}`: {message}"),
                },
                other => other,
            });
        }
        Err(match serde_json::from_slice::<TokenError>(&response.body) {
            Ok(te) => Error::Auth {
                status: Some(response.status),
                error: te.error,
                description: te.error_description,
            },
            Err(_) => Error::Auth {
                status: Some(response.status),
                error: "unexpected_token_response".into(),
                description: format!("{url} answered: {}", truncate_body(&response.body)),
            },
        })
    }
}

/// Signs the JWT bearer assertion with RS256.
pub(crate) fn sign_assertion(
    claims: &JwtClaims,
    private_key_pem: &SecretString,
) -> Result<String, Error> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
        .map_err(|e| {
        Error::Config(format!("JWT private key is not a usable RSA PEM key: {e}"))
    })?;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .map_err(|e| Error::Config(format!("could not sign the JWT assertion: {e}")))
}

/// Parses a base URL (any scheme and port), rejecting ones that cannot be a base.
/// The token, if it can go in an `Authorization` header; else why not (never the token).
fn usable_token(token: &SecretString) -> Result<SecretString, &'static str> {
    let raw = token.expose_secret();
    if raw.trim().is_empty() {
        return Err("is empty");
    }
    if raw.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err("contains a control or non-ASCII character (a newline?), which cannot go in an HTTP header");
    }
    Ok(token.clone())
}

pub(crate) fn parse_base_url(what: &str, raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim()).map_err(|e| Error::Config(format!("{what} {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "{what} {raw:?}: the scheme must be https or http, not {:?}",
            url.scheme()
        )));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(Error::Config(format!(
            "{what} {raw:?} is not an http(s) base URL"
        )));
    }
    Ok(url)
}
