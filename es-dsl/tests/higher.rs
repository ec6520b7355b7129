//! FacetedSearch, Index migrations, UpdateByQuery, MultiSearch, bulk and mget of derived
//! documents, against a real server (osmem-server).

use es_dsl::es_api::Client;
use es_dsl::{Document, Facet, FacetedSearch, Index, MultiSearch, Query, Search, UpdateByQuery};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(index = "articles")]
struct Article {
    title: String,
    #[es(keyword)]
    category: String,
    #[es(keyword)]
    tags: Vec<String>,
    price: f64,
}

fn article(i: usize) -> Article {
    Article {
        title: format!(
            "{} article {i}",
            if i.is_multiple_of(2) { "Rust" } else { "Go" }
        ),
        category: ["lang", "tools", "news"][i % 3].to_string(),
        tags: if i.is_multiple_of(4) {
            vec!["async".into(), "web".into()]
        } else {
            vec!["web".into()]
        },
        price: (i * 10) as f64,
    }
}

async fn start() -> (es_tests::OsmemServer, Client) {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Article::init(&client).await.unwrap();
    let summary = Article::bulk(&client, (0..12).map(article)).await.unwrap();
    assert_eq!(summary.succeeded(), 12);
    client
        .indices()
        .refresh()
        .index("articles")
        .send()
        .await
        .unwrap();
    (server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faceted_search_with_a_selected_filter() {
    let (_server, client) = start().await;
    let fs = FacetedSearch::<Article>::new("articles", ["title"])
        .facet("category", Facet::terms("category", 10))
        .facet("tags", Facet::terms("tags", 10))
        .facet(
            "price",
            Facet::Range {
                field: "price".into(),
                ranges: vec![
                    ("cheap".into(), None, Some(50.0)),
                    ("dear".into(), Some(50.0), None),
                ],
            },
        )
        .query("rust")
        .select("category", "lang");
    let r = fs.execute(&client).await.unwrap();
    // Hits: rust (even i) and category lang (i % 3 == 0): 0, 6.
    let mut titles: Vec<String> = r.results.documents().map(|a| a.title.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["Rust article 0", "Rust article 6"]);
    // The category facet counts without its own selection: every rust article (0,2,4,6,8,10)
    // by category: lang 0,6; news 2,8; tools 4,10.
    let cat = &r.facets["category"];
    let mut counts: Vec<(String, i64, bool)> = cat
        .iter()
        .map(|v| (v.value.as_str().unwrap().to_string(), v.count, v.selected))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("lang".into(), 2, true),
            ("news".into(), 2, false),
            ("tools".into(), 2, false)
        ]
    );
    // Other facets count with the category selection: tags of 0 and 6: async 1 (0), web 2.
    let tags: Vec<(String, i64)> = r.facets["tags"]
        .iter()
        .map(|v| (v.value.as_str().unwrap().to_string(), v.count))
        .collect();
    assert_eq!(tags, [("web".to_string(), 2), ("async".into(), 1)]);
    let price: Vec<(String, i64)> = r.facets["price"]
        .iter()
        .map(|v| (v.value.as_str().unwrap().to_string(), v.count))
        .collect();
    assert_eq!(price, [("cheap".to_string(), 1), ("dear".into(), 1)]);
    // A selection of an unknown facet is an error, not ignored.
    let err = FacetedSearch::<Article>::new("articles", ["title"])
        .select("nope", "x")
        .search()
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_the_alias_to_a_new_version() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    let index = Index::new("library").replicas(0).document::<Article>();
    // First run: library-1 behind the alias.
    let first = index.migrate(&client, false).await.unwrap();
    assert_eq!((first.index.as_str(), first.old.len()), ("library-1", 0));
    for i in 0..5 {
        client
            .index("library")
            .id(i.to_string())
            .body(article(i))
            .send()
            .await
            .unwrap();
    }
    client
        .indices()
        .refresh()
        .index("library")
        .send()
        .await
        .unwrap();
    // Second run: library-2 gets the documents, then the alias.
    let second = index.migrate(&client, true).await.unwrap();
    assert_eq!(second.index, "library-2");
    assert_eq!(second.old, ["library-1"]);
    assert!(second.not_deleted.is_empty(), "{:?}", second.not_deleted);
    let alias: serde_json::Value = client
        .indices()
        .get_alias()
        .name("library")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    let behind: Vec<&String> = alias.as_object().unwrap().keys().collect();
    assert_eq!(behind, ["library-2"]);
    assert!(
        !client.indices().exists("library-1").await.unwrap(),
        "the old index was deleted"
    );
    let n = Search::<Article>::new()
        .index("library")
        .count(&client)
        .await
        .unwrap();
    assert_eq!(n, 5);
    // Two document types mapping one field differently: an error before anything is sent.
    #[derive(Debug, Clone, Serialize, Deserialize, Document)]
    #[es(index = "other")]
    struct Other {
        price: String,
    }
    let clash = Index::new("clash")
        .document::<Article>()
        .document::<Other>();
    let err = clash.create(&client).await.unwrap_err();
    assert!(err.to_string().contains("price"), "{err}");
    assert!(!client.indices().exists("clash").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_by_query_multi_search_and_mget() {
    let (_server, client) = start().await;
    // update by query with a script: osmem does not run scripts and says so (400); the
    // refusal is an error carrying the server's answer, never a silent Ok.
    let u = UpdateByQuery::new("articles")
        .query(Query::term("category", "news"))
        .script("ctx._source.price += params.d", serde_json::json!({"d": 1}))
        .conflicts_proceed()
        .refresh();
    assert_eq!(
        u.body()["query"],
        serde_json::json!({"term": {"category": {"value": "news"}}})
    );
    assert_eq!(u.body()["script"]["params"], serde_json::json!({"d": 1}));
    let err = u.execute(&client).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(err.to_string().contains("script"), "{err}");
    // Without a script (a re-index in place, as after a mapping change) osmem runs it.
    let resp = UpdateByQuery::new("articles")
        .query(Query::term("category", "news"))
        .conflicts_proceed()
        .refresh()
        .execute(&client)
        .await
        .unwrap();
    assert_eq!((resp.total, resp.updated), (4, 4), "{resp:?}");

    // Multi search: each result typed by its own T.
    #[derive(Debug, Deserialize)]
    struct TitleOnly {
        title: String,
    }
    let mut ms = MultiSearch::new();
    let rust = ms.add(
        Search::<Article>::new()
            .index("articles")
            .query(Query::match_("title", "rust"))
            .size(20),
    );
    let titles = ms.add(
        Search::<TitleOnly>::new()
            .index("articles")
            .query(Query::term("category", "tools")),
    );
    let missing = ms.add(Search::<Article>::new().index("no-such-index"));
    let results = ms.execute(&client).await.unwrap();
    assert_eq!(results.get(rust).unwrap().documents().count(), 6);
    let t = results.get(titles).unwrap();
    assert!(t.documents().all(|d| !d.title.is_empty()));
    assert_eq!(t.documents().count(), 4);
    // A refused search is an error, not an empty result.
    assert!(results.get(missing).is_err());

    // mget in order, None for a missing id.
    let ids: Vec<String> = Article::search()
        .query(Query::term("category", "lang"))
        .execute(&client)
        .await
        .unwrap()
        .hits()
        .iter()
        .filter_map(|h| h.id.clone())
        .collect();
    let mut asked = ids.clone();
    asked.push("nope".into());
    let docs = Article::mget(&client, asked).await.unwrap();
    assert_eq!(docs.len(), ids.len() + 1);
    assert!(
        docs[..ids.len()]
            .iter()
            .all(|d| d.as_ref().is_some_and(|d| d.category == "lang"))
    );
    assert!(docs.last().unwrap().is_none());
}

/// The indices the alias `name` points at.
async fn behind(client: &Client, name: &str) -> Vec<String> {
    let alias: serde_json::Value = client
        .indices()
        .get_alias()
        .name(name)
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    alias.as_object().unwrap().keys().cloned().collect()
}

async fn count(client: &Client, index: &str) -> u64 {
    Search::<serde_json::Value>::new()
        .index(index)
        .count(client)
        .await
        .unwrap()
}

/// The same index with `price` a string: its documents cannot be reindexed into Article's
/// `double`.
#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "shop")]
struct PricedInWords {
    title: String,
    #[es(keyword)]
    price: String,
}

/// A failing step leaves the alias on the old index and the old data intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_leaves_the_alias_on_the_old_index() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    let v1 = Index::new("shop").document::<PricedInWords>();
    assert_eq!(v1.migrate(&client, false).await.unwrap().index, "shop-1");
    for (i, p) in ["cheap", "dear", "free"].iter().enumerate() {
        client
            .index("shop")
            .id(i.to_string())
            .body(PricedInWords {
                title: format!("item {i}"),
                price: p.to_string(),
            })
            .refresh(true)
            .send()
            .await
            .unwrap();
    }
    // 1. The reindex fails: "cheap" is no double. The half-built shop-2 is deleted.
    let v2 = Index::new("shop").document::<Article>();
    let err = v2.migrate(&client, true).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(err.to_string().contains("price"), "{err}");
    assert_eq!(behind(&client, "shop").await, ["shop-1"]);
    assert_eq!(count(&client, "shop").await, 3);
    assert!(!client.indices().exists("shop-2").await.unwrap());
    // 2. The next version's name is taken (left over by a run that failed, or made by
    // someone else): it is skipped and reported, never reused nor deleted.
    client.indices().create("shop-2").send().await.unwrap();
    let m = Index::new("shop")
        .document::<PricedInWords>()
        .migrate(&client, false)
        .await
        .unwrap();
    assert_eq!(
        (m.index.as_str(), m.old.clone(), m.leftovers.clone()),
        (
            "shop-3",
            vec!["shop-1".to_string()],
            vec!["shop-2".to_string()]
        )
    );
    assert_eq!(behind(&client, "shop").await, ["shop-3"]);
    assert_eq!(count(&client, "shop").await, 3);
    assert!(client.indices().exists("shop-1").await.unwrap());
    assert!(client.indices().exists("shop-2").await.unwrap());
    let kept = PricedInWords::get(&client, "1").await.unwrap().unwrap();
    assert_eq!(
        (kept.index.as_str(), kept.price.as_str()),
        ("shop-3", "dear")
    );
}

/// `<name>` made by `T::init` is a concrete index: migrate refuses it, saying what to do,
/// and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_refuses_a_concrete_index_with_what_to_do() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Article::init(&client).await.unwrap();
    let err = Index::new("articles")
        .document::<Article>()
        .migrate(&client, true)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), es_dsl::ErrorKind::Input, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("concrete index, not an alias") && msg.contains("remove_index"),
        "{msg}"
    );
    assert!(!client.indices().exists("articles-1").await.unwrap());
    assert!(client.indices().exists("articles").await.unwrap());
}

/// The alias moved, then deleting the old index fails: the migration succeeded and says
/// which index is left (the failure is not an `Err`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_index_that_cannot_be_deleted_is_reported_not_a_failed_migration() {
    use es_tests::{Action, FaultProxy, RequestInfo};
    let server = es_tests::OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    let index = Index::new("kept").document::<Article>();
    index.migrate(&client, false).await.unwrap();
    client
        .index("kept")
        .id("a")
        .body(article(1))
        .refresh(true)
        .send()
        .await
        .unwrap();
    proxy.set_rule(std::sync::Arc::new(|info: &RequestInfo| {
        (info.method == "DELETE" && info.path_only() == "/kept-1").then(|| Action::status(403))
    }));
    let m = index.migrate(&client, true).await.unwrap();
    assert_eq!(
        (m.index.as_str(), m.old.as_slice()),
        ("kept-2", &["kept-1".to_string()][..])
    );
    assert_eq!(m.not_deleted.len(), 1);
    let (left, err) = &m.not_deleted[0];
    assert_eq!(left, "kept-1");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err}");
    proxy.clear_rule();
    assert_eq!(behind(&client, "kept").await, ["kept-2"]);
    assert_eq!(count(&client, "kept").await, 1);
    assert!(client.indices().exists("kept-1").await.unwrap());
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, es_dsl::InnerDoc)]
struct Review {
    #[es(keyword)]
    author: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(index = "listings")]
struct Listing {
    #[es(keyword)]
    name: String,
    price: f64,
    listed: chrono::DateTime<chrono::Utc>,
    #[es(nested)]
    reviews: Vec<Review>,
}

/// Epoch millis of midnight UTC on that day.
fn day(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

/// (value, count, selected) of a facet, sorted by value.
fn facet_values(r: &es_dsl::FacetedResults<Listing>, facet: &str) -> Vec<(String, i64, bool)> {
    let mut v: Vec<(String, i64, bool)> = r.facets[facet]
        .iter()
        .map(|v| (v.value.to_string(), v.count, v.selected))
        .collect();
    v.sort();
    v
}

/// Histogram, date histogram and nested facets: counts, selections as post_filter and on the
/// other facets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faceted_search_histogram_date_histogram_and_nested_facets() {
    use es_dsl::es_api::types::aggregations::CalendarInterval;
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Listing::init(&client).await.unwrap();
    let rows = [
        (10.0, day(2024, 1, 5), &["ann"][..]),
        (60.0, day(2024, 1, 20), &["bob"][..]),
        (70.0, day(2024, 2, 3), &["ann", "bob"][..]),
        (120.0, day(2024, 2, 10), &[][..]),
        (30.0, day(2024, 3, 1), &["cid"][..]),
        (55.0, day(2024, 3, 15), &["ann"][..]),
    ];
    let listings = rows
        .iter()
        .enumerate()
        .map(|(i, (price, listed, authors))| Listing {
            name: format!("l{i}"),
            price: *price,
            listed: *listed,
            reviews: authors
                .iter()
                .map(|a| Review {
                    author: a.to_string(),
                })
                .collect(),
        });
    assert_eq!(
        Listing::bulk(&client, listings).await.unwrap().succeeded(),
        6
    );
    es_dsl::refresh::<Listing>(&client).await.unwrap();
    let facets = || {
        FacetedSearch::<Listing>::new("listings", ["name"])
            .facet(
                "price",
                Facet::Histogram {
                    field: "price".into(),
                    interval: 50.0,
                },
            )
            .facet(
                "month",
                Facet::DateHistogram {
                    field: "listed".into(),
                    interval: CalendarInterval::Month,
                },
            )
            .facet(
                "reviewer",
                Facet::Nested {
                    path: "reviews".into(),
                    inner: Box::new(Facet::terms("reviews.author", 10)),
                },
            )
            .with_search(|s| s.size(10))
    };
    let jan = day(2024, 1, 1).timestamp_millis();
    let feb = day(2024, 2, 1).timestamp_millis();
    let mar = day(2024, 3, 1).timestamp_millis();

    // Nothing selected: every listing, each facet's counts.
    let r = facets().execute(&client).await.unwrap();
    assert_eq!(r.results.documents().count(), 6);
    assert_eq!(
        facet_values(&r, "price"),
        [
            ("0.0".to_string(), 2, false),
            ("100.0".into(), 1, false),
            ("50.0".into(), 3, false)
        ]
    );
    assert_eq!(
        facet_values(&r, "month"),
        [
            (jan.to_string(), 2, false),
            (feb.to_string(), 2, false),
            (mar.to_string(), 2, false)
        ]
    );
    let labels: Vec<Option<String>> = r.facets["month"].iter().map(|v| v.label.clone()).collect();
    assert_eq!(
        labels[0].as_deref(),
        Some("2024-01-01T00:00:00.000Z"),
        "{labels:?}"
    );
    // Nested terms count the nested reviews.
    assert_eq!(
        facet_values(&r, "reviewer"),
        [
            ("\"ann\"".to_string(), 3, false),
            ("\"bob\"".into(), 2, false),
            ("\"cid\"".into(), 1, false)
        ]
    );

    // The 50..100 price bucket selected: listings 1, 2, 5. The price facet counts without
    // its own selection; the others with it.
    let r = facets()
        .select("price", 50.0)
        .execute(&client)
        .await
        .unwrap();
    let mut names: Vec<&str> = r.results.documents().map(|l| l.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["l1", "l2", "l5"]);
    assert_eq!(
        facet_values(&r, "price"),
        [
            ("0.0".to_string(), 2, false),
            ("100.0".into(), 1, false),
            ("50.0".into(), 3, true)
        ]
    );
    assert_eq!(
        facet_values(&r, "month"),
        [
            (jan.to_string(), 1, false),
            (feb.to_string(), 1, false),
            (mar.to_string(), 1, false)
        ]
    );
    assert_eq!(
        facet_values(&r, "reviewer"),
        [
            ("\"ann\"".to_string(), 2, false),
            ("\"bob\"".into(), 2, false)
        ]
    );

    // February and a review by ann: listing 2 only.
    let r = facets()
        .select("month", feb)
        .select("reviewer", "ann")
        .execute(&client)
        .await
        .unwrap();
    let names: Vec<&str> = r.results.documents().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["l2"]);
    // Months counted with the reviewer selection (listings 0, 2, 5 reviewed by ann).
    assert_eq!(
        facet_values(&r, "month"),
        [
            (jan.to_string(), 1, false),
            (feb.to_string(), 1, true),
            (mar.to_string(), 1, false)
        ]
    );
    // Reviewers counted with the February selection (listings 2 and 3).
    assert_eq!(
        facet_values(&r, "reviewer"),
        [
            ("\"ann\"".to_string(), 1, true),
            ("\"bob\"".into(), 1, false)
        ]
    );
    // A histogram selection that is no number is an error, not ignored.
    let err = facets().select("price", "cheap").search().unwrap_err();
    assert!(err.to_string().contains("histogram"), "{err}");
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "ops")]
struct OpsV1 {
    title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "ops")]
struct OpsV2 {
    title: String,
    #[es(keyword)]
    added: String,
}

/// `Index`: create, exists, put_mapping, put_settings, refresh, delete against the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_operations() {
    let server = es_tests::OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    let v1 = Index::new("ops").shards(1).document::<OpsV1>();
    assert!(!v1.exists(&client).await.unwrap());
    v1.create(&client).await.unwrap();
    assert!(v1.exists(&client).await.unwrap());
    // put_mapping: the new field appears in the server's mapping.
    let v2 = Index::new("ops").document::<OpsV2>();
    v2.put_mapping(&client).await.unwrap();
    let got: serde_json::Value = client
        .indices()
        .get_mapping()
        .index("ops")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        got["ops"]["mappings"]["properties"]["added"],
        serde_json::json!({"type": "keyword"})
    );
    // put_settings: dynamic settings, read back (the server answers strings).
    v2.put_settings(
        &client,
        serde_json::json!({"number_of_replicas": 0, "refresh_interval": "5s"}),
    )
    .await
    .unwrap();
    let settings: serde_json::Value = client
        .indices()
        .get_settings()
        .index("ops")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    let index = &settings["ops"]["settings"]["index"];
    assert_eq!(
        (&index["number_of_replicas"], &index["refresh_interval"]),
        (&serde_json::json!("0"), &serde_json::json!("5s"))
    );
    // refresh: the request reaches the index's _refresh.
    v2.refresh(&client).await.unwrap();
    assert_eq!(proxy.requests_for("/ops/_refresh"), 1);
    // delete: gone; deleting again is the server's 404.
    v2.delete(&client).await.unwrap();
    assert!(!v2.exists(&client).await.unwrap());
    assert!(v2.delete(&client).await.unwrap_err().is_not_found());
    // A changed field type is the server's refusal, not ignored.
    Index::new("ops")
        .document::<OpsV1>()
        .create(&client)
        .await
        .unwrap();
    #[derive(Debug, Clone, Serialize, Deserialize, Document)]
    #[es(index = "ops")]
    struct OpsLong {
        title: i64,
    }
    let err = Index::new("ops")
        .document::<OpsLong>()
        .put_mapping(&client)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
}

/// UpdateByQuery in slices, and started as a task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_by_query_slices_and_tasks() {
    let (server, _) = start().await;
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    let resp = UpdateByQuery::new("articles")
        .query(Query::term("category", "lang"))
        .slices(2)
        .conflicts_proceed()
        .execute(&client)
        .await
        .unwrap();
    assert_eq!((resp.total, resp.updated), (4, 4), "{resp:?}");
    let sent: Vec<String> = proxy
        .request_log()
        .into_iter()
        .filter(|r| r.path.starts_with("/articles/_update_by_query"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        sent,
        ["/articles/_update_by_query?conflicts=proceed&slices=2"]
    );

    // start(): the task id comes back at once.
    let versions = |client: Client| async move {
        let docs = Article::search()
            .query(Query::term("category", "tools"))
            .execute(&client)
            .await
            .unwrap();
        let ids: Vec<String> = docs.hits().iter().filter_map(|h| h.id.clone()).collect();
        let mut v = Vec::new();
        for d in Article::mget(&client, ids).await.unwrap() {
            v.push(d.unwrap().version.unwrap());
        }
        v
    };
    assert_eq!(versions(client.clone()).await, [1, 1, 1, 1]);
    let task = UpdateByQuery::new("articles")
        .query(Query::term("category", "tools"))
        .start(&client)
        .await
        .unwrap();
    let (node, number) = task.split_once(':').expect("node:number");
    assert!(!node.is_empty() && number.parse::<u64>().is_ok(), "{task}");
    // Polling the task (tasks.get, an experimental endpoint: called by name). This is
    // osmem-server's answer: it has no tasks API and says so (400, no handler). Against
    // Elasticsearch, tasks.get with wait_for_completion answers `completed: true` with the
    // response instead.
    let err = client
        .call(
            "tasks.get",
            [
                ("task_id".to_owned(), serde_json::json!(task)),
                ("wait_for_completion".to_owned(), serde_json::json!(true)),
            ],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(err.to_string().contains("no handler"), "{err}");
    // So completion is seen on the documents, polled with a deadline (whether the server
    // ran the task before answering or runs it in the background): each matched document
    // is written once more.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = versions(client.clone()).await;
    while seen != [2, 2, 2, 2] && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        seen = versions(client.clone()).await;
    }
    assert_eq!(seen, [2, 2, 2, 2]);
}

/// A first version `<name>-1` behind the alias `name`, holding `n` articles.
async fn versioned(client: &Client, name: &str, n: usize) -> Index {
    let index = Index::new(name).document::<Article>();
    index.migrate(client, false).await.unwrap();
    for i in 0..n {
        client
            .index(name)
            .id(i.to_string())
            .body(article(i))
            .refresh(true)
            .send()
            .await
            .unwrap();
    }
    index
}

/// The server applies the alias move but its answer is lost (the connection reset while
/// the response is read): migrate reads the alias back, sees it moved, and finishes; the new
/// index it points at is kept. A move refused before it was applied deletes the new index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_move_applied_but_unanswered_is_not_undone() {
    use es_tests::{Action, FaultProxy, RequestInfo};
    let server = es_tests::OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    let moved = versioned(&client, "moved", 2).await;
    proxy.set_rule(std::sync::Arc::new(|info: &RequestInfo| {
        (info.method == "POST" && info.path_only() == "/_aliases")
            .then_some(Action::ResetMidResponse)
    }));
    let m = moved.migrate(&client, true).await.unwrap();
    proxy.clear_rule();
    assert!(proxy.requests_for("/_aliases") >= 1);
    assert_eq!(m.index, "moved-2");
    assert_eq!(behind(&client, "moved").await, ["moved-2"]);
    assert_eq!(count(&client, "moved").await, 2);
    assert!(!client.indices().exists("moved-1").await.unwrap());

    // Refused without being applied (answered by the proxy, never forwarded): the alias is
    // still on the old index, so the new one is deleted.
    let refused = versioned(&client, "refused", 2).await;
    proxy.set_rule(std::sync::Arc::new(|info: &RequestInfo| {
        (info.method == "POST" && info.path_only() == "/_aliases").then(|| Action::status(500))
    }));
    let err = refused.migrate(&client, true).await.unwrap_err();
    proxy.clear_rule();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    assert_eq!(behind(&client, "refused").await, ["refused-1"]);
    assert_eq!(count(&client, "refused").await, 2);
    assert!(!client.indices().exists("refused-2").await.unwrap());
}

/// A reindex answer that is partial (fewer documents written than found), timed out, or
/// unreadable fails the migration before the alias moves: the new index is deleted, the old
/// one (with `delete_old`) kept, the alias left on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_or_unreadable_reindex_is_undone() {
    use es_tests::{FaultProxy, ProxyResponse, RequestInfo};
    let server = es_tests::OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    type Edit = fn(&mut serde_json::Value) -> Option<Vec<u8>>;
    let cases: [(&str, Edit, &str); 3] = [
        (
            "partial",
            |v| {
                // One document fewer written than the reindex found.
                v["created"] = serde_json::json!(v["total"].as_u64().unwrap() - 1);
                None
            },
            "wrote 2 of 3 documents",
        ),
        (
            "slow",
            |v| {
                v["timed_out"] = serde_json::json!(true);
                None
            },
            "timed_out: true",
        ),
        (
            "garbled",
            |_| Some(b"{\"took\": 3, \"tot".to_vec()),
            "eof while parsing",
        ),
    ];
    for (name, edit, says) in cases {
        let index = versioned(&client, name, 3).await;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen_by_proxy = seen.clone();
        proxy.set_rewriter(std::sync::Arc::new(
            move |info: &RequestInfo, mut resp: ProxyResponse| {
                if info.method == "POST" && info.path_only() == "/_reindex" {
                    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&resp.body) else {
                        return resp;
                    };
                    *seen_by_proxy.lock().unwrap() = Some(v.clone());
                    let body = edit(&mut v).unwrap_or_else(|| v.to_string().into_bytes());
                    resp.body = body.into();
                }
                resp
            },
        ));
        let err = index.migrate(&client, true).await.unwrap_err();
        proxy.clear_rewriter();
        // What osmem answered: a complete copy, in Elasticsearch's words.
        let original = seen.lock().unwrap().take().expect("the reindex answer");
        assert_eq!(
            (
                &original["total"],
                &original["created"],
                &original["timed_out"]
            ),
            (&serde_json::json!(3), &serde_json::json!(3), &false.into()),
            "{name}"
        );
        assert!(
            err.to_string().to_lowercase().contains(says),
            "{name}: {err}"
        );
        assert_eq!(behind(&client, name).await, [format!("{name}-1")], "{name}");
        assert_eq!(count(&client, name).await, 3, "{name}");
        assert!(
            !client.indices().exists(format!("{name}-2")).await.unwrap(),
            "{name}: the partial copy is deleted"
        );
    }
}
