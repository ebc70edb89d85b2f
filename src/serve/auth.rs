//! Who may call `/v1` and the Rasa webhook: a bearer token (`Authorization: Bearer …`;
//! Rasa's `action_endpoint` sends its `token` as the query parameter `token` instead, or
//! its `basic_auth` as `Authorization: Basic`, whose password is then the token), or
//! an HMAC-SHA256 signature over `TIMESTAMP.BODY` (`X-Agentc-Timestamp`: Unix seconds,
//! `X-Agentc-Signature: sha256=HEX`) within a tolerance window. With neither configured
//! the API is open (allowed on loopback only).

use super::errors::{ApiError, ErrorCode};
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

pub const TIMESTAMP_HEADER: &str = "x-agentc-timestamp";
pub const SIGNATURE_HEADER: &str = "x-agentc-signature";

#[derive(Clone, Default)]
pub struct Auth {
    pub token: Option<String>,
    pub signing_secret: Option<String>,
    pub tolerance: Duration,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values.
        f.debug_struct("Auth")
            .field("token", &self.token.is_some())
            .field("signing_secret", &self.signing_secret.is_some())
            .finish()
    }
}

/// Equal without saying where two texts differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The password of `Authorization: Basic BASE64(USER:PASSWORD)`, which Rasa's
/// `basic_auth` sends; the user is not read.
pub fn basic_password(headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let encoded = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (_, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(password.to_string())
}

/// `sha256=HEX` of `timestamp.body` under `secret`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

impl Auth {
    pub fn is_open(&self) -> bool {
        self.token.is_none() && self.signing_secret.is_none()
    }

    /// Whether the request may go on; `now` in Unix seconds. `route_token` is the token
    /// given in the ways only Rasa's routes take (`?token=`, Basic auth's password).
    pub fn check(
        &self,
        headers: &HeaderMap,
        route_token: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), ApiError> {
        if self.is_open() {
            return Ok(());
        }
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(token) = &self.token {
            let bearer = text("authorization").and_then(|v| v.strip_prefix("Bearer "));
            if let Some(given) = bearer.or(route_token) {
                return match same(given.trim().as_bytes(), token.as_bytes()) {
                    true => Ok(()),
                    false => Err(ApiError::new(ErrorCode::Unauthorized, "the token is wrong")),
                };
            }
        }
        let Some(secret) = &self.signing_secret else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "this server needs `Authorization: Bearer <token>`",
            ));
        };
        let bad = |message: &str| ApiError::new(ErrorCode::BadSignature, message);
        let (Some(timestamp), Some(given)) = (text(TIMESTAMP_HEADER), text(SIGNATURE_HEADER))
        else {
            return Err(bad(
                "this server needs `X-Agentc-Timestamp` and `X-Agentc-Signature` headers \
                 (or a bearer token, when one is configured)",
            ));
        };
        let at: i64 = timestamp
            .parse()
            .map_err(|_| bad("`X-Agentc-Timestamp` must be whole Unix seconds"))?;
        let tolerance = self.tolerance.as_secs() as i64;
        if (now - at).abs() > tolerance {
            return Err(ApiError::new(
                ErrorCode::StaleSignature,
                format!(
                    "the signature's timestamp is more than {tolerance} s from the server's clock"
                ),
            ));
        }
        match same(
            given.as_bytes(),
            signature(secret, timestamp, body).as_bytes(),
        ) {
            true => Ok(()),
            false => Err(bad("the signature does not match the body")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_signature_is_checked_against_body_and_time() {
        let auth = Auth {
            token: None,
            signing_secret: Some("s3cret".into()),
            tolerance: Duration::from_secs(300),
        };
        let body = br#"{"a":1}"#;
        let good = headers(&[
            (TIMESTAMP_HEADER, "1000".into()),
            (SIGNATURE_HEADER, signature("s3cret", "1000", body)),
        ]);
        assert_eq!(auth.check(&good, None, body, 1100), Ok(()));
        let code =
            |h: &HeaderMap, body: &[u8], now| auth.check(h, None, body, now).unwrap_err().code;
        assert_eq!(code(&good, b"{}", 1100), ErrorCode::BadSignature);
        assert_eq!(code(&good, body, 2000), ErrorCode::StaleSignature);
        assert_eq!(code(&HeaderMap::new(), body, 1100), ErrorCode::BadSignature);
    }

    #[test]
    fn a_token_must_be_the_one_configured() {
        let auth = Auth {
            token: Some("tok".into()),
            ..Auth::default()
        };
        let with = |v: &str| headers(&[("authorization", v.to_string())]);
        assert_eq!(auth.check(&with("Bearer tok"), None, b"", 0), Ok(()));
        assert_eq!(auth.check(&HeaderMap::new(), Some("tok"), b"", 0), Ok(()));
        let code = |h: &HeaderMap, query| auth.check(h, query, b"", 0).unwrap_err().code;
        assert_eq!(code(&with("Bearer to"), None), ErrorCode::Unauthorized);
        assert_eq!(code(&HeaderMap::new(), None), ErrorCode::Unauthorized);
        assert_eq!(code(&HeaderMap::new(), Some("to")), ErrorCode::Unauthorized);
        assert!(!format!("{auth:?}").contains("tok\""));
    }

    #[test]
    fn basic_auth_gives_its_password_whatever_the_user() {
        // "rasa:tok" and "any:t:k" in base64.
        let with = |v: &str| headers(&[("authorization", v.to_string())]);
        assert_eq!(
            basic_password(&with("Basic cmFzYTp0b2s=")).as_deref(),
            Some("tok")
        );
        assert_eq!(
            basic_password(&with("Basic YW55OnQ6aw==")).as_deref(),
            Some("t:k")
        );
        assert_eq!(basic_password(&with("Basic !!!")), None);
        assert_eq!(basic_password(&with("Bearer tok")), None);
    }
}
