//! Elastic Cloud IDs: `name:base64("host[:port]$es_uuid[:port]$kibana_uuid[:port]")`.

use std::fmt;

use base64::Engine as _;

use crate::error::{Error, Result};
use crate::node::NodeUrl;
use crate::transport::{Transport, TransportBuilder};

/// A parsed Elastic Cloud ID.
///
/// The ID is `cluster-name:` followed by the base64 of `host$es_uuid$kibana_uuid`; the
/// Elasticsearch address is `https://{es_uuid}.{host}:{port}`. The port comes from the
/// Elasticsearch part (`es_uuid:9243`) when present, else from the host part
/// (`host:9243`), else 443. The cluster name and the Kibana part are optional.
///
/// # Example
/// ```
/// use es_transport::CloudId;
///
/// // base64("us-east-1.aws.found.io:9243$abc123$def456")
/// let id: CloudId = "my-deployment:dXMtZWFzdC0xLmF3cy5mb3VuZC5pbzo5MjQzJGFiYzEyMyRkZWY0NTY=".parse().unwrap();
/// assert_eq!(id.name(), "my-deployment");
/// assert_eq!(id.es_url().to_string(), "https://abc123.us-east-1.aws.found.io:9243");
/// assert_eq!(id.kibana_url().unwrap().to_string(), "https://def456.us-east-1.aws.found.io:9243");
/// assert!("my-deployment:not base64!".parse::<CloudId>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CloudId {
    name: String,
    es: NodeUrl,
    kibana: Option<NodeUrl>,
}

impl CloudId {
    /// Parses a Cloud ID (leading and trailing spaces ignored).
    ///
    /// # Errors
    /// A [`crate::ErrorKind::Config`] error saying what is wrong: not base64, not UTF-8,
    /// no host or Elasticsearch id, or a bad port.
    pub fn parse(cloud_id: &str) -> Result<Self> {
        let bad = |why: &str| Error::config(format!("invalid Cloud ID: {why}"));
        let s = cloud_id.trim();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        // The name may itself contain colons; the base64 part never does.
        let (name, encoded) = match s.rsplit_once(':') {
            Some((n, e)) => (n, e),
            None => ("", s),
        };
        if encoded.is_empty() {
            return Err(bad("nothing after the `:`; expected `name:base64-data`"));
        }
        let decoded = decode_base64(encoded)
            .ok_or_else(|| bad("the part after the `:` is not valid base64; copy the whole ID from the Cloud console"))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| bad("the decoded data is not text; copy the whole ID again"))?;
        let mut parts = decoded.trim().split('$');
        let host_part = parts.next().unwrap_or_default();
        let es_part = parts.next().unwrap_or_default();
        let kibana_part = parts.next().unwrap_or_default();
        let (host, host_port) =
            split_port(host_part).map_err(|p| bad(&format!("bad port `{p}` in the host part")))?;
        if host.is_empty() {
            return Err(bad(
                "no host name in the decoded data (expected `host$es_uuid$kibana_uuid`)",
            ));
        }
        let (es_uuid, es_port) = split_port(es_part)
            .map_err(|p| bad(&format!("bad port `{p}` in the Elasticsearch part")))?;
        if es_uuid.is_empty() {
            return Err(bad(
                "no Elasticsearch cluster id in the decoded data (expected `host$es_uuid$kibana_uuid`)",
            ));
        }
        let default_port = host_port.unwrap_or(443);
        let url = |uuid: &str, port: u16| {
            NodeUrl::new("https", &format!("{uuid}.{host}"), port)
                .map_err(|_| bad(&format!("`{uuid}.{host}` is not a valid host name")))
        };
        let es = url(es_uuid, es_port.unwrap_or(default_port))?;
        let kibana = match split_port(kibana_part) {
            Ok(("", _)) => None,
            Ok((uuid, port)) => Some(url(uuid, port.unwrap_or(default_port))?),
            Err(p) => return Err(bad(&format!("bad port `{p}` in the Kibana part"))),
        };
        Ok(CloudId {
            name: name.to_owned(),
            es,
            kibana,
        })
    }

    /// The deployment name (before the `:`; may be empty).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Elasticsearch endpoint (always `https`).
    pub fn es_url(&self) -> &NodeUrl {
        &self.es
    }

    /// The Kibana endpoint, when the ID has one.
    pub fn kibana_url(&self) -> Option<&NodeUrl> {
        self.kibana.as_ref()
    }
}

/// Accepts padded or unpadded, standard or URL-safe base64.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let std = GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    std.decode(s).or_else(|_| url.decode(s)).ok()
}

/// `host:port` into host and port; the port must be a number in 1..=65535.
fn split_port(s: &str) -> std::result::Result<(&str, Option<u16>), String> {
    match s.rsplit_once(':') {
        None => Ok((s, None)),
        Some((h, p)) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok((h, Some(n))),
            _ => Err(p.to_owned()),
        },
    }
}

impl std::str::FromStr for CloudId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CloudId::parse(s)
    }
}

impl fmt::Debug for CloudId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudId")
            .field("name", &self.name)
            .field("es", &self.es.to_string())
            .field("kibana", &self.kibana.as_ref().map(ToString::to_string))
            .finish()
    }
}

// ===== impl Transport (Cloud ID) =====

impl Transport {
    /// A builder for an Elastic Cloud deployment, from its Cloud ID.
    ///
    /// Like elasticsearch-py's `cloud_id=`: the node is the deployment's `https` Elasticsearch
    /// endpoint, request compression is on ([`TransportBuilder::http_compress`]) and sniffing
    /// off (Cloud's proxies hide the nodes). Both are only defaults: later builder calls
    /// override them. Add credentials, usually [`TransportBuilder::api_key`].
    ///
    /// A malformed ID is reported by [`TransportBuilder::build`], or early by [`CloudId::parse`].
    ///
    /// # Example
    /// ```no_run
    /// # fn run() -> es_transport::Result<()> {
    /// use es_transport::Transport;
    ///
    /// let transport = Transport::builder_from_cloud_id(&std::env::var("ES_CLOUD_ID").unwrap())
    ///     .api_key("VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw")
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder_from_cloud_id(cloud_id: &str) -> TransportBuilder {
        match CloudId::parse(cloud_id) {
            Ok(id) => TransportBuilder::from(id),
            Err(e) => {
                let mut b = Transport::builder(Vec::<String>::new());
                b.hosts = Err(e);
                b.cloud_defaults()
            }
        }
    }
}

impl<O> TransportBuilder<O> {
    fn cloud_defaults(self) -> Self {
        self.http_compress(true)
            .sniff_on_start(false)
            .sniff_on_connection_fail(false)
            .disable_sniff_interval()
    }

    fn disable_sniff_interval(mut self) -> Self {
        self.sniff.interval = None;
        self
    }
}

impl From<CloudId> for TransportBuilder {
    /// The same as [`Transport::builder_from_cloud_id`] with a parsed ID.
    fn from(id: CloudId) -> Self {
        Transport::builder(id.es).cloud_defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str, decoded: &str) -> String {
        format!(
            "{name}:{}",
            base64::engine::general_purpose::STANDARD.encode(decoded)
        )
    }

    #[test]
    fn real_format_ids() {
        // Elastic's documented example.
        let c = CloudId::parse(
            "cluster:dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRjZWM2ZjI2MWE3NGJmMjRjZTMzYmI4ODExYjg0Mjk0ZiRjNmMyY2E2ZDA0MjI0OWFmMGNjN2Q3YTllOTYyNTc0Mw==",
        )
        .unwrap();
        assert_eq!(c.name(), "cluster");
        assert_eq!(
            c.es_url().to_string(),
            "https://cec6f261a74bf24ce33bb8811b84294f.us-east-1.aws.found.io:443"
        );
        assert_eq!(
            c.kibana_url().unwrap().to_string(),
            "https://c6c2ca6d042249af0cc7d7a9e9625743.us-east-1.aws.found.io:443"
        );
        assert!(c.es_url().credentials().is_none());
    }

    #[test]
    fn ports() {
        let c =
            CloudId::parse(&id("n", "westeurope.azure.elastic-cloud.com:9243$es1$kb1")).unwrap();
        assert_eq!(c.es_url().port(), 9243);
        assert_eq!(c.kibana_url().unwrap().port(), 9243);
        let c = CloudId::parse(&id(
            "n",
            "westeurope.azure.elastic-cloud.com:9243$es1:9200$kb1:5601",
        ))
        .unwrap();
        assert_eq!(
            c.es_url().to_string(),
            "https://es1.westeurope.azure.elastic-cloud.com:9200"
        );
        assert_eq!(c.kibana_url().unwrap().port(), 5601);
        // No name, no Kibana, unpadded and URL-safe base64.
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("gcp.cloud.es.io$abc");
        let c = CloudId::parse(&raw).unwrap();
        assert_eq!((c.name(), c.kibana_url()), ("", None));
        assert_eq!(c.es_url().host(), "abc.gcp.cloud.es.io");
        // A name with a colon in it.
        assert_eq!(CloudId::parse(&id("a:b", "h$e")).unwrap().name(), "a:b");
    }

    #[test]
    fn malformed() {
        let cases = [
            ("".to_owned(), "empty"),
            ("name:".to_owned(), "nothing after"),
            ("name:%%%".to_owned(), "not valid base64"),
            (
                format!(
                    "n:{}",
                    base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0x00])
                ),
                "not text",
            ),
            (id("n", "host.only"), "no Elasticsearch cluster id"),
            (id("n", "$es$kb"), "no host name"),
            (
                id("n", "host:port$es$kb"),
                "bad port `port` in the host part",
            ),
            (id("n", "host:99999$es$kb"), "bad port `99999`"),
            (id("n", "host$es:x$kb"), "Elasticsearch part"),
            (id("n", "host$es$kb:0"), "Kibana part"),
            (id("n", "bad host$es"), "not a valid host name"),
        ];
        for (input, want) in cases {
            let err = CloudId::parse(&input).unwrap_err();
            let msg = err.to_string();
            assert_eq!(err.kind(), crate::ErrorKind::Config);
            assert!(
                msg.contains("invalid Cloud ID") && msg.contains(want),
                "{input:?}: {msg}"
            );
        }
    }

    #[test]
    fn builder_defaults_and_overrides() {
        let good = id("n", "cloud.es.io$abc");
        let b = Transport::builder_from_cloud_id(&good);
        assert!(b.compress);
        assert!(!b.sniff.enabled());
        assert_eq!(
            b.hosts.as_ref().unwrap()[0].to_string(),
            "https://abc.cloud.es.io:443"
        );
        let b = Transport::builder_from_cloud_id(&good)
            .http_compress(false)
            .sniff_on_start(true);
        assert!(!b.compress && b.sniff.on_start);
        let err = Transport::builder_from_cloud_id("n:!!")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("invalid Cloud ID"), "{err}");
    }
}
