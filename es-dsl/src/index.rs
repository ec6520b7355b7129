//! [`Index`]: settings, analysis, aliases and the mappings of document types, with
//! elasticsearch-dsl's alias-migration recipe in one call ([`Index::migrate`]).

use es_api::Client;
use es_api::types::analysis::{Analyzer, CharFilter, Normalizer, TokenFilter, Tokenizer};
use es_api::types::indices::IndexSettingsAnalysis;
use es_api::types::mapping::{Property, TypeMapping};
use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::{Document, Error};

/// An index definition.
///
/// ```
/// use es_dsl::Index;
/// use es_dsl::es_api::types::analysis::{Analyzer, CustomAnalyzer};
/// let index = Index::new("blog")
///     .shards(1)
///     .analyzer("folding", Analyzer::Custom(CustomAnalyzer {
///         tokenizer: "standard".into(),
///         filter: Some(vec!["lowercase".into(), "asciifolding".into()].into()),
///         ..Default::default()
///     }));
/// let body = index.create_body().unwrap();
/// assert_eq!(body["settings"]["analysis"]["analyzer"]["folding"]["type"], "custom");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Index {
    name: String,
    settings: serde_json::Map<String, Value>,
    analysis: IndexSettingsAnalysis,
    aliases: Vec<String>,
    mapping: TypeMapping,
    errors: Vec<String>,
}

impl Index {
    /// The index `name` (or, for [`Index::migrate`], the alias the versions sit behind).
    pub fn new(name: impl Into<String>) -> Index {
        Index {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `number_of_shards`.
    pub fn shards(mut self, n: u32) -> Index {
        self.settings.insert("number_of_shards".into(), n.into());
        self
    }

    /// `number_of_replicas`.
    pub fn replicas(mut self, n: u32) -> Index {
        self.settings.insert("number_of_replicas".into(), n.into());
        self
    }

    /// Any other index setting (`"refresh_interval"`, `"30s"`).
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<Value>) -> Index {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// A custom analyzer.
    pub fn analyzer(mut self, name: impl Into<String>, a: Analyzer) -> Index {
        self.analysis
            .analyzer
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), a);
        self
    }

    /// A tokenizer.
    pub fn tokenizer(mut self, name: impl Into<String>, t: Tokenizer) -> Index {
        self.analysis
            .tokenizer
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), t);
        self
    }

    /// A token filter.
    pub fn token_filter(mut self, name: impl Into<String>, f: TokenFilter) -> Index {
        self.analysis
            .filter
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), f);
        self
    }

    /// A char filter.
    pub fn char_filter(mut self, name: impl Into<String>, f: CharFilter) -> Index {
        self.analysis
            .char_filter
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), f);
        self
    }

    /// A normalizer.
    pub fn normalizer(mut self, name: impl Into<String>, n: Normalizer) -> Index {
        self.analysis
            .normalizer
            .get_or_insert_with(IndexMap::new)
            .insert(name.into(), n);
        self
    }

    /// Analysis settings (as `#[es(analysis = "...")]` gives them): each analyzer,
    /// tokenizer, token filter, char filter and normalizer is added; one already defined
    /// differently under the same name is an error at create time.
    pub fn analysis(mut self, analysis: IndexSettingsAnalysis) -> Index {
        fn add<V: PartialEq + serde::Serialize>(
            into: &mut Option<IndexMap<String, V>>,
            from: Option<IndexMap<String, V>>,
            what: &str,
            errors: &mut Vec<String>,
        ) {
            for (k, v) in from.unwrap_or_default() {
                let map = into.get_or_insert_with(IndexMap::new);
                match map.get(&k) {
                    Some(existing) if existing != &v => errors.push(format!(
                        "{what} `{k}` is defined twice, differently ({} and {})",
                        serde_json::to_string(existing).unwrap_or_default(),
                        serde_json::to_string(&v).unwrap_or_default()
                    )),
                    _ => {
                        map.insert(k, v);
                    }
                }
            }
        }
        let a = &mut self.analysis;
        let e = &mut self.errors;
        add(&mut a.analyzer, analysis.analyzer, "analyzer", e);
        add(&mut a.tokenizer, analysis.tokenizer, "tokenizer", e);
        add(&mut a.filter, analysis.filter, "token filter", e);
        add(&mut a.char_filter, analysis.char_filter, "char filter", e);
        add(&mut a.normalizer, analysis.normalizer, "normalizer", e);
        self
    }

    /// An alias created with the index.
    pub fn alias(mut self, alias: impl Into<String>) -> Index {
        self.aliases.push(alias.into());
        self
    }

    /// Adds a document type's mapping and its analysis settings ([`Document::analysis`]).
    /// Several types share one index's fields; the same field with two mappings, or the same
    /// analyzer defined twice differently, is an error at create time.
    pub fn document<T: Document>(mut self) -> Index {
        if let Some(a) = T::analysis() {
            self = self.analysis(a);
        }
        match T::mapping() {
            Ok(m) => {
                if m.dynamic.is_some() {
                    self.mapping.dynamic = m.dynamic;
                }
                let props = self.mapping.properties.get_or_insert_with(IndexMap::new);
                for (k, p) in m.properties.unwrap_or_default() {
                    match props.get(&k) {
                        Some(existing) if existing != &p => self.errors.push(format!(
                            "field `{k}` is mapped twice, differently ({} and {})",
                            short(existing),
                            short(&p)
                        )),
                        _ => {
                            props.insert(k, p);
                        }
                    }
                }
            }
            Err(e) => self.errors.push(e.to_string()),
        }
        self
    }

    /// The mapping of the document types added.
    pub fn mapping(&self) -> &TypeMapping {
        &self.mapping
    }

    fn check(&self) -> Result<(), Error> {
        match self.errors.first() {
            Some(e) => Err(Error::input(format!("index {}: {e}", self.name))),
            None => Ok(()),
        }
    }

    /// The body that creates it.
    pub fn create_body(&self) -> Result<Value, Error> {
        self.check()?;
        let mut settings = Value::Object(self.settings.clone());
        if self.analysis != IndexSettingsAnalysis::default() {
            settings["analysis"] = serde_json::to_value(&self.analysis)
                .map_err(|e| Error::invalid("the analysis settings", e))?;
        }
        let aliases: serde_json::Map<String, Value> = self
            .aliases
            .iter()
            .map(|a| (a.clone(), json!({})))
            .collect();
        Ok(json!({"settings": settings, "mappings": self.mapping, "aliases": aliases}))
    }

    /// Creates the index.
    pub async fn create(&self, client: &Client) -> Result<(), Error> {
        self.create_as(client, &self.name, &self.aliases).await
    }

    async fn create_as(
        &self,
        client: &Client,
        name: &str,
        aliases: &[String],
    ) -> Result<(), Error> {
        let mut body = self.create_body()?;
        body["aliases"] = Value::Object(aliases.iter().map(|a| (a.clone(), json!({}))).collect());
        client.indices().create(name).body(body).send().await?;
        Ok(())
    }

    /// Whether the index (or alias) exists.
    pub async fn exists(&self, client: &Client) -> Result<bool, Error> {
        Ok(client.indices().exists(self.name.clone()).await?)
    }

    /// Deletes the index.
    pub async fn delete(&self, client: &Client) -> Result<(), Error> {
        client.indices().delete(self.name.clone()).send().await?;
        Ok(())
    }

    /// Puts the mapping (new fields).
    pub async fn put_mapping(&self, client: &Client) -> Result<(), Error> {
        self.check()?;
        client
            .indices()
            .put_mapping(self.name.clone())
            .body(&self.mapping)
            .send()
            .await?;
        Ok(())
    }

    /// Puts dynamic settings (`number_of_replicas`, `refresh_interval`, …).
    pub async fn put_settings(&self, client: &Client, settings: Value) -> Result<(), Error> {
        client
            .indices()
            .put_settings()
            .index(self.name.clone())
            .body(json!({ "index": settings }))
            .send()
            .await?;
        Ok(())
    }

    /// Refreshes the index.
    pub async fn refresh(&self, client: &Client) -> Result<(), Error> {
        client
            .indices()
            .refresh()
            .index(self.name.clone())
            .send()
            .await?;
        Ok(())
    }

    /// The alias-migration recipe: creates the next version `<name>-<n>` from this
    /// definition, reindexes what the alias `<name>` points at into it, then moves the alias
    /// atomically (and deletes the old indices when `delete_old`). Until the alias moves,
    /// readers see the old index; if any step up to the move fails, the alias still points
    /// at it and the half-built new index is deleted (an index that already had the next
    /// version's name is someone else's and is left alone). With no alias yet, the first
    /// version is created with it.
    ///
    /// The old indices are deleted only after the alias moved: a failure there does not undo
    /// the migration, so it is not an `Err` but listed in [`Migration::not_deleted`].
    ///
    /// The reindex is checked before the alias moves: its answer must be readable, with
    /// `timed_out: false`, no `failures`, and every document found written
    /// (`created + updated + noops == total`); anything else is an error and the partial
    /// copy is deleted (so `delete_old` never deletes the only complete copy). The counts of
    /// the reindex answer are used rather than comparing `_count` of the old and new indices,
    /// which writes to the old index during the copy would make differ. The reindex runs
    /// synchronously (`wait_for_completion`, as osmem-server has no tasks API to poll), not
    /// retried and with no client-side timeout: a client giving up would delete the new
    /// index while the server is still writing into it. Writes to the old index after the
    /// reindex started are not copied: stop writers during a migration.
    ///
    /// If moving the alias fails, the alias is read again: when the server applied the move
    /// before the answer was lost, the migration goes on as succeeded; when the alias still
    /// points at the old indices, the new index is deleted; when the alias cannot be read,
    /// nothing is deleted and the error says so.
    ///
    /// # Errors
    /// A definition that cannot be built; `<name>` being a concrete index rather than an
    /// alias (as [`Document::init`] creates it: migrate manages versions behind an alias from
    /// the start, so use it instead of `init` for such an index; to take an existing index
    /// over, reindex it into `<name>-1`, then in one `_aliases` request `remove_index`
    /// `<name>` and `add` the alias `<name>` to `<name>-1`); a step refused by the server.
    pub async fn migrate(&self, client: &Client, delete_old: bool) -> Result<Migration, Error> {
        self.check()?;
        let alias = &self.name;
        let resp = client
            .indices()
            .get_alias()
            .name(alias.clone())
            .ignore_status([404])
            .send()
            .await?;
        let old: Vec<String> = if resp.status().as_u16() == 404 {
            if client.indices().exists(alias.clone()).await? {
                return Err(Error::input(format!(
                    "cannot migrate `{alias}`: it is a concrete index, not an alias; migrate keeps \
                     versions `{alias}-N` behind the alias `{alias}` from the first run (use it \
                     instead of Document::init); to take this index over, reindex it into \
                     `{alias}-1`, then in one _aliases request `remove_index` `{alias}` and `add` \
                     the alias `{alias}` to `{alias}-1`"
                )));
            }
            Vec::new()
        } else {
            let current: Value = resp.json()?;
            current
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let next_n = old
            .iter()
            .filter_map(|i| i.strip_prefix(&format!("{alias}-"))?.parse::<u64>().ok())
            .max()
            .map_or(1, |n| n + 1);
        let next = format!("{alias}-{next_n}");
        if old.is_empty() {
            self.create_as(client, &next, std::slice::from_ref(alias))
                .await?;
            return Ok(Migration {
                index: next,
                old,
                not_deleted: Vec::new(),
            });
        }
        // Not ours to delete if this fails (the name may be taken): no undo.
        self.create_as(client, &next, &[]).await?;
        if let Err(e) = reindex(client, &old, &next).await {
            return Err(undo(client, &next, e).await);
        }
        let mut actions = vec![json!({"add": {"index": next, "alias": alias}})];
        for o in &old {
            actions.push(json!({"remove": {"index": o, "alias": alias}}));
        }
        if let Err(e) = client
            .indices()
            .update_aliases()
            .body(json!({ "actions": actions }))
            .send()
            .await
        {
            // The request may have been applied before the answer was lost (a timeout, a
            // connection cut while reading): the alias is read again, and `next` is deleted
            // only when the alias certainly does not point at it.
            match aliased_indices(client, alias).await {
                Ok(now) if now.contains(&next) => {}
                Ok(_) => return Err(undo(client, &next, e.into()).await),
                Err(read) => {
                    return Err(Error::input(format!(
                        "moving the alias `{alias}` to {next} failed ({e}), and reading it back \
                         failed too ({read}): {next} is left in place; check where `{alias}` \
                         points before deleting {next}"
                    )));
                }
            }
        }
        let mut not_deleted = Vec::new();
        if delete_old {
            for o in &old {
                if let Err(e) = client.indices().delete(o.clone()).send().await {
                    not_deleted.push((o.clone(), Error::from(e)));
                }
            }
        }
        Ok(Migration {
            index: next,
            old,
            not_deleted,
        })
    }
}

/// What [`Index::migrate`] did: the alias points at [`Migration::index`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Migration {
    /// The new version the alias points at (`<name>-<n>`).
    pub index: String,
    /// The indices the alias pointed at before (none on the first run).
    pub old: Vec<String>,
    /// Old indices `delete_old` could not delete, with the server's error: the migration
    /// itself succeeded (the alias moved), these are left to delete by hand.
    pub not_deleted: Vec<(String, Error)>,
}

/// The indices the alias `alias` points at (none when it does not exist).
async fn aliased_indices(client: &Client, alias: &str) -> Result<Vec<String>, Error> {
    let resp = client
        .indices()
        .get_alias()
        .name(alias.to_string())
        .ignore_status([404])
        .send()
        .await?;
    if resp.status().as_u16() == 404 {
        return Ok(Vec::new());
    }
    let current: Value = resp.json()?;
    Ok(current
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default())
}

/// Reindexes `old` into `next`, synchronously and with no client-side timeout (see
/// [`Index::migrate`]), and checks the answer: an answer that cannot be read, `timed_out`,
/// any `failures`, or fewer documents written (`created + updated + noops`) than the
/// reindex found (`total`) is an error.
async fn reindex(client: &Client, old: &[String], next: &str) -> Result<(), Error> {
    let body = json!({"source": {"index": old}, "dest": {"index": next}});
    let resp: Value = client
        .reindex()
        .body(body)
        .refresh(true)
        // Never cut short by the client: the server would go on writing into `next` after
        // the undo deleted it (and could create it again). Not retried: one copy at a time.
        .request_timeout(REINDEX_TIMEOUT)
        .max_retries(0)
        .send()
        .await?
        .json()?;
    if resp["timed_out"].as_bool() != Some(false) {
        return Err(Error::input(format!(
            "reindex into {next} did not finish (timed_out: {}): the copy is partial",
            resp["timed_out"]
        )));
    }
    if resp["failures"].as_array().is_none_or(|f| !f.is_empty()) {
        return Err(Error::input(format!(
            "reindex into {next} failed: {}",
            resp["failures"]
        )));
    }
    let count = |k: &str| resp[k].as_u64();
    let (Some(total), Some(created)) = (count("total"), count("created")) else {
        return Err(Error::input(format!(
            "reindex into {next}: the answer has no `total` / `created` count: {resp}"
        )));
    };
    let written = created + count("updated").unwrap_or(0) + count("noops").unwrap_or(0);
    if written != total {
        return Err(Error::input(format!(
            "reindex into {next} wrote {written} of {total} documents (created {created}, \
             updated {}, noops {}, version_conflicts {}): the copy is partial",
            resp["updated"], resp["noops"], resp["version_conflicts"]
        )));
    }
    Ok(())
}

/// The client-side timeout of the reindex in [`Index::migrate`]: none in practice (about
/// 30 years); a reindex ends by itself, with an answer or a lost connection.
const REINDEX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1 << 30);

/// Deletes the half-built next index after a failed migration step, keeping the error.
async fn undo(client: &Client, next: &str, e: Error) -> Error {
    let _ = client.indices().delete(next.to_string()).send().await;
    e
}

fn short(p: &Property) -> String {
    serde_json::to_string(p).unwrap_or_default()
}
