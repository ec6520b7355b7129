//! A custom serializer: canonical JSON (object keys sorted), for example so that identical
//! queries produce identical bytes for a request cache.
//!
//! `ES_URL=http://localhost:9200 cargo run -p es-transport --example custom_serializer`

use es_transport::{Error, ErrorKind, JsonSerializer, Request, Serializer, Transport};

/// Writes JSON with sorted keys; reads like the default serializer.
#[derive(Debug)]
struct CanonicalJson;

impl Serializer for CanonicalJson {
    fn serialize(
        &self,
        value: &dyn erased_serde::Serialize,
        out: &mut Vec<u8>,
    ) -> es_transport::Result<()> {
        // Going through `serde_json::Value` sorts keys (its map is a BTreeMap by default).
        let v = serde_json::to_value(value)
            .map_err(|e| Error::custom(ErrorKind::Serialization, e.to_string()))?;
        serde_json::to_writer(out, &v)
            .map_err(|e| Error::custom(ErrorKind::Serialization, e.to_string()))
    }

    fn deserialize<'de>(
        &self,
        bytes: &'de [u8],
        visit: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'de>,
        ) -> Result<(), erased_serde::Error>,
    ) -> es_transport::Result<()> {
        JsonSerializer.deserialize(bytes, visit)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let transport = Transport::builder(url.as_str())
        .serializer(CanonicalJson)
        .build()?;
    let query = serde_json::json!({"size": 1, "query": {"match_all": {}}, "_source": false});
    let body = transport.serializer().to_vec(&query)?;
    println!("canonical body: {}", String::from_utf8_lossy(&body));
    assert_eq!(
        body,
        br#"{"_source":false,"query":{"match_all":{}},"size":1}"#
    );
    let resp = transport
        .send(Request::post("/_search").with_json_body(body))
        .await?;
    let parsed: serde_json::Value = transport.serializer().from_slice(resp.body())?;
    println!("took {} ms", parsed["took"]);
    Ok(())
}
