//! `#[derive(Document)]` / `#[derive(InnerDoc)]`: the mapping from the field types, typed
//! field paths, and persistence with optimistic concurrency against a real server.

use es_dsl::es_api::Client;
use es_dsl::{Agg, Document, ErrorKind, InnerDoc, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, InnerDoc)]
struct Comment {
    #[es(keyword)]
    author: String,
    content: String,
    stars: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(
    index = "blog-posts",
    shards = 1,
    replicas = 0,
    alias = "posts",
    dynamic = "strict"
)]
#[serde(rename_all = "camelCase")]
struct Post {
    #[es(analyzer = "english", fields(raw = "keyword"))]
    title: String,
    #[es(keyword)]
    tags: Vec<String>,
    #[serde(rename = "likes")]
    like_count: u32,
    #[es(index = false)]
    internal_note: Option<String>,
    published: bool,
    #[es(nested)]
    comments: Vec<Comment>,
    #[serde(skip)]
    cached: Option<String>,
}

impl Post {
    fn new(title: &str, tags: &[&str]) -> Post {
        Post {
            title: title.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            like_count: 0,
            internal_note: None,
            published: true,
            comments: vec![Comment {
                author: "bob".into(),
                content: "nice".into(),
                stars: 4,
            }],
            cached: None,
        }
    }
}

#[test]
fn the_mapping_comes_from_the_field_types() {
    let body = Post::create_index_body().unwrap();
    assert_eq!(
        body,
        json!({
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "aliases": {"posts": {}},
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "title": {"type": "text", "analyzer": "english",
                              "fields": {"raw": {"type": "keyword"}}},
                    "tags": {"type": "keyword"},
                    "likes": {"type": "long"},
                    "internalNote": {"type": "text", "index": false,
                                     "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
                    "published": {"type": "boolean"},
                    "comments": {"type": "nested", "properties": {
                        "author": {"type": "keyword"},
                        "content": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
                        "stars": {"type": "integer"}
                    }}
                }
            }
        })
    );
}

#[test]
fn field_paths_are_typed_and_use_the_serialized_names() {
    let f = Post::fields();
    assert_eq!(f.title.as_str(), "title");
    assert_eq!(f.title.sub("raw").as_str(), "title.raw");
    assert_eq!(f.like_count.as_str(), "likes");
    assert_eq!(f.internal_note.as_str(), "internalNote");
    assert_eq!(f.comments.author.as_str(), "comments.author");
    // Usable wherever es-dsl takes a field.
    let q = Query::match_(Post::fields().title, "rust")
        & Query::term(Post::fields().comments.author, "bob");
    assert_eq!(
        serde_json::to_value(&q).unwrap()["bool"]["must"][1],
        json!({"term": {"comments.author": {"value": "bob"}}})
    );
    let s = Post::search()
        .agg("tags", Agg::terms(Post::fields().tags))
        .sort(Post::fields().likes_sort());
    assert_eq!(s.indices(), ["blog-posts"]);
    assert_eq!(s.to_json()["sort"], json!([{"likes": {"order": "desc"}}]));
}

trait LikesSort {
    fn likes_sort(&self) -> es_dsl::Sort;
}

impl LikesSort for PostFields {
    fn likes_sort(&self) -> es_dsl::Sort {
        self.like_count.desc()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "bad")]
struct Bad {
    #[es(analyzer = "english")]
    count: i64,
}

#[test]
fn an_option_the_field_type_lacks_is_an_error_not_dropped() {
    let err = Bad::mapping().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Mapping);
    assert!(
        err.to_string().contains("count") && err.to_string().contains("analyzer"),
        "{err}"
    );
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "checked")]
struct Checked {
    name: String,
}

impl Checked {
    fn ok(name: &str) -> Checked {
        Checked { name: name.into() }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_get_update_delete_with_optimistic_concurrency() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Post::init(&client).await.unwrap();
    // The server's mapping is ours.
    let got: serde_json::Value = client
        .indices()
        .get_mapping()
        .index("blog-posts")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    let served = &got["blog-posts"]["mappings"];
    assert_eq!(served["properties"]["tags"], json!({"type": "keyword"}));
    assert_eq!(served["properties"]["comments"]["type"], "nested");
    assert_eq!(served["properties"]["title"]["analyzer"], "english");
    // init again: the mapping is put, not an error.
    Post::init(&client).await.unwrap();

    let mut doc = Post::new("Rust and Tokio", &["rust", "async"])
        .save(&client)
        .await
        .unwrap();
    assert!(!doc.id.is_empty());
    assert_eq!(doc.index, "blog-posts");
    let id = doc.id.clone();

    let read = Post::get(&client, &id).await.unwrap().expect("found");
    assert_eq!(read.source, doc.source);
    assert!(Post::exists(&client, &id).await.unwrap());
    assert!(Post::get(&client, "nope").await.unwrap().is_none());

    // Two readers; the first to save wins, the other sees a conflict.
    let mut a = Post::get(&client, &id).await.unwrap().unwrap();
    let mut b = Post::get(&client, &id).await.unwrap().unwrap();
    a.like_count = 10;
    a.save(&client).await.unwrap();
    b.like_count = 20;
    let err = b.save(&client).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        Post::get(&client, &id).await.unwrap().unwrap().like_count,
        10
    );
    // save_unchecked: last write wins, on purpose.
    b.save_unchecked(&client).await.unwrap();
    assert_eq!(
        Post::get(&client, &id).await.unwrap().unwrap().like_count,
        20
    );

    // A partial update: the stored document comes back.
    doc = Post::get(&client, &id).await.unwrap().unwrap();
    doc.update(&client, json!({"likes": 21, "published": false}))
        .await
        .unwrap();
    assert_eq!((doc.like_count, doc.published), (21, false));
    // The stale copy `a` cannot update or delete.
    assert!(
        a.update(&client, json!({"likes": 0}))
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(a.clone().delete(&client).await.unwrap_err().is_conflict());

    // T::search() reads typed documents.
    doc.refresh(&client).await.unwrap();
    let found = Post::search()
        .query(Query::match_(Post::fields().title, "tokio"))
        .execute(&client)
        .await
        .unwrap();
    assert_eq!(found.documents().next().map(|p| p.like_count), Some(21));

    doc.delete(&client).await.unwrap();
    assert!(Post::get(&client, &id).await.unwrap().is_none());

    // create: an existing id is a conflict.
    Post::new("one", &[])
        .create(&client, "fixed")
        .await
        .unwrap();
    let err = Post::new("two", &[])
        .create(&client, "fixed")
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "validated", validate = "Validated::check")]
struct Validated {
    name: String,
}

impl Validated {
    fn named(name: &str) -> Validated {
        Validated { name: name.into() }
    }

    fn check(&self) -> Result<(), String> {
        if self.name.is_empty() {
            Err("a name is required".into())
        } else {
            Ok(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_runs_before_every_save() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Checked::init(&client).await.unwrap();
    let d = Checked::ok("x").save(&client).await.unwrap();
    assert_eq!(d.name, "x");
    Validated::init(&client).await.unwrap();
    let mut ok = Validated::named("y").save(&client).await.unwrap();
    // A failing validate() is never sent: not as a new document, not as an update.
    let err = Validated::named("").save(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    ok.name.clear();
    assert_eq!(
        ok.save(&client).await.unwrap_err().kind(),
        ErrorKind::Validation
    );
    client
        .indices()
        .refresh()
        .index("validated")
        .send()
        .await
        .unwrap();
    let count = es_dsl::Search::<Validated>::new()
        .index("validated")
        .count(&client)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let stored = Validated::get(&client, &ok.id).await.unwrap().unwrap();
    assert_eq!(stored.name, "y");
}

/// Someone else deletes the stored document `id`.
async fn vanish(client: &Client, id: &str) {
    let stored = Validated::get(client, id).await.unwrap().expect("stored");
    stored.delete(client).await.unwrap();
}

/// `update_with`: retry_on_conflict instead of the version check, upserts, scripts, and the
/// checks made before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_with_retry_on_conflict_upserts_and_scripts() {
    use es_dsl::InlineScript;
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Validated::init(&client).await.unwrap();
    let mut stale = Validated::named("first").save(&client).await.unwrap();
    // Someone else writes meanwhile.
    let mut other = Validated::get(&client, &stale.id).await.unwrap().unwrap();
    other.name = "second".into();
    other.save(&client).await.unwrap();
    // The default update is conditional on the version read: a conflict...
    let err = stale
        .update_with()
        .partial(json!({"name": "third"}))
        .send(&client)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    // ...retry_on_conflict drops the condition (the server refuses both) and applies it to
    // the latest version.
    stale
        .update_with()
        .partial(json!({"name": "third"}))
        .retry_on_conflict(3)
        .refresh(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(stale.name, "third");
    assert_eq!(stale.seq_no, Some(2), "seq_no of the third write");

    // An upsert stores the given document when the stored one is gone.
    let mut gone = Validated::named("will vanish").save(&client).await.unwrap();
    vanish(&client, &gone.id).await;
    gone.update_with()
        .partial(json!({"name": "partial"}))
        .upsert(&Validated::named("from upsert"))
        .retry_on_conflict(1)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(gone.name, "from upsert");
    // doc_as_upsert: the partial document itself.
    vanish(&client, &gone.id).await;
    gone.update_with()
        .partial(json!({"name": "as upsert"}))
        .doc_as_upsert(true)
        .retry_on_conflict(1)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        Validated::get(&client, &gone.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "as upsert"
    );
    // Without an upsert, a vanished document is not found.
    vanish(&client, &gone.id).await;
    let err = gone
        .update_with()
        .partial(json!({"name": "x"}))
        .retry_on_conflict(1)
        .send(&client)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // A script goes as `script` with its params. osmem runs no scripts: its 400 names the
    // script update it was sent.
    let err = stale
        .update_with()
        .script(InlineScript::new("ctx._source.name += params.s").param("s", "!"))
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(
        err.to_string()
            .contains("update with script is not supported"),
        "{err}"
    );

    // Refused before sending: nothing or both to apply, doc_as_upsert with a script, a
    // merged document or an upsert that fails validate().
    let before = stale.seq_no;
    for (what, err) in [
        (
            "nothing",
            stale.update_with().send(&client).await.unwrap_err(),
        ),
        (
            "both",
            stale
                .update_with()
                .partial(json!({"name": "a"}))
                .script("ctx._source.name = 'b'")
                .send(&client)
                .await
                .unwrap_err(),
        ),
        (
            "doc_as_upsert with a script",
            stale
                .update_with()
                .script("ctx._source.name = 'b'")
                .doc_as_upsert(true)
                .send(&client)
                .await
                .unwrap_err(),
        ),
    ] {
        assert_eq!(err.kind(), ErrorKind::Input, "{what}: {err}");
    }
    let err = stale
        .update(&client, json!({"name": ""}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    let err = stale
        .update_with()
        .partial(json!({"name": "ok"}))
        .upsert(&Validated::named(""))
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    let stored = Validated::get(&client, &stale.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.seq_no),
        ("third", before),
        "nothing was sent"
    );
}

/// The persistence API without async (feature `blocking`, on for tests through the crate's
/// self dev-dependency).
#[cfg(feature = "blocking")]
#[test]
fn blocking_persistence() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Validated::init_blocking(&client).unwrap();
    let mut doc = Validated::named("sync").save_blocking(&client).unwrap();
    let id = doc.id.clone();
    assert!(Validated::exists_blocking(&client, &id).unwrap());
    let mut stale = Validated::get_blocking(&client, &id)
        .unwrap()
        .expect("found");
    doc.update_blocking(&client, json!({"name": "updated"}))
        .unwrap();
    assert_eq!(doc.name, "updated");
    // The stale copy is refused, blocking or not.
    stale.name = "stale".into();
    assert!(stale.save_blocking(&client).unwrap_err().is_conflict());
    doc.update_with()
        .partial(json!({"name": "again"}))
        .send_blocking(&client)
        .unwrap();
    let created = Validated::named("second")
        .create_blocking(&client, "two")
        .unwrap();
    let got = Validated::mget_blocking(&client, [id.as_str(), "two", "none"]).unwrap();
    let names: Vec<Option<String>> = got
        .iter()
        .map(|d| d.as_ref().map(|d| d.name.clone()))
        .collect();
    assert_eq!(
        names,
        [Some("again".to_owned()), Some("second".to_owned()), None]
    );
    let summary =
        Validated::bulk_blocking(&client, [Validated::named("b1"), Validated::named("b2")])
            .unwrap();
    assert_eq!(summary.succeeded(), 2);
    created.refresh_blocking(&client).unwrap();
    doc.delete_blocking(&client).unwrap();
    assert!(Validated::get_blocking(&client, &id).unwrap().is_none());
}

/// A document whose index has a custom analyzer (`#[es(analysis = "...")]`).
#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "folded", analysis = "Folded::analysis")]
struct Folded {
    #[es(analyzer = "folding")]
    title: String,
}

impl Folded {
    fn analysis() -> es_dsl::es_api::types::indices::IndexSettingsAnalysis {
        use es_dsl::es_api::types::analysis::{Analyzer, CustomAnalyzer};
        let mut analyzers = indexmap::IndexMap::new();
        analyzers.insert(
            "folding".to_string(),
            Analyzer::Custom(CustomAnalyzer {
                tokenizer: "standard".into(),
                filter: Some(vec!["lowercase".into(), "asciifolding".into()].into()),
                ..Default::default()
            }),
        );
        es_dsl::es_api::types::indices::IndexSettingsAnalysis {
            analyzer: Some(analyzers),
            ..Default::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_creates_the_index_with_the_documents_analysis() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Folded::init(&client).await.unwrap();
    // The server keeps the analyzer in the index settings.
    let settings: serde_json::Value = client
        .indices()
        .get_settings()
        .index("folded")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        settings["folded"]["settings"]["index"]["analysis"]["analyzer"]["folding"],
        json!({"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]})
    );
    // And analyzes with it: lowercased, accents folded.
    let tokens: serde_json::Value = client
        .indices()
        .analyze()
        .index("folded")
        .body(json!({"analyzer": "folding", "text": "Héllo Wörld"}))
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    let tokens: Vec<&str> = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["hello", "world"]);
    // The field's mapping names it.
    let mapping: serde_json::Value = client
        .indices()
        .get_mapping()
        .index("folded")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        mapping["folded"]["mappings"]["properties"]["title"]["analyzer"],
        "folding"
    );
}

/// Version 1 and version 2 of a document type stored in one index.
#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "evolving")]
struct EvolvingV1 {
    title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "evolving")]
struct EvolvingV2 {
    title: String,
    #[es(keyword)]
    status: String,
    rank: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_on_an_existing_index_puts_the_new_fields() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    let properties = || async {
        let m: serde_json::Value = client
            .indices()
            .get_mapping()
            .index("evolving")
            .send()
            .await
            .unwrap()
            .json()
            .unwrap();
        m["evolving"]["mappings"]["properties"].clone()
    };
    EvolvingV1::init(&client).await.unwrap();
    EvolvingV1 {
        title: "old".into(),
    }
    .save(&client)
    .await
    .unwrap();
    let before = properties().await;
    assert!(before.get("status").is_none(), "{before}");
    EvolvingV2::init(&client).await.unwrap();
    let after = properties().await;
    assert_eq!(after["status"], json!({"type": "keyword"}));
    assert_eq!(after["rank"], json!({"type": "integer"}));
    assert_eq!(after["title"], before["title"]);
    // The old document is still there.
    es_dsl::refresh::<EvolvingV2>(&client).await.unwrap();
    assert_eq!(
        es_dsl::Search::<serde_json::Value>::new()
            .index("evolving")
            .count(&client)
            .await
            .unwrap(),
        1
    );
}

/// `save_with().refresh(..)` on a new document and on a stored one: the parameter goes with
/// the write. osmem makes every write searchable at once (no refresh interval), so a search
/// alone cannot tell; the fault proxy's request log shows what was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_with_refresh() {
    use es_dsl::es_api::params::Refresh;
    let server = es_tests::OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    Checked::init(&client).await.unwrap();
    let mut doc = Checked::ok("fresh")
        .save_with()
        .refresh(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(doc.name, "fresh");
    let found = Checked::search()
        .query(Query::match_(Checked::fields().name, "fresh"))
        .execute(&client)
        .await
        .unwrap();
    assert_eq!(found.hits()[0].id.as_deref(), Some(doc.id.as_str()));
    doc.name = "again".into();
    doc.save_with()
        .refresh(Refresh::WaitFor)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(doc.seq_no, Some(1));
    // What was sent: the refresh parameter with each write.
    let writes: Vec<String> = proxy
        .request_log()
        .into_iter()
        .filter(|r| r.path.starts_with("/checked/_doc"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /checked/_doc?refresh=true".to_string(),
            format!(
                "PUT /checked/_doc/{}?if_seq_no=0&if_primary_term=1&refresh=wait_for",
                doc.id
            ),
        ]
    );
    let stored = Checked::get(&client, &doc.id).await.unwrap().unwrap();
    assert_eq!(stored.name, "again");
}

/// Questions and answers in one index: a `join` field (the Elasticsearch docs' example).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(index = "qa")]
struct Qa {
    #[es(keyword)]
    my_id: String,
    text: String,
    #[es(join(question = ["answer", "comment"], answer = "vote"))]
    my_join_field: es_dsl::mapping::Join,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_fields_declare_their_relations() {
    use es_dsl::mapping::Join;
    // Golden: the "multiple levels of parent join" mapping of the join field type's docs.
    assert_eq!(
        serde_json::to_value(Qa::mapping().unwrap()).unwrap()["properties"]["my_join_field"],
        json!({
            "type": "join",
            "relations": {"question": ["answer", "comment"], "answer": "vote"}
        })
    );
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    Qa::init(&client).await.unwrap();
    let got: serde_json::Value = client
        .indices()
        .get_mapping()
        .index("qa")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    let served = &got["qa"]["mappings"]["properties"]["my_join_field"];
    assert_eq!(served["type"], "join");
    assert_eq!(
        served["relations"],
        json!({"question": ["answer", "comment"], "answer": "vote"})
    );
    // A parent, and a child routed to its parent's shard.
    Qa {
        my_id: "1".into(),
        text: "This is a question".into(),
        my_join_field: Join::new("question"),
    }
    .create(&client, "1")
    .await
    .unwrap();
    let answer = Qa {
        my_id: "3".into(),
        text: "This is an answer".into(),
        my_join_field: Join::child("answer", "1"),
    }
    .save_with()
    .routing("1")
    .refresh(true)
    .send(&client)
    .await
    .unwrap();
    let children = Qa::search()
        .query(Query::raw(json!({"parent_id": {"type": "answer", "id": "1"}})).unwrap())
        .execute(&client)
        .await
        .unwrap();
    let found: Vec<&Qa> = children.documents().collect();
    assert_eq!(found, [&answer.source]);
    let parents = Qa::search()
        .query(
            Query::raw(json!({"has_child": {"type": "answer", "query": {"match_all": {}}}}))
                .unwrap(),
        )
        .execute(&client)
        .await
        .unwrap();
    assert_eq!(
        parents
            .documents()
            .map(|q| q.my_id.as_str())
            .collect::<Vec<_>>(),
        ["1"]
    );
    // A child without its parent's routing is the server's error ("[routing] is missing
    // for join field"), not stored.
    let err = Qa {
        my_id: "4".into(),
        text: "orphan".into(),
        my_join_field: Join::child("answer", "1"),
    }
    .save(&client)
    .await
    .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(
        err.to_string().contains("mapper_parsing_exception"),
        "{err}"
    );
}

/// A routed document keeps its routing: get, mget and search hits read `_routing`, and
/// saves, updates and deletes through the `Doc` send it (a `join` child without it is
/// refused by the server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routed_document_keeps_its_routing() {
    use es_dsl::Doc;
    use es_dsl::mapping::Join;
    let server = es_tests::OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    Qa::init(&client).await.unwrap();
    Qa {
        my_id: "1".into(),
        text: "question".into(),
        my_join_field: Join::new("question"),
    }
    .create(&client, "1")
    .await
    .unwrap();
    let mut answer = Qa {
        my_id: "3".into(),
        text: "answer".into(),
        my_join_field: Join::child("answer", "1"),
    }
    .save_with()
    .routing("1")
    .refresh(true)
    .send(&client)
    .await
    .unwrap();
    assert_eq!(answer.routing.as_deref(), Some("1"));
    let id = answer.id.clone();
    // Each write through the Doc carries routing=1.
    let routed = |method: &str| {
        proxy
            .request_log()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(&format!("/qa/_doc/{id}")))
            .map(|r| r.path.contains("routing=1"))
            .collect::<Vec<bool>>()
    };
    answer.text = "answer, checked".into();
    answer.save(&client).await.unwrap();
    answer.text = "answer, unchecked".into();
    answer.save_unchecked(&client).await.unwrap();
    assert_eq!(routed("PUT"), [true, true]);
    answer
        .update(&client, json!({"text": "answer, updated"}))
        .await
        .unwrap();
    assert_eq!(answer.text, "answer, updated");
    assert!(
        proxy
            .request_log()
            .iter()
            .any(|r| r.path.starts_with(&format!("/qa/_update/{id}?"))
                && r.path.contains("routing=1")),
        "{:?}",
        proxy.request_log()
    );
    es_dsl::refresh::<Qa>(&client).await.unwrap();
    // Read back: the routing comes from `_routing`.
    let got = Qa::get(&client, id.clone()).await.unwrap().unwrap();
    assert_eq!(
        (got.routing.as_deref(), got.text.as_str()),
        (Some("1"), "answer, updated")
    );
    let both = Qa::mget(&client, ["1", id.as_str()]).await.unwrap();
    let routings: Vec<Option<&str>> = both
        .iter()
        .map(|d| d.as_ref().unwrap().routing.as_deref())
        .collect();
    assert_eq!(routings, [None, Some("1")]);
    let mut search = Qa::search().query(Query::term("my_id", "3"));
    search.body_mut().seq_no_primary_term = Some(true);
    let hits = search.execute(&client).await.unwrap();
    let mut from_hit = Doc::from_hit(hits.hits()[0].clone()).unwrap();
    assert_eq!(
        (from_hit.id.as_str(), from_hit.routing.as_deref()),
        (id.as_str(), Some("1"))
    );
    from_hit.text = "answer, from a hit".into();
    from_hit.save(&client).await.unwrap();
    // Delete through the Doc: routed, and gone.
    from_hit.delete(&client).await.unwrap();
    assert_eq!(routed("DELETE"), [true]);
    assert!(Qa::get(&client, id).await.unwrap().is_none());
    // A hit without _source cannot be a Doc: an error, not a panic.
    let mut bare = hits.hits()[0].clone();
    bare.source = None;
    let err = Doc::from_hit(bare).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input, "{err}");
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "no-relations")]
struct NoRelations {
    rel: es_dsl::mapping::Join,
}

#[test]
fn a_join_field_without_relations_is_an_error() {
    let err = NoRelations::mapping().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Mapping);
    assert!(
        err.to_string().contains("rel") && err.to_string().contains("join(parent"),
        "{err}"
    );
}

#[derive(Debug, Clone, Serialize, Deserialize, InnerDoc)]
struct Manager {
    age: i32,
    name: String,
}

/// One field per mapping rule of the derive.
#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(index = "every-rule")]
struct EveryRule {
    string: String,
    #[es(text)]
    text: String,
    #[es(keyword)]
    keyword: String,
    #[es(type = "search_as_you_type")]
    typed: String,
    #[es(type = "completion")]
    suggest: String,
    int8: i8,
    int16: i16,
    int32: i32,
    int64: i64,
    uint8: u8,
    uint16: u16,
    uint32: u32,
    uint64: u64,
    float32: f32,
    float64: f64,
    flag: bool,
    utc: chrono::DateTime<chrono::Utc>,
    day: chrono::NaiveDate,
    offset: time::OffsetDateTime,
    list: Vec<i32>,
    maybe: Option<bool>,
    maybe_list: Option<Vec<String>>,
    manager: Manager,
    #[es(nested)]
    managers: Vec<Manager>,
    location: es_dsl::mapping::GeoPoint,
    address: std::net::IpAddr,
    embedding: es_dsl::mapping::DenseVector<3>,
    labels: std::collections::HashMap<String, String>,
    #[es(analyzer = "standard", search_analyzer = "simple")]
    searched: String,
    #[es(keyword, doc_values = false)]
    session_id: String,
    #[es(text, copy_to = "full_name")]
    first_name: String,
    #[es(keyword, null_value = "NULL")]
    status_code: Option<String>,
    #[es(null_value = 0)]
    retries: Option<i32>,
}

/// Every mapping rule, with golden JSON from the Elasticsearch mapping docs (dynamic field
/// mapping for strings, each field type's page for its options).
#[test]
fn every_mapping_rule() {
    let m = serde_json::to_value(EveryRule::mapping().unwrap()).unwrap();
    let manager = json!({
        "age": {"type": "integer"},
        "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    });
    let cases = [
        (
            "string",
            json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}),
        ),
        ("text", json!({"type": "text"})),
        ("keyword", json!({"type": "keyword"})),
        ("typed", json!({"type": "search_as_you_type"})),
        ("suggest", json!({"type": "completion"})),
        ("int8", json!({"type": "byte"})),
        ("int16", json!({"type": "short"})),
        ("int32", json!({"type": "integer"})),
        ("int64", json!({"type": "long"})),
        // Unsigned: the smallest signed type holding every value.
        ("uint8", json!({"type": "short"})),
        ("uint16", json!({"type": "integer"})),
        ("uint32", json!({"type": "long"})),
        ("uint64", json!({"type": "unsigned_long"})),
        ("float32", json!({"type": "float"})),
        ("float64", json!({"type": "double"})),
        ("flag", json!({"type": "boolean"})),
        ("utc", json!({"type": "date"})),
        ("day", json!({"type": "date"})),
        ("offset", json!({"type": "date"})),
        ("list", json!({"type": "integer"})),
        ("maybe", json!({"type": "boolean"})),
        (
            "maybe_list",
            json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}),
        ),
        ("manager", json!({"type": "object", "properties": manager})),
        ("managers", json!({"type": "nested", "properties": manager})),
        ("location", json!({"type": "geo_point"})),
        ("address", json!({"type": "ip"})),
        ("embedding", json!({"type": "dense_vector", "dims": 3})),
        ("labels", json!({"type": "flattened"})),
        (
            "searched",
            json!({"type": "text", "analyzer": "standard", "search_analyzer": "simple",
                   "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}),
        ),
        (
            "session_id",
            json!({"type": "keyword", "doc_values": false}),
        ),
        (
            "first_name",
            json!({"type": "text", "copy_to": "full_name"}),
        ),
        (
            "status_code",
            json!({"type": "keyword", "null_value": "NULL"}),
        ),
        ("retries", json!({"type": "integer", "null_value": 0})),
    ];
    let props = m["properties"].as_object().unwrap();
    for (field, golden) in &cases {
        assert_eq!(&m["properties"][field], golden, "field {field}");
    }
    assert_eq!(props.len(), cases.len(), "one case per field");
}

/// A `Doc` read without `seq_no` / `primary_term` (a hit of a search that did not ask for
/// them) refuses the checked save, update and delete before sending, instead of writing
/// over a change it never saw; the unchecked writes are explicit. `Document::search()` asks
/// for them, so its hits give checked `Doc`s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doc_without_seq_no_refuses_checked_writes() {
    use es_dsl::{Doc, Search};
    let server = es_tests::OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    Validated::init(&client).await.unwrap();
    let id = Validated::named("first")
        .save_with()
        .refresh(true)
        .send(&client)
        .await
        .unwrap()
        .id;
    let hits = Search::<Validated>::new()
        .index("validated")
        .execute(&client)
        .await
        .unwrap();
    // Someone else writes after that search.
    let mut other = Validated::get(&client, &id).await.unwrap().unwrap();
    other.name = "theirs".into();
    other.save(&client).await.unwrap();

    let mut stale = Doc::from_hit(hits.hits()[0].clone()).unwrap();
    assert_eq!((stale.seq_no, stale.primary_term), (None, None));
    stale.name = "mine".into();
    let sent = proxy.requests();
    let save = stale.save(&client).await.unwrap_err();
    let update = stale
        .update(&client, json!({"name": "mine"}))
        .await
        .unwrap_err();
    let delete = stale.clone().delete(&client).await.unwrap_err();
    for (err, unchecked) in [
        (save, "save_with().unchecked()"),
        (update, "update_with().unchecked()"),
        (delete, "delete_unchecked()"),
    ] {
        assert_eq!(err.kind(), ErrorKind::Input, "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&id) && msg.contains("seq_no_primary_term"),
            "{msg}"
        );
        assert!(msg.contains(unchecked), "{msg}");
    }
    assert_eq!(proxy.requests(), sent, "nothing was sent");
    let stored = Validated::get(&client, &id).await.unwrap().unwrap();
    assert_eq!(stored.name, "theirs");

    // Unchecked on purpose: last write wins.
    stale.save_with().unchecked().send(&client).await.unwrap();
    assert_eq!(
        Validated::get(&client, &id).await.unwrap().unwrap().name,
        "mine"
    );
    let mut stale = Doc::from_hit(hits.hits()[0].clone()).unwrap();
    stale
        .update_with()
        .partial(json!({"name": "updated"}))
        .unchecked()
        .send(&client)
        .await
        .unwrap();
    assert_eq!(stale.name, "updated");
    let stale = Doc::from_hit(hits.hits()[0].clone()).unwrap();
    stale.delete_unchecked(&client).await.unwrap();
    assert!(Validated::get(&client, &id).await.unwrap().is_none());

    // Document::search() asks for seq_no / primary_term: its hits are checked.
    let id = Validated::named("second")
        .save_with()
        .refresh(true)
        .send(&client)
        .await
        .unwrap()
        .id;
    let search = Validated::search();
    assert_eq!(search.to_json()["seq_no_primary_term"], json!(true));
    let hits = search.execute(&client).await.unwrap();
    let mut from_hit = Doc::from_hit(hits.hits()[0].clone()).unwrap();
    assert!(from_hit.seq_no.is_some() && from_hit.primary_term.is_some());
    let mut other = Validated::get(&client, &id).await.unwrap().unwrap();
    other.name = "theirs".into();
    other.save(&client).await.unwrap();
    from_hit.name = "mine".into();
    let err = from_hit.save(&client).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        Validated::get(&client, &id).await.unwrap().unwrap().name,
        "theirs"
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(index = "routing-required")]
struct MustRoute {
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(index = "never-created")]
struct NoIndex {
    name: String,
}

/// An mget item the server could not read is an error naming the id and the server's
/// reason, not `None` ("not found"); `None` is only `found: false`; an answer missing
/// documents is an error, not a shorter list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mget_item_error_is_an_error_not_none() {
    let server = es_tests::OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).unwrap();
    client
        .indices()
        .create("routing-required")
        .body(json!({"mappings": {"_routing": {"required": true},
                                  "properties": {"name": {"type": "keyword"}}}}))
        .send()
        .await
        .unwrap();
    let routed = MustRoute { name: "a".into() }
        .save_with()
        .routing("r")
        .send(&client)
        .await
        .unwrap();
    // Routing is required, and mget by ids sends none.
    let err = MustRoute::mget(&client, [routed.id.as_str()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&routed.id) && msg.contains("routing is required"),
        "{msg}"
    );
    // A missing index: each item is an error.
    let err = NoIndex::mget(&client, ["1"]).await.unwrap_err();
    assert!(err.to_string().contains("no such index"), "{err}");
    // Not found is None.
    Validated::init(&client).await.unwrap();
    let known = Validated::named("here").save(&client).await.unwrap();
    let got = Validated::mget(&client, [known.id.as_str(), "absent"])
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].as_ref().map(|d| d.name.as_str()), Some("here"));
    assert!(got[1].is_none());
    // An answer with fewer documents than ids asked.
    proxy.set_rewriter(std::sync::Arc::new(
        |info: &es_tests::RequestInfo, resp: es_tests::ProxyResponse| {
            if info.path_only().ends_with("/_mget") {
                es_tests::ProxyResponse::json(200, r#"{"docs":[]}"#)
            } else {
                resp
            }
        },
    ));
    let err = Validated::mget(&client, [known.id.as_str(), "absent"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("answered 0 documents"), "{err}");
}
