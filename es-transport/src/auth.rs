//! Credentials (basic, API key, bearer) with a `Debug` that never shows the secret.

use std::fmt;

use base64::Engine as _;
use http::HeaderValue;

/// Credentials sent in the `Authorization` header.
///
/// `Debug` prints `***` in place of every secret.
///
/// # Example
/// ```
/// use es_transport::Credentials;
///
/// let c = Credentials::basic("elastic", "changeme");
/// assert_eq!(format!("{c:?}"), r#"Basic { username: "elastic", password: *** }"#);
/// let k = Credentials::api_key("id", "key");
/// assert_eq!(k.header_value().unwrap().to_str().unwrap(), "ApiKey aWQ6a2V5");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// An API key, already base64-encoded as `base64(id:api_key)` (what Kibana shows as "encoded").
    ApiKey(String),
    /// A bearer token (service account token, OAuth2 access token).
    Bearer(String),
}

impl Credentials {
    /// Basic authentication.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// An API key from its id and key, sent as `ApiKey base64(id:api_key)`.
    pub fn api_key(id: impl AsRef<str>, api_key: impl AsRef<str>) -> Self {
        let raw = format!("{}:{}", id.as_ref(), api_key.as_ref());
        Credentials::ApiKey(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// An API key already encoded as base64 (`id:api_key`).
    pub fn encoded_api_key(encoded: impl Into<String>) -> Self {
        Credentials::ApiKey(encoded.into())
    }

    /// A bearer token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer(token.into())
    }

    /// The `Authorization` header value, marked sensitive (so `http` never prints it).
    ///
    /// # Errors
    /// When the credentials contain characters not allowed in a header (a newline, say).
    pub fn header_value(&self) -> crate::Result<HeaderValue> {
        let s = match self {
            Credentials::Basic { username, password } => {
                let raw = format!("{username}:{password}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            Credentials::ApiKey(k) => format!("ApiKey {k}"),
            Credentials::Bearer(t) => format!("Bearer {t}"),
        };
        let mut v = HeaderValue::from_str(&s).map_err(|_| {
            crate::Error::config("credentials contain characters not allowed in an HTTP header")
        })?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted;
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }
        match self {
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &Redacted)
                .finish(),
            Credentials::ApiKey(_) => f.debug_tuple("ApiKey").field(&Redacted).finish(),
            Credentials::Bearer(_) => f.debug_tuple("Bearer").field(&Redacted).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        let b = Credentials::basic("user", "p@ss:word")
            .header_value()
            .unwrap();
        assert!(b.is_sensitive());
        assert_eq!(b.to_str().unwrap(), "Basic dXNlcjpwQHNzOndvcmQ=");
        assert_eq!(
            Credentials::bearer("tok")
                .header_value()
                .unwrap()
                .to_str()
                .unwrap(),
            "Bearer tok"
        );
        assert_eq!(
            Credentials::encoded_api_key("abc=")
                .header_value()
                .unwrap()
                .to_str()
                .unwrap(),
            "ApiKey abc="
        );
        assert!(Credentials::bearer("a\nb").header_value().is_err());
    }

    #[test]
    fn debug_redacts() {
        for c in [
            Credentials::basic("u", "secret"),
            Credentials::api_key("i", "secret"),
            Credentials::bearer("secret"),
        ] {
            let d = format!("{c:?}");
            assert!(!d.contains("secret") && !d.contains("c2VjcmV0"), "{d}");
        }
    }
}
