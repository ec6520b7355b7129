//! [`Index`]: settings, analysis, aliases and the mappings of document types, with
//! elasticsearch-dsl's alias-migration recipe in one call ([`Index::migrate`]).

use es_api::Client;
use es_api::types::analysis::{Analyzer, CharFilter, Normalizer, TokenFilter, Tokenizer};
use es_api::types::indices::IndexSettingsAnalysis;
use es_api::types::mapping::{Property, TypeMapping};
use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::ops::Failure;
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
    /// readers see the old index. With no alias yet, the first version is created with it.
    ///
    /// It can always be run again after a failure. `<n>` is one past the highest version
    /// that exists, pointed at by the alias or not: a version left over by an earlier
    /// failure (or made by another client) is never reused, and is listed in
    /// [`Migration::leftovers`] (and in the error of a failed run) to delete by hand once
    /// nothing writes into it.
    ///
    /// If a step up to the move fails, the alias still points at the old indices, and the
    /// new index is deleted when it is certainly ours and idle: after the reindex answered
    /// (a partial copy), or a step that certainly did not reach the server. When the
    /// outcome is unknown (the reindex's connection cut, a gateway timeout: the server may
    /// still be writing into the new index, and would create it again after a delete), it
    /// is left in place and named in the error as left over. A failed create is never
    /// undone (the name may be someone else's). A failed delete of the new index is
    /// reported in the error with the step's own error.
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
    /// once, as [`crate::UpdateByQuery::execute`] runs: as a task polled until it ends where
    /// the server has a tasks API, else synchronously (osmem-server), never resent and with
    /// no client-side timeout. Writes to the old index after the reindex started are not
    /// copied: stop writers during a migration.
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
    /// `<name>` and `add` the alias `<name>` to `<name>-1`); a step refused by the server, or
    /// whose answer was lost (then `api().may_have_reached_server()`).
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
        let versions = versions(client, alias).await?;
        let leftovers: Vec<String> = versions
            .iter()
            .map(|(_, name)| name.clone())
            .filter(|name| !old.contains(name))
            .collect();
        let next_n = versions
            .iter()
            .map(|(n, _)| *n)
            .chain(
                old.iter()
                    .filter_map(|i| i.strip_prefix(&format!("{alias}-"))?.parse::<u64>().ok()),
            )
            .max()
            .map_or(1, |n| n + 1);
        let next = format!("{alias}-{next_n}");
        let failed = Failed {
            alias,
            next: &next,
            leftovers: &leftovers,
        };
        if old.is_empty() {
            // Created with the alias in one request: if the answer was lost, the next run
            // finds the alias (then migrates from it) or not (then creates the first again).
            if let Err(e) = self
                .create_as(client, &next, std::slice::from_ref(alias))
                .await
            {
                return Err(failed.kept(e, false));
            }
            return Ok(Migration {
                index: next,
                old,
                not_deleted: Vec::new(),
                leftovers,
            });
        }
        // Not ours to delete if this fails (the name may be taken by another client): no
        // undo; if it was created before the answer was lost, the next run skips it.
        if let Err(e) = self.create_as(client, &next, &[]).await {
            let unknown = e.api().is_some_and(es_api::Error::outcome_unknown);
            return Err(failed.kept(e, unknown));
        }
        if let Err(f) = reindex(client, &old, &next).await {
            // Not sent, or seen to end (the server's own answer, a partial copy): the copy
            // can go. Otherwise (no answer, a gateway's, a task not seen to end) the server
            // may still be writing into it.
            return Err(if f.over {
                failed.undo(client, f.error).await
            } else {
                failed.kept(f.error, true)
            });
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
                Ok(_) => return Err(failed.undo(client, e.into()).await),
                Err(read) => {
                    let note = format!(
                        "moving the alias `{alias}` to {next} failed, and reading it back failed \
                         too ({read}): check where `{alias}` points before deleting {next}"
                    );
                    return Err(crate::ops::unknown_outcome(
                        e.into(),
                        &failed.note(&note, true),
                        None,
                    ));
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
            leftovers,
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
    /// Versions `<name>-<n>` found that the alias did not point at: left over by an
    /// earlier migration that failed (or made by someone else). They were skipped, not
    /// deleted: one may still be written into by a reindex whose answer was lost; delete
    /// them by hand once it is over (`GET _tasks?actions=*reindex`).
    pub leftovers: Vec<String>,
}

/// A failed migration: what its error says about the new index and the leftovers.
struct Failed<'a> {
    alias: &'a str,
    next: &'a str,
    leftovers: &'a [String],
}

impl Failed<'_> {
    /// The note of a failed run: `what` about `next`, then whether it is left over and the
    /// leftovers found before.
    fn note(&self, what: &str, next_left: bool) -> String {
        let mut left: Vec<&str> = self.leftovers.iter().map(String::as_str).collect();
        if next_left {
            left.push(self.next);
        }
        let mut note = format!("migrating `{}`: {what}", self.alias);
        if !left.is_empty() {
            note.push_str(&format!(
                "; left over (not pointed at by `{}`; the next migrate skips them; delete them \
                 by hand once nothing writes into them): {}",
                self.alias,
                left.join(", ")
            ));
        }
        note
    }

    /// `e`, with `next` kept in place: `unknown` when the server may still be writing into
    /// it (or may have created it).
    fn kept(&self, e: Error, unknown: bool) -> Error {
        if !unknown && self.leftovers.is_empty() {
            return e;
        }
        let what = if unknown {
            format!(
                "the outcome for {} is unknown (the server may still be writing into it): it is \
                 left in place, the alias was not moved",
                self.next
            )
        } else {
            "the alias was not moved".to_string()
        };
        let note = self.note(&what, unknown);
        match e.api() {
            Some(a) if a.may_have_reached_server() => {
                let task = e.task_id().map(str::to_owned);
                crate::ops::unknown_outcome(e, &note, task.as_deref())
            }
            _ => Error::input(format!("{note}: {e}")),
        }
    }

    /// Deletes the half-built next index after a failed step whose outcome is known,
    /// keeping the step's error `e`; a failed delete is added to it, `next` then left over.
    async fn undo(&self, client: &Client, e: Error) -> Error {
        match client.indices().delete(self.next.to_string()).send().await {
            Ok(_) => self.kept(e, false),
            Err(del) => {
                let note = self.note(
                    &format!(
                        "the alias was not moved, and deleting the partial {} failed too ({del})",
                        self.next
                    ),
                    true,
                );
                Error::input(format!("{note}: {e}"))
            }
        }
    }
}

/// The versions `<alias>-<n>` that exist (open or closed), with their `n`.
async fn versions(client: &Client, alias: &str) -> Result<Vec<(u64, String)>, Error> {
    let resp = client
        .indices()
        .get_alias()
        .index(format!("{alias}-*"))
        .expand_wildcards([es_api::params::ExpandWildcards::All])
        .ignore_status([404])
        .send()
        .await?;
    if resp.status().as_u16() == 404 {
        return Ok(Vec::new());
    }
    let found: Value = resp.json()?;
    let prefix = format!("{alias}-");
    let mut versions: Vec<(u64, String)> = found
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(|name| {
            let n = name.strip_prefix(&prefix)?;
            // Only `<alias>-<digits>`: `shop-old` or `shop-1-copy` are not versions.
            (n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty())
                .then(|| Some((n.parse().ok()?, name.clone())))?
        })
        .collect();
    versions.sort();
    Ok(versions)
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

/// Reindexes `old` into `next` once (see [`Index::migrate`]) and checks the answer: an
/// answer that cannot be read, `timed_out`, any `failures`, or fewer documents written
/// (`created + updated + noops`) than the reindex found (`total`) is an error.
async fn reindex(client: &Client, old: &[String], next: &str) -> Result<(), Failure> {
    let body = json!({"source": {"index": old}, "dest": {"index": next}});
    let resp = crate::ops::run_long(client, "reindex", |as_task| {
        let mut req = client
            .reindex()
            .body(body)
            .refresh(true)
            .request_timeout(crate::ops::NO_CLIENT_TIMEOUT);
        if as_task {
            req = req.wait_for_completion(false);
        }
        req.send()
    })
    .await?;
    check_reindex(&resp, next).map_err(|error| Failure { error, over: true })
}

/// The checks of [`reindex`] on its answer.
fn check_reindex(resp: &Value, next: &str) -> Result<(), Error> {
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

fn short(p: &Property) -> String {
    serde_json::to_string(p).unwrap_or_default()
}
