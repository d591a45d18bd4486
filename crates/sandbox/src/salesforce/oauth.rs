//! `POST /services/oauth2/token` (reference §2) and the bearer-token check every REST
//! call goes through (§2.6): issued tokens can expire after N requests, after a time,
//! or on demand.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::SimState;

/// One issued access token.
#[derive(Debug, Clone)]
pub struct TokenState {
    issued: Instant,
    uses: u64,
    /// Set by [`super::SalesforceSim::expire_tokens`].
    pub revoked: bool,
}

/// A token-endpoint error: 400 `{"error", "error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_grant`, `invalid_client`, …
    pub error: &'static str,
    /// The human text.
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": self.error, "error_description": self.description})
    }
}

/// The JWT claims Salesforce reads (`exp` may be a number or a string).
#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    prn: Option<String>,
    aud: Option<Value>,
    exp: Option<Value>,
}

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Handles a token request. `form` is the decoded body, `basic` the decoded
/// `Authorization: Basic` pair if any, `origin` this server's own URL (`http://host:port`).
pub fn token(
    state: &mut SimState,
    form: &HashMap<String, String>,
    basic: Option<(String, String)>,
    origin: &str,
    now_unix: u64,
) -> Result<Value, OAuthError> {
    let grant = form
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    let client = || {
        basic.clone().or_else(|| {
            Some((
                form.get("client_id")?.clone(),
                form.get("client_secret")?.clone(),
            ))
        })
    };
    let check_client = |client: Option<(String, String)>| -> Result<(), OAuthError> {
        let Some((id, secret)) = client else {
            return Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            ));
        };
        match &state.config.required_client {
            Some((rid, _)) if *rid != id => Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            )),
            Some((_, rsecret)) if *rsecret != secret => Err(OAuthError::new(
                "invalid_client",
                "invalid client credentials",
            )),
            _ => Ok(()),
        }
    };
    match grant {
        "client_credentials" => {
            // Only the org's My Domain serves this flow (§2.1).
            let host = origin.split("://").nth(1).unwrap_or(origin);
            if host.starts_with("login.") || host.starts_with("test.") {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "request not supported on this domain",
                ));
            }
            check_client(client())?;
        }
        "password" => {
            check_client(client())?;
            let user = form.get("username").filter(|u| !u.is_empty());
            let pass = form.get("password").filter(|p| !p.is_empty());
            if user.is_none() || pass.is_none() {
                return Err(OAuthError::new("invalid_grant", "authentication failure"));
            }
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let assertion = form
                .get("assertion")
                .map(String::as_str)
                .unwrap_or_default();
            check_assertion(state, assertion, origin, now_unix)?;
        }
        "refresh_token" => {
            // The client id is required, the secret optional (reference §2.4).
            let (id, secret) = match basic.clone() {
                Some((id, secret)) => (Some(id), Some(secret)),
                None => (
                    form.get("client_id").cloned(),
                    form.get("client_secret").cloned(),
                ),
            };
            let Some(id) = id.filter(|id| !id.is_empty()) else {
                return Err(OAuthError::new(
                    "invalid_client_id",
                    "client identifier invalid",
                ));
            };
            if let Some((rid, rsecret)) = &state.config.required_client {
                if *rid != id {
                    return Err(OAuthError::new(
                        "invalid_client_id",
                        "client identifier invalid",
                    ));
                }
                if secret.is_some_and(|s| s != *rsecret) {
                    return Err(OAuthError::new(
                        "invalid_client",
                        "invalid client credentials",
                    ));
                }
            }
            let given = form.get("refresh_token").filter(|t| !t.is_empty());
            if given.is_none() || given != state.config.refresh_token.as_ref() {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "expired access/refresh token",
                ));
            }
        }
        _ => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "grant type not supported",
            ))
        }
    }
    state.next_token += 1;
    let n = state.next_token;
    let access_token = format!(
        "00DSIM000000001!AQ{n:06}.sandbox{:016x}",
        rand::random::<u64>()
    );
    state.tokens.insert(
        access_token.clone(),
        TokenState {
            issued: Instant::now(),
            uses: 0,
            revoked: false,
        },
    );
    let issued_at = format!("{}", now_unix * 1000);
    let id = "https://login.salesforce.com/id/00DSIM000000001MAA/0058SIM00000001AAA".to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"sandbox-signing-key")
        .map_err(|_| OAuthError::new("server_error", "hmac"))?;
    mac.update(format!("{id}{issued_at}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Ok(json!({
        "access_token": access_token,
        "signature": signature,
        "scope": "api",
        "instance_url": origin,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }))
}

/// Validates a JWT bearer assertion: RS256, signature (when a key is configured),
/// `iss`, `sub`/`prn`, `aud` and `exp` (§2.2).
fn check_assertion(
    state: &SimState,
    assertion: &str,
    origin: &str,
    now_unix: u64,
) -> Result<(), OAuthError> {
    let invalid = || OAuthError::new("invalid_grant", "invalid assertion");
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, payload, _sig] = parts.as_slice() else {
        return Err(invalid());
    };
    let header: Value = B64URL
        .decode(header)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(invalid)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(OAuthError::new(
            "invalid_grant",
            "invalid assertion: only RS256 is supported",
        ));
    }
    let claims: Claims = B64URL
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(invalid)?;
    if let Some(pem) = &state.config.jwt_public_key_pem {
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
            OAuthError::new(
                "server_error",
                "sandbox JWT public key is not a valid RSA PEM",
            )
        })?;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(assertion, &key, &v).map_err(|_| {
            OAuthError::new(
                "invalid_grant",
                "invalid assertion: signature does not verify",
            )
        })?;
    }
    let iss = claims.iss.unwrap_or_default();
    match &state.config.required_client {
        Some((id, _)) if *id != iss => {
            return Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            ))
        }
        None if iss.is_empty() => {
            return Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            ))
        }
        _ => {}
    }
    if claims.prn.or(claims.sub).is_none_or(|s| s.is_empty()) {
        return Err(OAuthError::new(
            "invalid_grant",
            "user hasn't approved this consumer",
        ));
    }
    let auds: Vec<String> = match claims.aud {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    };
    let origin = origin.trim_end_matches('/');
    let ok_aud = |a: &str| {
        let a = a.trim_end_matches('/');
        a == "https://login.salesforce.com" || a == "https://test.salesforce.com" || a == origin
    };
    if !auds.iter().any(|a| ok_aud(a)) {
        return Err(OAuthError::new("invalid_grant", "audience is invalid"));
    }
    let exp = match claims.exp {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(invalid)?;
    // `exp` is in seconds; allow three minutes of clock skew.
    if exp + 180 < now_unix {
        return Err(OAuthError::new(
            "invalid_grant",
            "expired authorization code",
        ));
    }
    Ok(())
}

/// Whether the `Authorization` header carries a live token (`Bearer x` or `OAuth x`);
/// counts the use against a request-based TTL.
pub fn authorize(state: &mut SimState, header: Option<&str>) -> bool {
    let Some(token) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("OAuth "))
    }) else {
        return false;
    };
    let ttl_requests = state.config.token_ttl_requests;
    let ttl: Option<Duration> = state.config.token_ttl;
    let Some(t) = state.tokens.get_mut(token.trim()) else {
        return false;
    };
    if t.revoked || ttl.is_some_and(|d| t.issued.elapsed() >= d) {
        return false;
    }
    t.uses += 1;
    if ttl_requests.is_some_and(|n| t.uses > n) {
        t.revoked = true;
        return false;
    }
    true
}
