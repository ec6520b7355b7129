//! Query parameter rendering: booleans, numbers, times, lists, enums, dates, options.

use std::time::{Duration, UNIX_EPOCH};

use es_api::params::{ExpandWildcards, Refresh, VersionType};
use es_api::{Client, RequestOptions};

fn client() -> Client {
    Client::from_url("http://localhost:9200").unwrap()
}

fn query(req: &es_api::es_transport::Request) -> &str {
    req.path().split_once('?').map_or("", |(_, q)| q)
}

#[test]
fn typed_setters_render_wire_values() {
    let req = client()
        .search()
        .index("i")
        .allow_no_indices(true)
        .size(10)
        .from(0)
        .scroll(Duration::from_secs(60))
        .timeout("1500ms")
        .expand_wildcards([ExpandWildcards::Open, ExpandWildcards::Hidden])
        ._source(["a", "b.c"])
        .track_total_hits(10_000)
        .q("title:\"a b\" +x")
        .into_request()
        .unwrap();
    assert_eq!(
        query(&req),
        "allow_no_indices=true&size=10&from=0&scroll=1m&timeout=1500ms&expand_wildcards=open,hidden\
         &_source=a,b.c&track_total_hits=10000&q=title%3A%22a%20b%22%20%2Bx"
    );
}

#[test]
fn enums_accept_bools_when_the_spec_has_true_and_false() {
    let req = client()
        .index("i")
        .raw_body("{}")
        .refresh(true)
        .into_request()
        .unwrap();
    assert_eq!(query(&req), "refresh=true");
    let req = client()
        .index("i")
        .raw_body("{}")
        .refresh(Refresh::WaitFor)
        .version_type(VersionType::ExternalGte)
        .into_request()
        .unwrap();
    assert_eq!(query(&req), "refresh=wait_for&version_type=external_gte");
    assert_eq!(Refresh::WaitFor.to_string(), "wait_for");
}

#[test]
fn setting_twice_replaces() {
    let req = client().count().q("a").q("b").into_request().unwrap();
    assert_eq!(query(&req), "q=b");
}

#[test]
fn keyword_params_get_a_trailing_underscore() {
    let req = client()
        .nodes()
        .hot_threads()
        .type_(es_api::params::Type::Cpu)
        .into_request()
        .unwrap();
    assert_eq!(req.path(), "/_nodes/hot_threads?type=cpu");
}

#[test]
fn dates_and_common_params() {
    let req = client()
        .ml()
        .get_buckets("job")
        .start(UNIX_EPOCH + Duration::from_secs(86_400))
        .end("now")
        .filter_path(["buckets.timestamp"])
        .human(true)
        .into_request()
        .unwrap();
    assert_eq!(
        req.path(),
        "/_ml/anomaly_detectors/job/results/buckets?start=1970-01-02T00%3A00%3A00.000Z&end=now&filter_path=buckets.timestamp&human=true"
    );
}

#[test]
fn request_options_reach_the_transport_request() {
    let c = client().options(
        RequestOptions::new()
            .opaque_id("from-client")
            .max_retries(1),
    );
    let req = c
        .indices()
        .get("i")
        .request_timeout(Duration::from_secs(3))
        .ignore_status([404])
        .header("x-test", "1")
        .into_request()
        .unwrap();
    assert_eq!(req.options().ignored_statuses(), &[404]);
    let debug = format!("{:?}", req.options());
    assert!(
        debug.contains("3s") && debug.contains("from-client") && debug.contains("x-test"),
        "{debug}"
    );
}

#[test]
fn wait_for_active_shards_is_a_count_or_all() {
    use es_api::params::ActiveShards;
    let req = client()
        .index("i")
        .raw_body("{}")
        .wait_for_active_shards(2)
        .into_request()
        .unwrap();
    assert_eq!(query(&req), "wait_for_active_shards=2");
    let req = client()
        .cluster()
        .health()
        .wait_for_active_shards(ActiveShards::All)
        .into_request()
        .unwrap();
    assert_eq!(query(&req), "wait_for_active_shards=all");
}
