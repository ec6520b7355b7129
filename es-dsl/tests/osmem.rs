//! Queries and aggregations built with es-dsl, run against a real server (osmem-server,
//! the in-memory Elasticsearch-compatible server, over real sockets), results read back
//! typed. Where osmem answers differently from Elasticsearch the test says so.

use es_dsl::es_api::Client;
use es_dsl::es_api::es_transport::Request;
use es_dsl::es_api::params::Refresh;
use es_dsl::es_api::types::aggregations::CalendarInterval;
use es_dsl::{Agg, Query, Search, SearchResults, Sort};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Comment {
    author: String,
    stars: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Post {
    title: String,
    body: String,
    status: String,
    tags: Vec<String>,
    price: f64,
    published: String,
    comments: Vec<Comment>,
}

fn post(i: usize) -> Post {
    let tags: &[&str] = match i % 3 {
        0 => &["rust", "async"],
        1 => &["rust"],
        _ => &["python"],
    };
    Post {
        title: format!("{} post {i}", if i % 3 == 2 { "Python" } else { "Rust" }),
        body: if i.is_multiple_of(2) {
            "tokio and futures".into()
        } else {
            "ownership and borrowing".into()
        },
        status: if i % 4 == 3 {
            "draft".into()
        } else {
            "published".into()
        },
        tags: tags.iter().map(|t| t.to_string()).collect(),
        price: (i as f64 + 1.0) * 10.0,
        // Two posts a month from January 2026.
        published: format!("2026-{:02}-{:02}", i / 2 + 1, 10 + i % 2),
        comments: vec![
            Comment {
                author: format!("user{}", i % 2),
                stars: (i % 5) as i64 + 1,
            },
            Comment {
                author: "bob".into(),
                stars: 5,
            },
        ],
    }
}

const N: usize = 12;

async fn setup() -> (es_tests::OsmemServer, Client) {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    let mapping = json!({"mappings": {"properties": {
        "title": {"type": "text"},
        "body": {"type": "text"},
        "status": {"type": "keyword"},
        "tags": {"type": "keyword"},
        "price": {"type": "double"},
        "published": {"type": "date"},
        "comments": {"type": "nested", "properties": {
            "author": {"type": "keyword"}, "stars": {"type": "integer"}
        }}
    }}});
    client
        .indices()
        .create("posts")
        .body(mapping)
        .send()
        .await
        .unwrap();
    for i in 0..N {
        client
            .index("posts")
            .id(i.to_string())
            .body(post(i))
            .refresh(if i + 1 == N {
                Refresh::True
            } else {
                Refresh::False
            })
            .send()
            .await
            .unwrap();
    }
    (server, client)
}

async fn run(client: &Client, s: Search<Post>) -> SearchResults<Post> {
    match s.execute(client).await {
        Ok(r) => r,
        Err(e) => panic!(
            "{e}: {}",
            e.api()
                .and_then(|a| a.api_error())
                .map(|a| String::from_utf8_lossy(a.body()).to_string())
                .unwrap_or_default()
        ),
    }
}

fn ids(r: &SearchResults<Post>) -> Vec<String> {
    r.hits()
        .iter()
        .map(|h| h.id.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_against_a_real_server() {
    let (_server, client) = setup().await;
    let base = Search::<Post>::new().index("posts").size(50).sort("price");

    // bool with filters: rust posts, published, priced 20..=80.
    let r = run(
        &client,
        base.clone()
            .query(Query::match_("title", "rust"))
            .filter(Query::term("status", "published"))
            .filter(Query::range("price").gte(20).lte(80)),
    )
    .await;
    assert_eq!(ids(&r), ["1", "4", "6"]);
    assert!(
        r.documents()
            .all(|p| p.status == "published" && p.title.starts_with("Rust"))
    );

    // exclude and operators.
    let r = run(
        &client,
        base.clone()
            .query(Query::term("tags", "rust") & !Query::term("tags", "async"))
            .exclude(Query::term("status", "draft")),
    )
    .await;
    assert_eq!(ids(&r), ["1", "4", "10"]);

    // multi_match over title and body.
    let r = run(
        &client,
        base.clone()
            .query(Query::multi_match("tokio", ["title", "body"])),
    )
    .await;
    assert_eq!(ids(&r), ["0", "2", "4", "6", "8", "10"]);

    // nested: a comment by user1 with 2 stars or more.
    let r = run(
        &client,
        base.clone().query(Query::nested(
            "comments",
            Query::term("comments.author", "user1") & Query::range("comments.stars").gte(3),
        )),
    )
    .await;
    // Odd posts have user1; stars = i % 5 + 1 >= 3 for i % 5 in {2, 3, 4}.
    assert_eq!(ids(&r), ["3", "7", "9"]);

    // range with date math: published in the 31 days up to 2026-06-11 (date math on a
    // fixed anchor, so the test does not depend on today).
    let r = run(
        &client,
        base.clone().query(
            Query::range("published")
                .gte("2026-06-11||-31d")
                .lte("2026-06-11"),
        ),
    )
    .await;
    assert_eq!(ids(&r), ["9", "10", "11"]);

    // sort with search_after: pages of 5 by price, then by _id, until done.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let mut s = Search::<Post>::new()
            .index("posts")
            .size(5)
            .sort(Sort::desc("price"));
        if let Some(a) = after.take() {
            s = s.search_after(a);
        }
        let page = run(&client, s).await;
        if page.hits().is_empty() {
            break;
        }
        seen.extend(ids(&page));
        after = page.last_sort().cloned();
    }
    let expected: Vec<String> = (0..N).rev().map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
}

/// Sorting by a field of nested objects, only those matching a filter (`Sort::nested_filter`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_sort_against_a_real_server() {
    use es_dsl::es_api::types::common::SortMode;
    let (_server, client) = setup().await;
    let odd = Search::<Post>::new()
        .index("posts")
        .size(50)
        .filter(Query::ids(["1", "3", "5", "7", "9", "11"]));
    // Odd posts have a comment by user1 with i % 5 + 1 stars, and bob's 5 stars: the
    // highest user1 comment first, ties by price.
    let r = run(
        &client,
        odd.clone()
            .sort(
                Sort::desc("comments.stars")
                    .mode(SortMode::Max)
                    .nested_filter("comments", Query::term("comments.author", "user1")),
            )
            .sort("price"),
    )
    .await;
    assert_eq!(ids(&r), ["9", "3", "7", "1", "11", "5"]);
    // Without the filter bob's 5 stars tie every post: the price decides.
    let r = run(
        &client,
        odd.sort(
            Sort::desc("comments.stars")
                .mode(SortMode::Max)
                .nested("comments"),
        )
        .sort("price"),
    )
    .await;
    assert_eq!(ids(&r), ["1", "3", "5", "7", "9", "11"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregations_against_a_real_server() {
    let (_server, client) = setup().await;
    let s = Search::<Post>::new()
        .index("posts")
        .size(0)
        .agg(
            "by_tag",
            Agg::terms("tags")
                .size(10)
                .agg("avg_price", Agg::avg("price")),
        )
        .agg(
            "per_month",
            Agg::date_histogram("published", CalendarInterval::Month)
                .agg("sales", Agg::sum("price")),
        )
        .agg(
            "price_ranges",
            Agg::range(
                "price",
                &[
                    (None, Some(50.0)),
                    (Some(50.0), Some(100.0)),
                    (Some(100.0), None),
                ],
            ),
        )
        .agg(
            "statuses",
            Agg::filters([
                ("published", Query::term("status", "published")),
                ("draft", Query::term("status", "draft")),
            ]),
        )
        .agg(
            "comments",
            Agg::nested("comments").agg("by_author", Agg::terms("comments.author").size(5)),
        )
        .agg("distinct_tags", Agg::cardinality("tags"))
        .agg("price_pct", Agg::percentiles("price", &[50.0]))
        .agg("cheapest", Agg::top_hits_sorted(1, Sort::asc("price")));
    let r = run(&client, s).await;
    let aggs = r.aggs();

    // terms + avg: rust 8 posts (i%3 in {0,1}), async 4, python 4.
    let tags = aggs.terms("by_tag").unwrap();
    let counts: Vec<(String, i64)> = tags
        .iter()
        .map(|b| (b.key_str().unwrap().to_string(), b.doc_count))
        .collect();
    assert_eq!(
        counts,
        [
            ("rust".to_string(), 8),
            ("async".into(), 4),
            ("python".into(), 4)
        ]
    );
    let python_avg = tags[2].aggs().value("avg_price").unwrap().unwrap();
    // python posts are i = 2, 5, 8, 11: prices 30, 60, 90, 120.
    assert_eq!(python_avg, 75.0);

    // date_histogram: 6 months, 2 posts each; sums per month.
    let months = aggs.histogram("per_month").unwrap();
    assert_eq!(months.len(), 6);
    assert!(months.iter().all(|b| b.doc_count == 2));
    assert_eq!(
        months[0].key_as_string.map(|s| s.starts_with("2026-01")),
        Some(true)
    );
    assert_eq!(months[0].aggs().value("sales").unwrap(), Some(30.0));

    // range buckets: <50 (10..40: 4), 50..100 (50..90: 5), >=100 (100..120: 3).
    let ranges = aggs.range("price_ranges").unwrap();
    let rc: Vec<i64> = ranges.iter().map(|b| b.doc_count).collect();
    assert_eq!(rc, [4, 5, 3]);
    assert_eq!(ranges[1].range, Some((Some(50.0), Some(100.0))));

    // filters: 3 drafts (i % 4 == 3: 3, 7, 11).
    // (Elasticsearch returns keyed filters sorted by name.)
    let statuses = aggs.filters("statuses").unwrap();
    let mut sc: Vec<(String, i64)> = statuses
        .iter()
        .map(|b| (b.key_str().unwrap().to_string(), b.doc_count))
        .collect();
    sc.sort();
    assert_eq!(sc, [("draft".to_string(), 3), ("published".into(), 9)]);

    // nested: 24 comments; bob on every post.
    let comments = aggs.single("comments").unwrap();
    assert_eq!(comments.doc_count, 24);
    let authors = comments.aggs().terms("by_author").unwrap();
    assert_eq!(
        (authors[0].key_str(), authors[0].doc_count),
        (Some("bob"), 12)
    );

    // cardinality and percentiles.
    assert_eq!(aggs.value("distinct_tags").unwrap(), Some(3.0));
    let pct = aggs.percentiles("price_pct").unwrap();
    assert_eq!(pct.len(), 1);
    let median = pct[0].1.unwrap();
    assert!((60.0..=70.0).contains(&median), "{pct:?}");

    // top_hits: the cheapest post.
    let top = aggs.top_hits("cheapest").unwrap();
    let doc: Post = serde_json::from_value(top.hits[0].source.clone().unwrap()).unwrap();
    assert_eq!(doc.price, 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_pages_with_the_after_key() {
    let (_server, client) = setup().await;
    let mut agg = Agg::composite_terms([("tag", "tags"), ("status", "status")], 2);
    let mut pages = Vec::new();
    loop {
        let s = Search::<Post>::new()
            .index("posts")
            .size(0)
            .agg("pairs", agg.clone());
        let r = run(&client, s).await;
        let (buckets, after) = r.aggs().composite("pairs").unwrap();
        if buckets.is_empty() {
            break;
        }
        pages.push(
            buckets
                .iter()
                .map(|b| (b.key.clone(), b.doc_count))
                .collect::<Vec<_>>(),
        );
        match after {
            Some(a) => agg = agg.composite_after(a).unwrap(),
            None => break,
        }
        assert!(pages.len() < 10, "the after key must advance");
    }
    let all: Vec<(Value, i64)> = pages.concat();
    // (tag, status) pairs sorted: async/draft 1 (i=3), async/published 3, python/draft 1
    // (i=11), python/published 3, rust/draft 2 (3, 7), rust/published 6.
    let expected = [
        (json!({"tag": "async", "status": "draft"}), 1),
        (json!({"tag": "async", "status": "published"}), 3),
        (json!({"tag": "python", "status": "draft"}), 1),
        (json!({"tag": "python", "status": "published"}), 3),
        (json!({"tag": "rust", "status": "draft"}), 2),
        (json!({"tag": "rust", "status": "published"}), 6),
    ];
    assert_eq!(all, expected);
    assert!(pages.iter().all(|p| p.len() <= 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_count_and_delete() {
    use futures_util::TryStreamExt;
    let (_server, client) = setup().await;
    let published = Search::<Post>::new()
        .index("posts")
        .filter(Query::term("status", "published"));
    assert_eq!(published.count(&client).await.unwrap(), 9);
    // scan: every published post, as Post, through a point in time.
    let mut stream = published.scan(&client);
    let mut titles = Vec::new();
    while let Some(hit) = stream.try_next().await.unwrap() {
        let post: &Post = hit.source.as_ref().expect("a source");
        assert_eq!(post.status, "published");
        titles.push(post.title.clone());
    }
    assert_eq!(titles.len(), 9);
    // delete by query: the drafts.
    let drafts = Search::<Post>::new()
        .index("posts")
        .filter(Query::term("status", "draft"));
    let deleted = drafts.delete(&client).await.unwrap();
    assert_eq!(deleted.deleted, 3, "{deleted:?}");
    client
        .indices()
        .refresh()
        .index("posts")
        .send()
        .await
        .unwrap();
    assert_eq!(
        Search::<Post>::new()
            .index("posts")
            .count(&client)
            .await
            .unwrap(),
        9
    );
    // No index: refused before sending, never a delete of everything.
    let err = Search::<Post>::new().delete(&client).await.unwrap_err();
    assert_eq!(err.kind(), es_dsl::ErrorKind::Input);
}

#[cfg(feature = "blocking")]
/// The points in time open on the server (osmem's OpenSearch-style listing).
fn open_pits(client: &Client) -> usize {
    let resp = es_dsl::es_api::blocking::block_on(async {
        client
            .transport()
            .send(Request::get("/_search/point_in_time/_all"))
            .await
    })
    .expect("list points in time");
    let v: Value = resp.json().expect("json");
    v["pits"].as_array().map_or(0, Vec::len)
}

#[test]
fn blocking_twins() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    for i in 0..3 {
        client
            .index("posts")
            .id(i.to_string())
            .body(post(i))
            .refresh(Refresh::True)
            .send_blocking()
            .unwrap();
    }
    let s = Search::<Post>::new()
        .index("posts")
        .query(Query::match_("title", "rust"));
    let r = s.execute_blocking(&client).unwrap();
    assert_eq!(r.documents().count(), 2);
    assert_eq!(s.count_blocking(&client).unwrap(), 2);

    // scan_blocking: an iterator of typed hits, through a point in time, ended after the
    // last hit.
    let all = Search::<Post>::new().index("posts");
    let mut titles: Vec<String> = all
        .scan_blocking(&client)
        .map(|hit| hit.unwrap().source.expect("a source").title)
        .collect();
    titles.sort();
    assert_eq!(titles, ["Python post 2", "Rust post 0", "Rust post 1"]);
    let rust: Vec<String> = s
        .scan_blocking(&client)
        .map(|hit| hit.unwrap().id.expect("an id"))
        .collect::<Vec<_>>();
    assert_eq!(rust.len(), 2, "{rust:?}");
    // More hits than a scan page (1,000): the iterator crosses pages, one wait per page.
    let lines: Vec<Value> = (0..1500)
        .flat_map(|i| {
            [
                json!({"index": {"_index": "many", "_id": i.to_string()}}),
                json!({"n": i}),
            ]
        })
        .collect();
    let bulk = client
        .bulk()
        .body(lines)
        .refresh(true)
        .send_blocking()
        .unwrap();
    assert_eq!(bulk.json::<Value>().unwrap()["errors"], json!(false));
    let many = Search::<Value>::new().index("many");
    let mut seen: Vec<u64> = many
        .scan_blocking(&client)
        .map(|hit| {
            hit.unwrap().source.expect("a source")["n"]
                .as_u64()
                .expect("n")
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..1500).collect::<Vec<u64>>());
    assert_eq!(
        open_pits(&client),
        0,
        "a scan to the end closes its point in time"
    );
    // On a thread of another runtime (its blocking pool): the same hits, each page's wait
    // run on a helper thread.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (c, m) = (client.clone(), many.clone());
    let task = rt.spawn_blocking(move || m.scan_blocking(&c).collect::<Result<Vec<_>, _>>());
    let inside = rt.block_on(task).unwrap().expect("every hit");
    assert_eq!(inside.len(), 1500);
    drop(rt);
    assert_eq!(open_pits(&client), 0);
    // Dropped after one hit, the first page full (so its point in time still open): no panic
    // outside a runtime, the point in time released on the server, and the next scan works.
    let mut early = many.scan_blocking(&client);
    assert!(early.next().unwrap().is_ok());
    assert_eq!(open_pits(&client), 1, "open while the iterator lives");
    drop(early);
    // The release is spawned on the shared runtime, not awaited by drop: poll for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_pits(&client) != 0 {
        assert!(
            Instant::now() < deadline,
            "the point in time was not released"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(all.scan_blocking(&client).count(), 3);
    // A missing index: one error (the server's 404), then the end.
    let mut missing = Search::<Post>::new()
        .index("no-such-index")
        .scan_blocking(&client);
    let err = missing.next().expect("an error item").unwrap_err();
    assert_eq!(err.kind(), es_dsl::ErrorKind::Api, "{err}");
    assert!(missing.next().is_none());

    let deleted = s.delete_blocking(&client).unwrap();
    assert_eq!(deleted.deleted, 2);
}
