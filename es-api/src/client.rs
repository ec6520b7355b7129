//! The [`Client`]: a transport plus default request options; cheap to clone.

use std::sync::Arc;

use es_transport::{RequestOptions, Transport, TransportBuilder};

use crate::Result;

/// The Elasticsearch client: every endpoint, as `client.<namespace>().<endpoint>(..)` or,
/// for the root endpoints, `client.<endpoint>(..)`.
///
/// Cloning is cheap (it shares the transport's node pool and connections).
///
/// # Example
/// ```no_run
/// # async fn run() -> es_api::Result<()> {
/// use es_api::Client;
/// use serde_json::json;
///
/// let client = Client::from_url("http://localhost:9200")?;
/// client.indices().create("my-index").body(json!({"settings": {"number_of_shards": 1}})).await?;
/// client.index("my-index").id("1").body(json!({"title": "hello"})).refresh(true).await?;
/// let found = client.search().index("my-index").body(json!({"query": {"match_all": {}}})).await?;
/// println!("{}", found.text());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    options: Arc<RequestOptions>,
}

impl From<Transport> for Client {
    fn from(transport: Transport) -> Self {
        Client::new(transport)
    }
}

impl Client {
    /// A client over `transport`.
    pub fn new(transport: Transport) -> Self {
        Client {
            transport,
            options: Arc::new(RequestOptions::default()),
        }
    }

    /// A builder for a client over a new transport to `hosts`, with every transport setting
    /// ([`TransportBuilder`]): one chain for a client over several nodes.
    ///
    /// # Example
    /// ```no_run
    /// # fn run() -> es_api::Result<()> {
    /// use std::time::Duration;
    /// use es_api::Client;
    ///
    /// let client: Client = Client::builder(["http://es1:9200", "http://es2:9200"])
    ///     .basic_auth("elastic", "changeme")
    ///     .request_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// # let _ = client; Ok(())
    /// # }
    /// ```
    pub fn builder(hosts: impl es_transport::IntoNodeUrls) -> TransportBuilder<Client> {
        Transport::builder(hosts).output()
    }

    /// A client over a new transport to one node, `http://localhost:9200` style.
    ///
    /// # Errors
    /// An invalid URL.
    pub fn from_url(url: &str) -> Result<Self> {
        Ok(Client::new(Transport::new(url)?))
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// A client sharing this one's transport whose requests all carry `options` (merged over
    /// this client's defaults), like elasticsearch-py's `client.options(...)`.
    ///
    /// # Example
    /// ```no_run
    /// # fn f(client: &es_api::Client) {
    /// use es_api::RequestOptions;
    /// use std::time::Duration;
    ///
    /// let patient = client.options(RequestOptions::new().timeout(Duration::from_secs(60)).max_retries(0));
    /// let _req = patient.indices().refresh();
    /// # }
    /// ```
    pub fn options(&self, options: RequestOptions) -> Client {
        Client {
            transport: self.transport.clone(),
            options: Arc::new((*self.options).clone().merge(&options)),
        }
    }

    pub(crate) fn default_options(&self) -> &RequestOptions {
        &self.options
    }

    /// The options every request of this client carries (set with [`Client::options`]); for
    /// code that sends through [`Client::transport`] directly, such as the es-helpers crate.
    pub fn request_options(&self) -> &RequestOptions {
        &self.options
    }
}
