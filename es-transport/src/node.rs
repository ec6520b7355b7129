//! Node addresses: parsing host strings the way elasticsearch-py takes them.

use std::fmt;

use http::uri::{Authority, Scheme};
use percent_encoding::percent_decode_str;

use crate::auth::Credentials;
use crate::error::{Error, Result};

/// The address of one node: scheme, host, port, path prefix, and credentials from the URL.
///
/// Built from the strings elasticsearch-py accepts:
///
/// | input | result |
/// | --- | --- |
/// | `"localhost"` | `http://localhost:9200` |
/// | `"10.0.0.1:9201"` | `http://10.0.0.1:9201` |
/// | `"[::1]:9200"` | `http://[::1]:9200` |
/// | `"http://host:9200"` | as given |
/// | `"https://host"` | `https://host:443` (the scheme's default port) |
/// | `"https://user:secret@host:443/prefix"` | basic auth `user`/`secret` (percent-decoded), prefix `/prefix` |
///
/// `Display` and `Debug` never show the credentials.
///
/// # Example
/// ```
/// use es_transport::NodeUrl;
///
/// let n: NodeUrl = "https://elastic:p%40ss@es.example.com/proxy".parse().unwrap();
/// assert_eq!(n.to_string(), "https://es.example.com:443/proxy");
/// assert!(n.credentials().is_some());
/// assert!("http://bad host".parse::<NodeUrl>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NodeUrl {
    pub(crate) scheme: Scheme,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path_prefix: String,
    pub(crate) credentials: Option<Credentials>,
}

impl NodeUrl {
    /// A node at `scheme://host:port` with no prefix and no credentials.
    ///
    /// # Errors
    /// When the scheme is not `http` or `https`, or the host is empty or not a valid host.
    pub fn new(scheme: &str, host: &str, port: u16) -> Result<Self> {
        let scheme = match scheme {
            "http" => Scheme::HTTP,
            "https" => Scheme::HTTPS,
            other => {
                return Err(Error::config(format!(
                    "unsupported URL scheme `{other}` (use http or https)"
                )));
            }
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(Error::config("empty host name"));
        }
        let n = NodeUrl {
            scheme,
            host: host.to_owned(),
            port,
            path_prefix: String::new(),
            credentials: None,
        };
        n.authority()?;
        Ok(n)
    }

    /// Parses a host string (see the type's docs).
    ///
    /// # Errors
    /// A [`crate::ErrorKind::Config`] error saying what is wrong with the string.
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::config("empty host string"));
        }
        let had_scheme = s.contains("://");
        let full = if had_scheme {
            s.to_owned()
        } else {
            format!("http://{s}")
        };
        let bad = |why: &str| Error::config(format!("invalid host `{}`: {why}", redact(s)));
        let (scheme, rest) = full.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad(&format!(
                "unsupported scheme `{scheme}` (use http or https)"
            )));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("a query or fragment is not allowed"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        // Userinfo ends at the last `@` of the authority (a password may hold an `@` only
        // percent-encoded, but be lenient as browsers are).
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).map_err(&bad)?;
        let port = match port {
            Some(p) => p,
            None if !had_scheme => 9200,
            None if scheme == "https" => 443,
            None => 80,
        };
        if !path.bytes().all(is_path_byte) {
            return Err(bad("the path has a character that must be percent-encoded"));
        }
        let path_prefix = path.trim_end_matches('/').to_owned();
        let credentials = match userinfo {
            None => None,
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                let dec = |v: &str| percent_decode_str(v).decode_utf8_lossy().into_owned();
                Some(Credentials::basic(dec(user), dec(pass)))
            }
        };
        let mut n = NodeUrl::new(&scheme, &host, port)?;
        n.path_prefix = path_prefix;
        n.credentials = credentials;
        Ok(n)
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.scheme.as_str()
    }

    /// The host name or IP address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path prefix (`""` or `/something`, no trailing slash).
    pub fn path_prefix(&self) -> &str {
        &self.path_prefix
    }

    /// The credentials taken from the URL's userinfo.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Whether this is an `https` node.
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    pub(crate) fn host_for_authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    pub(crate) fn authority(&self) -> Result<Authority> {
        let s = format!("{}:{}", self.host_for_authority(), self.port);
        s.parse::<Authority>()
            .map_err(|_| Error::config(format!("invalid host `{s}`")))
    }

    /// Sets the path prefix (leading slash added, trailing slash removed).
    #[must_use]
    pub fn with_path_prefix(mut self, prefix: &str) -> Self {
        let p = prefix.trim_matches('/');
        self.path_prefix = if p.is_empty() {
            String::new()
        } else {
            format!("/{p}")
        };
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }
}

/// Splits `host[:port]` (`[v6]:port` for IPv6): the host lowercased, IPv6 without brackets;
/// the port when given. Host names are ASCII (IDNA is not done: give the `xn--` form).
fn split_host_port(s: &str) -> std::result::Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (ip, after) = v6.split_once(']').ok_or("an IPv6 address without `]`")?;
        ip.parse::<std::net::Ipv6Addr>()
            .map_err(|_| "not a valid IPv6 address")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("text after the IPv6 address")?),
        };
        (ip.to_ascii_lowercase(), port)
    } else {
        let (h, p) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if h.is_empty() {
            return Err("no host name");
        }
        if !h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(if h.is_ascii() {
                "the host name has a character that is not allowed"
            } else {
                "a non-ASCII host name: give its punycode (`xn--`) form"
            });
        }
        (h.to_ascii_lowercase(), p)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| "the port is over 65535")?)
        }
        Some(_) => return Err("the port is not a number"),
    };
    Ok((host, port))
}

/// Bytes allowed as they are in a URL path (RFC 3986 `pchar` and `/`; `%` for escapes).
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

fn redact(s: &str) -> String {
    // Never echo a password back in an error message.
    match (s.find("://"), s.rfind('@')) {
        (Some(i), Some(at)) if at > i => format!("{}://***@{}", &s[..i], &s[at + 1..]),
        (None, Some(at)) => format!("***@{}", &s[at + 1..]),
        _ => s.to_owned(),
    }
}

impl std::str::FromStr for NodeUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        NodeUrl::parse(s)
    }
}

impl fmt::Display for NodeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}:{}{}",
            self.scheme,
            self.host_for_authority(),
            self.port,
            self.path_prefix
        )
    }
}

impl fmt::Debug for NodeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeUrl({self}")?;
        if self.credentials.is_some() {
            f.write_str(", credentials: ***")?;
        }
        f.write_str(")")
    }
}

/// Anything that can name the nodes of a cluster: a string, a list of strings, parsed URLs.
pub trait IntoNodeUrls {
    /// Parses into node URLs.
    ///
    /// # Errors
    /// When a host string is invalid.
    fn into_node_urls(self) -> Result<Vec<NodeUrl>>;
}

impl IntoNodeUrls for &str {
    fn into_node_urls(self) -> Result<Vec<NodeUrl>> {
        Ok(vec![NodeUrl::parse(self)?])
    }
}

impl IntoNodeUrls for String {
    fn into_node_urls(self) -> Result<Vec<NodeUrl>> {
        self.as_str().into_node_urls()
    }
}

impl IntoNodeUrls for NodeUrl {
    fn into_node_urls(self) -> Result<Vec<NodeUrl>> {
        Ok(vec![self])
    }
}

impl<T: AsRef<str>> IntoNodeUrls for Vec<T> {
    fn into_node_urls(self) -> Result<Vec<NodeUrl>> {
        self.iter().map(|s| NodeUrl::parse(s.as_ref())).collect()
    }
}

impl<T: AsRef<str>> IntoNodeUrls for &[T] {
    fn into_node_urls(self) -> Result<Vec<NodeUrl>> {
        self.iter().map(|s| NodeUrl::parse(s.as_ref())).collect()
    }
}

impl<T: AsRef<str>, const N: usize> IntoNodeUrls for [T; N] {
    fn into_node_urls(self) -> Result<Vec<NodeUrl>> {
        self.iter().map(|s| NodeUrl::parse(s.as_ref())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NodeUrl {
        NodeUrl::parse(s).unwrap()
    }

    #[test]
    fn host_forms() {
        assert_eq!(p("localhost").to_string(), "http://localhost:9200");
        assert_eq!(p("es1:9201").to_string(), "http://es1:9201");
        assert_eq!(p("http://host:9200").to_string(), "http://host:9200");
        assert_eq!(p("https://host").to_string(), "https://host:443");
        assert_eq!(p("http://host").to_string(), "http://host:80");
        assert_eq!(p("[::1]:9200").to_string(), "http://[::1]:9200");
        assert_eq!(p("http://[::1]").host(), "::1");
        assert_eq!(p("http://host:9200/").path_prefix(), "");
        assert_eq!(p("HTTP://Host:9200").to_string(), "http://host:9200");
    }

    #[test]
    fn userinfo_and_prefix() {
        let n = p("https://user:s%40cr%3At@host:443/prefix/");
        assert_eq!(n.to_string(), "https://host:443/prefix");
        assert_eq!(n.credentials(), Some(&Credentials::basic("user", "s@cr:t")));
        assert!(!format!("{n:?}").contains("s@cr"));
        let u = p("http://elastic@host:9200");
        assert_eq!(u.credentials(), Some(&Credentials::basic("elastic", "")));
        // The last `@` ends the userinfo; IPv6 with credentials and a prefix.
        let v6 = p("https://u:p@ss@[2001:DB8::1]:9243/es");
        assert_eq!(v6.credentials(), Some(&Credentials::basic("u", "p@ss")));
        assert_eq!(v6.host(), "2001:db8::1");
        assert_eq!(v6.to_string(), "https://[2001:db8::1]:9243/es");
        assert_eq!(p("localhost:").port(), 9200);
        assert_eq!(
            p("https://xn--bcher-kva.example").host(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn bad_urls() {
        for bad in [
            "",
            "ftp://host",
            "http://",
            "http://bad host:9200",
            "http://host:99999",
            "http://host:9200?x=1",
            "http://u:secret@:9200",
            "http://host:port",
            "http://[::1",
            "http://[zz::1]:9200",
            "http://[::1]x",
            "http://héllo:9200",
            "http://host/a b",
            "http://host:9200#frag",
        ] {
            let e = NodeUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{bad}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}
