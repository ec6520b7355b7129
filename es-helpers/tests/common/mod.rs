//! Helpers shared by the scan tests.

use es_api::Client;
use es_api::es_transport::{Request, RequestOptions};
use serde_json::json;

/// Whether the server still knows this scroll id (asked directly, not through a proxy).
pub(crate) async fn scroll_alive(direct: &Client, id: &str) -> bool {
    let req = Request::post("/_search/scroll")
        .with_json_body(json!({"scroll": "1m", "scroll_id": id}).to_string())
        .with_options(RequestOptions::new().ignore_status([404]).max_retries(0));
    let status = direct
        .transport()
        .send(req)
        .await
        .expect("scroll")
        .status()
        .as_u16();
    assert!(status == 200 || status == 404, "{status}");
    status == 200
}
