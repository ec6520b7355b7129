//! Which endpoints may be resent after a failure that may have reached the server: the
//! generated `resend` entry of every `EndpointSpec` (see RELIABILITY.md, "Resending").
//!
//! The rule: a request is resent after an unknown outcome only when resending cannot change
//! the outcome. Endpoints whose every method is `GET` or `HEAD` are reads. The `POST` reads and
//! the writes whose repetition leaves the same state and the same answer are listed here by
//! name; everything else (id-less index, create, scripted update, scroll continuations,
//! by-query operations, reindex, anything that starts work or creates a named resource) is
//! resent only when the failure proves it never arrived.

/// The `resend` class of one endpoint, as the variant name of `crate::endpoint::Resend`.
pub(crate) fn class(name: &str, methods: &[&str]) -> &'static str {
    if UNSAFE_READS.contains(&name) {
        return "Unsafe";
    }
    match name {
        // Safe with an explicit id and no condition (`op_type=create`, `if_seq_no`,
        // `version`): resending stores the same document (only `_version` moves).
        "index" | "delete" => return "ById",
        // Like `index`, and only when the body has no `script`.
        "update" => return "UpdateById",
        _ => {}
    }
    if methods.iter().all(|m| *m == "GET" || *m == "HEAD") || POST_READS.contains(&name) {
        return "Safe";
    }
    if IDEMPOTENT_WRITES.contains(&name) {
        return "Safe";
    }
    "Unsafe"
}

/// Taken with `GET` but not reads: each call moves a cursor.
const UNSAFE_READS: &[&str] = &["scroll"];

/// Reads sent with `POST` (a body on `GET` is not always possible): the answer depends only
/// on the request and the data. `open_point_in_time` is here: a resend opens a second
/// context, which expires with its `keep_alive`; the caller's outcome is the same.
const POST_READS: &[&str] = &[
    "clear_scroll",
    "close_point_in_time",
    "cluster.allocation_explain",
    "count",
    "eql.search",
    "esql.query",
    "explain",
    "field_caps",
    "fleet.msearch",
    "fleet.search",
    "graph.explore",
    "indices.analyze",
    "indices.simulate_index_template",
    "indices.simulate_template",
    "indices.validate_query",
    "ingest.simulate",
    "knn_search",
    "mget",
    "ml.get_buckets",
    "ml.get_calendars",
    "ml.get_categories",
    "ml.get_influencers",
    "ml.get_model_snapshots",
    "ml.get_overall_buckets",
    "ml.get_records",
    "msearch",
    "msearch_template",
    "mtermvectors",
    "open_point_in_time",
    "rank_eval",
    "render_search_template",
    "rollup.rollup_search",
    "scripts_painless_execute",
    "search",
    "search_application.render_query",
    "search_application.search",
    "search_mvt",
    "search_shards",
    "search_template",
    "security.has_privileges",
    "security.has_privileges_user_profile",
    "security.query_api_keys",
    "security.query_role",
    "security.query_user",
    "simulate.ingest",
    "sql.query",
    "sql.translate",
    "terms_enum",
    "termvectors",
    "text_structure.find_message_structure",
    "text_structure.find_structure",
    "text_structure.test_grok_pattern",
    "watcher.query_watches",
];

/// Writes that set a named thing to a given value (create-or-replace) or flush state: a
/// second call leaves the same state and gives the same answer.
const IDEMPOTENT_WRITES: &[&str] = &[
    "cluster.put_component_template",
    "cluster.put_settings",
    "indices.clear_cache",
    "indices.flush",
    "indices.put_alias",
    "indices.put_index_template",
    "indices.put_mapping",
    "indices.put_settings",
    "indices.put_template",
    "indices.refresh",
    "ingest.put_pipeline",
    "put_script",
    "snapshot.create_repository",
];

/// Every name in the lists above: the generator checks each is a real endpoint, so a
/// renamed endpoint cannot silently fall back to `Unsafe` (or stay `Safe` under a new name).
pub(crate) fn listed() -> impl Iterator<Item = &'static str> {
    UNSAFE_READS
        .iter()
        .chain(POST_READS)
        .chain(IDEMPOTENT_WRITES)
        .copied()
        .chain(["index", "delete", "update"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class("search", &["GET", "POST"]), "Safe");
        assert_eq!(class("cat.indices", &["GET"]), "Safe");
        assert_eq!(class("exists", &["HEAD"]), "Safe");
        assert_eq!(class("scroll", &["GET", "POST"]), "Unsafe");
        assert_eq!(class("bulk", &["POST", "PUT"]), "Unsafe");
        assert_eq!(class("create", &["PUT", "POST"]), "Unsafe");
        assert_eq!(class("indices.create", &["PUT"]), "Unsafe");
        assert_eq!(class("update_by_query", &["POST"]), "Unsafe");
        assert_eq!(class("delete_by_query", &["POST"]), "Unsafe");
        assert_eq!(class("reindex", &["POST"]), "Unsafe");
        assert_eq!(class("index", &["PUT", "POST"]), "ById");
        assert_eq!(class("update", &["POST"]), "UpdateById");
        assert_eq!(class("indices.put_mapping", &["PUT", "POST"]), "Safe");
    }
}
