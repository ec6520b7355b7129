//! Persistence: [`Document`] (derived with `#[derive(Document)]`) and the stored
//! [`Doc<T>`] with its concurrency metadata.

use std::future::Future;

use es_api::response::{GetResponse, WriteResponse};
use es_api::types::mapping::{DynamicMapping, Property, TypeMapping};
use es_api::types::search::Hit;
use es_api::{Client, RequestOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::mapping::{IndexOptions, Mapped};
use crate::{Error, Search};

/// A document type stored in one index, derived with `#[derive(Document)]`: the index name
/// and settings from `#[es(...)]`, the mapping from the field types, and persistence.
///
/// ```no_run
/// use es_dsl::{Document, InnerDoc, Query};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, InnerDoc)]
/// struct Comment {
///     #[es(keyword)]
///     author: String,
///     content: String,
/// }
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Document)]
/// #[es(index = "blog-posts", shards = 1, alias = "posts")]
/// struct Post {
///     #[es(analyzer = "english")]
///     title: String,
///     #[es(keyword)]
///     tags: Vec<String>,
///     #[es(nested)]
///     comments: Vec<Comment>,
/// }
///
/// # async fn run(client: es_dsl::es_api::Client) -> Result<(), es_dsl::Error> {
/// Post::init(&client).await?;
/// let mut post = Post { title: "Hello".into(), tags: vec!["rust".into()], comments: vec![] }
///     .save(&client)
///     .await?;
/// post.title = "Hello, world".into();
/// post.save(&client).await?; // fails with is_conflict() if someone saved it meanwhile
/// let found = Post::search()
///     .query(Query::match_(Post::fields().title, "hello"))
///     .execute(&client)
///     .await?;
/// # Ok(()) }
/// ```
pub trait Document: Mapped + Serialize + DeserializeOwned + Send + Sync + Sized + 'static {
    /// The index (or alias) the documents live in.
    const INDEX: &'static str;

    /// Shards, replicas, aliases and `dynamic`, from `#[es(...)]`.
    fn index_options() -> IndexOptions;

    /// Checks a document before every save; an `Err` is never sent.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// The index's analysis settings (custom analyzers, tokenizers, token filters, char
    /// filters, normalizers), from `#[es(analysis = "Self::analysis")]`: [`Document::init`]
    /// creates the index with them, and [`crate::Index::document`] adds them to an
    /// [`crate::Index`] (for [`crate::Index::migrate`]). None by default.
    fn analysis() -> Option<es_api::types::indices::IndexSettingsAnalysis> {
        None
    }

    /// The mapping, from the field types.
    fn mapping() -> Result<TypeMapping, Error> {
        let Property::Object(obj) = Self::property()? else {
            return Err(Error::mapping(Self::INDEX, "a document maps to an object"));
        };
        let dynamic = match Self::index_options().dynamic {
            Some(d) => Some(
                serde_json::from_value::<DynamicMapping>(Value::from(d))
                    .map_err(|e| Error::mapping(Self::INDEX, e.to_string()))?,
            ),
            None => None,
        };
        Ok(TypeMapping {
            properties: obj.properties,
            dynamic,
            ..Default::default()
        })
    }

    /// The index definition: settings, aliases and analysis from `#[es(...)]`, this type's
    /// mapping.
    fn index() -> crate::Index {
        let o = Self::index_options();
        let mut index = crate::Index::new(Self::INDEX);
        if let Some(s) = o.shards {
            index = index.shards(s);
        }
        if let Some(r) = o.replicas {
            index = index.replicas(r);
        }
        for a in o.aliases {
            index = index.alias(*a);
        }
        index.document::<Self>()
    }

    /// The body that creates the index: settings, mappings and aliases.
    fn create_index_body() -> Result<Value, Error> {
        Self::index().create_body()
    }

    /// Creates the index with its settings, analysis, mapping and aliases; when it exists,
    /// puts the mapping (new fields are added; a changed field type is the server's error;
    /// the analysis of an existing index is left as it is, since an open index's analyzers
    /// cannot change).
    fn init(client: &Client) -> impl Future<Output = Result<(), Error>> + Send {
        async move {
            if client.indices().exists(Self::INDEX).await? {
                let mapping = Self::mapping()?;
                client
                    .indices()
                    .put_mapping(Self::INDEX)
                    .body(&mapping)
                    .send()
                    .await?;
            } else {
                Self::index().create(client).await?;
            }
            Ok(())
        }
    }

    /// Saves a new document (an id chosen by the server) after [`Document::validate`].
    /// For `refresh` or `routing`, see [`Document::save_with`].
    fn save(self, client: &Client) -> impl Future<Output = Result<Doc<Self>, Error>> + Send {
        async move { self.save_with().send(client).await }
    }

    /// A save of this new document, built call by call: `refresh`, `routing`;
    /// [`Save::send`] runs it.
    ///
    /// ```no_run
    /// # use es_dsl::Document;
    /// # use es_dsl::es_api::params::Refresh;
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Document)]
    /// # #[es(index = "pages")] struct Page { views: u64 }
    /// # async fn run(client: &es_dsl::es_api::Client) -> Result<(), es_dsl::Error> {
    /// // Searchable as soon as `send` returns: no separate refresh.
    /// let page = Page { views: 0 }.save_with().refresh(Refresh::WaitFor).send(client).await?;
    /// # Ok(()) }
    /// ```
    fn save_with(self) -> Save<Self> {
        Save {
            doc: self,
            refresh: None,
            routing: None,
        }
    }

    /// Creates the document under `id`; an existing one is a conflict (`is_conflict()`).
    ///
    /// Never resent after an answer that may have been lost (a resend would answer 409 for
    /// the document this call created): that failure is an error whose
    /// `api().may_have_reached_server()` is true.
    fn create(
        self,
        client: &Client,
        id: impl Into<String> + Send,
    ) -> impl Future<Output = Result<Doc<Self>, Error>> + Send {
        async move {
            self.validate().map_err(Error::validation)?;
            let resp: WriteResponse = client
                .create(Self::INDEX, id)
                .body(&self)
                .options(sent_once())
                .send()
                .await?
                .json()?;
            Ok(Doc::from_write(resp, self, None))
        }
    }

    /// The document `id`, or `None` when there is none.
    fn get(
        client: &Client,
        id: impl Into<String> + Send,
    ) -> impl Future<Output = Result<Option<Doc<Self>>, Error>> + Send {
        async move {
            let resp = client
                .get(Self::INDEX, id)
                .ignore_status([404])
                .send()
                .await?;
            Doc::from_get(resp.json()?)
        }
    }

    /// Whether the document `id` exists.
    fn exists(
        client: &Client,
        id: impl Into<String> + Send,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        async move { Ok(client.exists(Self::INDEX, id).await?) }
    }

    /// The documents of these ids, in order (`None` where there is none).
    ///
    /// # Errors
    /// An item the server could not read (routing required, a missing index, a shard
    /// failure: the item's `error`) fails the whole call, naming the id and the server's
    /// reason: only `found: false` is `None`. So does a found document without `_source`,
    /// and an answer with another number of documents than ids asked (`ErrorKind::Input`).
    fn mget<I: Into<String>>(
        client: &Client,
        ids: impl IntoIterator<Item = I> + Send,
    ) -> impl Future<Output = Result<Vec<Option<Doc<Self>>>, Error>> + Send {
        let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        async move {
            let resp: es_api::response::MgetResponse<Self> = client
                .mget()
                .index(Self::INDEX)
                .body(json!({ "ids": ids }))
                .send()
                .await?
                .json()?;
            if resp.docs.len() != ids.len() {
                return Err(Error::input(format!(
                    "mget of {} ids in {} answered {} documents",
                    ids.len(),
                    Self::INDEX,
                    resp.docs.len()
                )));
            }
            resp.docs.into_iter().map(Doc::from_get).collect()
        }
    }

    /// Indexes many documents through es-helpers' bulk (chunked, concurrent, 429s retried),
    /// each validated first (the first refusal ends the run before anything is sent).
    ///
    /// The documents have no ids, so a chunk is never resent after a failure that may have
    /// reached the server (a resend would store second copies), even when the client's
    /// options say `idempotent(true)`: that failure ends the run with an error whose
    /// `helpers().may_have_reached_server()` is true.
    fn bulk(
        client: &Client,
        docs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<es_helpers::bulk::BulkSummary, Error>> + Send {
        let docs: Vec<Self> = docs.into_iter().collect();
        async move {
            for d in &docs {
                d.validate().map_err(Error::validation)?;
            }
            let actions = docs.into_iter().map(es_helpers::bulk::BulkAction::index);
            Ok(es_helpers::bulk::Bulk::new(client)
                .index(Self::INDEX)
                .request_options(sent_once())
                .run_iter(actions.collect::<Vec<_>>())
                .await?)
        }
    }

    /// A search of this document type's index, hits read as `Self`, asking for each hit's
    /// `_seq_no` / `_primary_term` (`seq_no_primary_term: true`), so that a
    /// [`Doc::from_hit`] of its hits can be saved, updated and deleted with the version check.
    fn search() -> Search<Self> {
        let mut search = Search::new().index(Self::INDEX);
        search.body_mut().seq_no_primary_term = Some(true);
        search
    }

    /// [`Document::init`], waiting for the answer (feature `blocking`; es-api's blocking
    /// runtime, see `es_api::blocking`).
    #[cfg(feature = "blocking")]
    fn init_blocking(client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(Self::init(client))
    }

    /// [`Document::save`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    fn save_blocking(self, client: &Client) -> Result<Doc<Self>, Error> {
        es_api::blocking::block_on(self.save(client))
    }

    /// [`Document::create`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    fn create_blocking(
        self,
        client: &Client,
        id: impl Into<String> + Send,
    ) -> Result<Doc<Self>, Error> {
        es_api::blocking::block_on(self.create(client, id))
    }

    /// [`Document::get`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    fn get_blocking(
        client: &Client,
        id: impl Into<String> + Send,
    ) -> Result<Option<Doc<Self>>, Error> {
        es_api::blocking::block_on(Self::get(client, id))
    }

    /// [`Document::exists`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    fn exists_blocking(client: &Client, id: impl Into<String> + Send) -> Result<bool, Error> {
        es_api::blocking::block_on(Self::exists(client, id))
    }

    /// [`Document::mget`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    fn mget_blocking<I: Into<String>>(
        client: &Client,
        ids: impl IntoIterator<Item = I> + Send,
    ) -> Result<Vec<Option<Doc<Self>>>, Error> {
        es_api::blocking::block_on(Self::mget(client, ids))
    }

    /// [`Document::bulk`], waiting for the end of the run (feature `blocking`).
    #[cfg(feature = "blocking")]
    fn bulk_blocking(
        client: &Client,
        docs: impl IntoIterator<Item = Self> + Send,
    ) -> Result<es_helpers::bulk::BulkSummary, Error> {
        es_api::blocking::block_on(Self::bulk(client, docs))
    }
}

/// A stored document: the value and where and at which version it is stored.
///
/// Saving, updating or deleting a `Doc` sends `if_seq_no` / `if_primary_term`: when the
/// document changed since it was read, the server refuses (`err.is_conflict()`), never a
/// silent overwrite. A `Doc` without them (a search hit read without
/// `seq_no_primary_term`, say) refuses those writes before sending (`ErrorKind::Input`)
/// rather than write unchecked; the unchecked writes are explicit: [`Doc::save_unchecked`]
/// (or `save_with().unchecked()`), [`DocUpdate::unchecked`] or
/// [`DocUpdate::retry_on_conflict`], [`Doc::delete_unchecked`].
///
/// # A lost answer
/// A checked write, a scripted update, an update with an upsert and a delete are never resent
/// after a failure that may have reached the server (a gateway's 502/503/504, a connection
/// cut after the request was written, a timeout): a resend would be refused as a conflict
/// for the write this `Doc` made, run the script twice, or answer "not found" for the
/// document it deleted. The caller gets that error, whose `api().may_have_reached_server()`
/// is true: read the document again to learn the outcome. This holds even when the client's
/// options say `idempotent(true)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc<T> {
    /// `_id`.
    pub id: String,
    /// `_index` (the concrete index, when saved through an alias).
    pub index: String,
    /// `_seq_no` of the version read or written.
    pub seq_no: Option<i64>,
    /// `_primary_term` of the version read or written.
    pub primary_term: Option<i64>,
    /// `_version`.
    pub version: Option<i64>,
    /// `_routing`: the shard routing value the document was stored with (a `join` child's
    /// parent id, say), as the server returned it (get, mget, a search hit through
    /// [`Doc::from_hit`]) or as given to [`Save::routing`]. Saving, updating and deleting
    /// through this `Doc` send it, so they reach the same shard; `None` sends none.
    pub routing: Option<String>,
    /// The document.
    pub source: T,
}

impl<T> std::ops::Deref for Doc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.source
    }
}

impl<T> std::ops::DerefMut for Doc<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.source
    }
}

impl<T> Doc<T> {
    /// The stored document of a search hit: its id, index, version, `seq_no` /
    /// `primary_term` and `_routing`. [`Document::search`] asks for `seq_no` /
    /// `primary_term`; a hit of another search has them only with `seq_no_primary_term: true`
    /// in its body (`search.body_mut().seq_no_primary_term = Some(true)`), else the `Doc`'s
    /// checked writes are refused (see [`Doc`]).
    ///
    /// # Errors
    /// A hit without `_id` or without `_source` (`ErrorKind::Input`).
    pub fn from_hit(hit: Hit<T>) -> Result<Doc<T>, Error> {
        let id = hit
            .id
            .ok_or_else(|| Error::input(format!("a hit of {} has no _id", hit.index)))?;
        let source = hit
            .source
            .ok_or_else(|| Error::input(format!("hit {id} of {} has no _source", hit.index)))?;
        Ok(Doc {
            id,
            index: hit.index,
            seq_no: hit.seq_no,
            primary_term: hit.primary_term,
            version: hit.version,
            routing: hit.routing,
            source,
        })
    }
}

impl<T: Document> Doc<T> {
    /// The document of a `get` answer or an `mget` item: `None` only when not found.
    fn from_get(got: GetResponse<T>) -> Result<Option<Doc<T>>, Error> {
        if let Some(e) = got.error {
            return Err(Error::input(format!(
                "document {} of {}: the server could not read it: {}: {}",
                got.id,
                if got.index.is_empty() {
                    T::INDEX
                } else {
                    &got.index
                },
                e.error_type,
                e.reason.as_deref().unwrap_or("no reason given")
            )));
        }
        if !got.found {
            return Ok(None);
        }
        let source = got
            .source
            .ok_or_else(|| Error::input(format!("document {} has no _source", got.id)))?;
        Ok(Some(Doc {
            id: got.id,
            index: got.index,
            seq_no: got.seq_no,
            primary_term: got.primary_term,
            version: got.version,
            routing: got.routing,
            source,
        }))
    }

    /// `if_seq_no` / `if_primary_term` of a checked `write`, or the error saying how to get
    /// them (or write `unchecked`).
    fn condition(&self, write: &str, unchecked: &str) -> Result<(i64, i64), Error> {
        match (self.seq_no, self.primary_term) {
            (Some(s), Some(p)) => Ok((s, p)),
            _ => Err(Error::input(format!(
                "document {} of {} has no seq_no / primary_term, so a checked {write} cannot \
                 tell whether it changed since it was read (not sent): read it with \
                 `seq_no_primary_term: true` on the search (`Document::search()` asks for it), \
                 `Document::get` or `Document::mget`, or write unchecked on purpose with \
                 `{unchecked}`",
                self.id, self.index
            ))),
        }
    }

    fn from_write(resp: WriteResponse, source: T, routing: Option<String>) -> Doc<T> {
        Doc {
            id: resp.id,
            index: resp.index,
            seq_no: resp.seq_no,
            primary_term: resp.primary_term,
            version: Some(resp.version),
            routing,
            source,
        }
    }

    fn absorb(&mut self, resp: WriteResponse) {
        self.seq_no = resp.seq_no;
        self.primary_term = resp.primary_term;
        self.version = Some(resp.version);
    }

    /// Writes the document back, if it is still the version read (else `is_conflict()`).
    /// For `refresh`, see [`Doc::save_with`].
    pub async fn save(&mut self, client: &Client) -> Result<(), Error> {
        self.save_with().send(client).await
    }

    /// Writes the document back whatever happened to it meanwhile (last write wins).
    pub async fn save_unchecked(&mut self, client: &Client) -> Result<(), Error> {
        self.save_with().unchecked().send(client).await
    }

    /// A save of this stored document, built call by call: `refresh`, `unchecked`;
    /// [`DocSave::send`] runs it.
    pub fn save_with(&mut self) -> DocSave<'_, T> {
        DocSave {
            doc: self,
            checked: true,
            refresh: None,
        }
    }

    /// A partial update (any `Serialize` of some of the fields), if the document is still
    /// the version read; the stored document comes back and replaces this one's value. The
    /// merged document is validated ([`Document::validate`]) before anything is sent. For a
    /// script, an upsert or `retry_on_conflict`, see [`Doc::update_with`].
    pub async fn update(&mut self, client: &Client, partial: impl Serialize) -> Result<(), Error> {
        self.update_with().partial(partial).send(client).await
    }

    /// An update of this document, built call by call: a partial document or a script, an
    /// upsert, `retry_on_conflict`, `refresh`; [`DocUpdate::send`] runs it.
    ///
    /// # Example
    /// ```no_run
    /// # use es_dsl::{Doc, Document, InlineScript};
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Document)]
    /// # #[es(index = "pages")] struct Page { views: u64 }
    /// # async fn run(client: &es_dsl::es_api::Client, page: &mut Doc<Page>) -> Result<(), es_dsl::Error> {
    /// page.update_with()
    ///     .script(InlineScript::new("ctx._source.views += params.by").param("by", 1))
    ///     .retry_on_conflict(3) // instead of failing on a concurrent write: retried by the server
    ///     .send(client)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn update_with(&mut self) -> DocUpdate<'_, T> {
        DocUpdate {
            doc: self,
            partial: None,
            script: None,
            upsert: None,
            doc_as_upsert: false,
            retry_on_conflict: None,
            checked: true,
            refresh: None,
        }
    }

    /// Deletes the document, if it is still the version read (with its
    /// [`routing`](Doc::routing)).
    ///
    /// # Errors
    /// A `Doc` without `seq_no` / `primary_term` (nothing sent, `ErrorKind::Input`; see
    /// [`Doc::delete_unchecked`]), a conflict (`is_conflict()`) when the document changed
    /// since it was read, or another failure (see [`Doc`] for a lost answer).
    pub async fn delete(self, client: &Client) -> Result<(), Error> {
        let condition = self.condition("delete", "delete_unchecked()")?;
        self.send_delete(client, Some(condition)).await
    }

    /// Deletes the document whatever happened to it since it was read (with its
    /// [`routing`](Doc::routing)); not resent after a lost answer either (a resend would
    /// answer "not found" for the document this call deleted).
    pub async fn delete_unchecked(self, client: &Client) -> Result<(), Error> {
        self.send_delete(client, None).await
    }

    async fn send_delete(
        self,
        client: &Client,
        condition: Option<(i64, i64)>,
    ) -> Result<(), Error> {
        let mut req = client
            .delete(T::INDEX, self.id.clone())
            .options(sent_once());
        if let Some((s, p)) = condition {
            req = req.if_seq_no(s).if_primary_term(p);
        }
        if let Some(r) = &self.routing {
            req = req.routing(r.as_str());
        }
        req.send().await?;
        Ok(())
    }

    /// Makes the last write visible to search (`_refresh` of the index).
    pub async fn refresh(&self, client: &Client) -> Result<(), Error> {
        refresh::<T>(client).await
    }

    /// [`Doc::save`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    pub fn save_blocking(&mut self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.save(client))
    }

    /// [`Doc::save_unchecked`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    pub fn save_unchecked_blocking(&mut self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.save_unchecked(client))
    }

    /// [`Doc::update`], waiting for the answer (feature `blocking`); for the other kinds
    /// of update, [`DocUpdate::send_blocking`].
    #[cfg(feature = "blocking")]
    pub fn update_blocking(
        &mut self,
        client: &Client,
        partial: impl Serialize + Send,
    ) -> Result<(), Error> {
        es_api::blocking::block_on(self.update(client, partial))
    }

    /// [`Doc::delete`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    pub fn delete_blocking(self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.delete(client))
    }

    /// [`Doc::delete_unchecked`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    pub fn delete_unchecked_blocking(self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.delete_unchecked(client))
    }

    /// [`Doc::refresh`], waiting for the answer (feature `blocking`).
    #[cfg(feature = "blocking")]
    pub fn refresh_blocking(&self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.refresh(client))
    }
}

/// A save of a new document, from [`Document::save_with`].
#[must_use = "a save does nothing until `send`"]
#[derive(Debug, Clone)]
pub struct Save<T: Document> {
    doc: T,
    refresh: Option<es_api::params::Refresh>,
    routing: Option<String>,
}

impl<T: Document> Save<T> {
    /// `refresh` of the write: `true` (refresh now), `false` (default) or
    /// `Refresh::WaitFor` (answer once a refresh made it searchable).
    pub fn refresh(mut self, refresh: impl Into<es_api::params::Refresh>) -> Self {
        self.refresh = Some(refresh.into());
        self
    }

    /// The shard routing value (for a `join` child: its parent's id). The returned [`Doc`]
    /// keeps it ([`Doc::routing`]) and sends it with its later saves, updates and deletes.
    pub fn routing(mut self, routing: impl Into<String>) -> Self {
        self.routing = Some(routing.into());
        self
    }

    /// Validates ([`Document::validate`]; a refusal is never sent), then indexes the
    /// document under an id the server chooses; the stored [`Doc`] comes back.
    ///
    /// Never resent after a failure that may have reached the server (a resend would store
    /// a second copy under another id), even when the client's options say
    /// `idempotent(true)`.
    ///
    /// # Errors
    /// A validation failure (`ErrorKind::Validation`), or the server's refusal. A lost
    /// answer (a gateway's 502, a connection cut after the request was written, a timeout)
    /// is an error whose `api().may_have_reached_server()` is true: the document may be
    /// stored once, under an id this call cannot know.
    pub async fn send(self, client: &Client) -> Result<Doc<T>, Error> {
        let Save {
            doc,
            refresh,
            routing,
        } = self;
        doc.validate().map_err(Error::validation)?;
        let mut req = client.index(T::INDEX).body(&doc).options(sent_once());
        if let Some(r) = refresh {
            req = req.refresh(r);
        }
        if let Some(r) = &routing {
            req = req.routing(r.as_str());
        }
        let resp: WriteResponse = req.send().await?.json()?;
        Ok(Doc::from_write(resp, doc, routing))
    }

    /// [`Save::send`], waiting for the answer (feature `blocking`).
    ///
    /// # Errors
    /// As [`Save::send`].
    #[cfg(feature = "blocking")]
    pub fn send_blocking(self, client: &Client) -> Result<Doc<T>, Error> {
        es_api::blocking::block_on(self.send(client))
    }
}

/// A save of a stored [`Doc`], from [`Doc::save_with`]: conditional on the version read
/// unless [`DocSave::unchecked`].
#[must_use = "a save does nothing until `send`"]
#[derive(Debug)]
pub struct DocSave<'a, T: Document> {
    doc: &'a mut Doc<T>,
    checked: bool,
    refresh: Option<es_api::params::Refresh>,
}

impl<T: Document> DocSave<'_, T> {
    /// `refresh` of the write: `true`, `false` (default) or `Refresh::WaitFor`.
    pub fn refresh(mut self, refresh: impl Into<es_api::params::Refresh>) -> Self {
        self.refresh = Some(refresh.into());
        self
    }

    /// Writes whatever happened to the document meanwhile (last write wins), as
    /// [`Doc::save_unchecked`].
    pub fn unchecked(mut self) -> Self {
        self.checked = false;
        self
    }

    /// Validates, then writes the document back; its `seq_no` / `primary_term` /
    /// `version` become the new ones. A checked save is never resent after a lost answer
    /// (see [`Doc`]); an unchecked one may be (it stores the same document again).
    ///
    /// # Errors
    /// A validation failure (nothing sent), a checked save of a `Doc` without `seq_no` /
    /// `primary_term` (nothing sent, `ErrorKind::Input`), a conflict (`is_conflict()`) when
    /// checked and the document changed since it was read, or another refusal of the
    /// server.
    pub async fn send(self, client: &Client) -> Result<(), Error> {
        let DocSave {
            doc,
            checked,
            refresh,
        } = self;
        doc.source.validate().map_err(Error::validation)?;
        let mut req = client.index(T::INDEX).id(doc.id.clone()).body(&doc.source);
        if checked {
            let (s, p) = doc.condition("save", "save_with().unchecked()")?;
            req = req.if_seq_no(s).if_primary_term(p).options(sent_once());
        }
        if let Some(r) = refresh {
            req = req.refresh(r);
        }
        if let Some(r) = &doc.routing {
            req = req.routing(r.as_str());
        }
        let resp: WriteResponse = req.send().await?.json()?;
        doc.absorb(resp);
        Ok(())
    }

    /// [`DocSave::send`], waiting for the answer (feature `blocking`).
    ///
    /// # Errors
    /// As [`DocSave::send`].
    #[cfg(feature = "blocking")]
    pub fn send_blocking(self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.send(client))
    }
}

/// The options of a write whose resend after a lost answer would be wrong (a second
/// document, a second run of a script, a conflict or a "not found" for its own work): never
/// resent unless the failure proves it did not arrive, whatever the client's options say.
fn sent_once() -> RequestOptions {
    RequestOptions::new().idempotent(false)
}

/// Refreshes a document type's index, so that what was written is searchable.
pub async fn refresh<T: Document>(client: &Client) -> Result<(), Error> {
    client.indices().refresh().index(T::INDEX).send().await?;
    Ok(())
}

/// An update of a stored [`Doc`], from [`Doc::update_with`].
///
/// Exactly one of a partial document ([`DocUpdate::partial`]) or a script
/// ([`DocUpdate::script`]) is sent, else [`DocUpdate::send`] fails before sending.
///
/// Two ways to meet a concurrent write, one per update:
/// - by default the update is conditional on the version read (`if_seq_no` /
///   `if_primary_term`), so a concurrent write makes it fail with `is_conflict()` (and a
///   `Doc` without them refuses to send it);
/// - [`DocUpdate::retry_on_conflict`] means **no version check**: the server applies the
///   update to whatever version is stored, re-reading and retrying up to `n` times when
///   another write lands between its read and its write. Elasticsearch refuses `if_seq_no`
///   together with `retry_on_conflict` ("compare and write operations can not be retried"),
///   so that one sends no condition. [`DocUpdate::unchecked`] is the same without the
///   server's retries.
///
/// A scripted update, a checked one and one with an [`upsert`](DocUpdate::upsert) are never
/// resent after a lost answer (a second run of `ctx._source.views += 1` counts twice; a
/// resent upsert would merge the partial document into the upsert it stored): that failure
/// is an error whose `api().may_have_reached_server()` is true. Only an unchecked partial
/// update (`doc`, with or without `doc_as_upsert`) may be resent, since applying it twice
/// stores the same document.
#[must_use = "an update does nothing until `send`"]
pub struct DocUpdate<'a, T: Document> {
    doc: &'a mut Doc<T>,
    partial: Option<Result<Value, Error>>,
    script: Option<es_api::types::common::Script>,
    upsert: Option<Result<Value, Error>>,
    doc_as_upsert: bool,
    retry_on_conflict: Option<u32>,
    checked: bool,
    refresh: Option<es_api::params::Refresh>,
}

impl<T: Document> std::fmt::Debug for DocUpdate<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocUpdate")
            .field("id", &self.doc.id)
            .field("script", &self.script)
            .field("doc_as_upsert", &self.doc_as_upsert)
            .field("retry_on_conflict", &self.retry_on_conflict)
            .field("checked", &self.checked)
            .finish_non_exhaustive()
    }
}

impl<T: Document> DocUpdate<'_, T> {
    /// Merges these fields into the stored document (`{"doc": ...}`: objects merge field by
    /// field, other values replace).
    pub fn partial(mut self, partial: impl Serialize) -> Self {
        self.partial = Some(
            serde_json::to_value(&partial).map_err(|e| Error::invalid("a partial document", e)),
        );
        self
    }

    /// Runs a script on the stored document (`ctx._source`).
    pub fn script(mut self, script: impl Into<crate::InlineScript>) -> Self {
        self.script = Some(script.into().into());
        self
    }

    /// The document to store if it no longer exists (deleted meanwhile); validated before
    /// sending.
    pub fn upsert(mut self, doc: &T) -> Self {
        self.upsert = Some(match doc.validate() {
            Ok(()) => {
                serde_json::to_value(doc).map_err(|e| Error::invalid("the upsert document", e))
            }
            Err(msg) => Err(Error::validation(msg)),
        });
        self
    }

    /// With a partial document: store the merged document if it no longer exists.
    pub fn doc_as_upsert(mut self, yes: bool) -> Self {
        self.doc_as_upsert = yes;
        self
    }

    /// No version check: the server applies the update to the stored version, whatever
    /// happened since this `Doc` was read, retrying up to `n` times when the document
    /// changes between its read and its write (instead of the default check against the
    /// version read, which Elasticsearch refuses together with `retry_on_conflict`).
    pub fn retry_on_conflict(mut self, n: u32) -> Self {
        self.retry_on_conflict = Some(n);
        self
    }

    /// No version check and no retries by the server: the update applies to whatever
    /// version is stored (last write wins).
    pub fn unchecked(mut self) -> Self {
        self.checked = false;
        self
    }

    /// `refresh` of the update: `true`, `false` (default) or `Refresh::WaitFor`.
    pub fn refresh(mut self, refresh: impl Into<es_api::params::Refresh>) -> Self {
        self.refresh = Some(refresh.into());
        self
    }

    /// Sends the update; the stored document comes back (`_source`) and replaces the
    /// `Doc`'s value, with its new `seq_no` / `primary_term` / `version`.
    ///
    /// # Errors
    /// Before sending: neither or both of a partial document and a script, `doc_as_upsert`
    /// without a partial document, a document that cannot be serialized, a merged partial
    /// document or an upsert that fails [`Document::validate`], a checked update of a `Doc`
    /// without `seq_no` / `primary_term`. From the server: a conflict (`is_conflict()`), a
    /// missing document without upsert (`is_not_found()`), a failing script (`400`). A lost
    /// answer: see [`DocUpdate`].
    pub async fn send(self, client: &Client) -> Result<(), Error> {
        let DocUpdate {
            doc,
            partial,
            script,
            upsert,
            doc_as_upsert,
            retry_on_conflict,
            checked,
            refresh,
        } = self;
        let partial = partial.transpose()?;
        let upsert = upsert.transpose()?;
        let mut body = serde_json::Map::new();
        match (partial, script) {
            (Some(p), None) => {
                // What the server will store, checked here first.
                let mut merged = serde_json::to_value(&doc.source)
                    .map_err(|e| Error::invalid("the document", e))?;
                merge(&mut merged, &p);
                let merged: T = serde_json::from_value(merged)
                    .map_err(|e| Error::invalid("the document with the partial update", e))?;
                merged.validate().map_err(Error::validation)?;
                body.insert("doc".into(), p);
            }
            (None, Some(s)) => {
                if doc_as_upsert {
                    return Err(Error::input(
                        "doc_as_upsert needs a partial document, not a script",
                    ));
                }
                body.insert(
                    "script".into(),
                    serde_json::to_value(&s).map_err(|e| Error::invalid("the script", e))?,
                );
            }
            (None, None) => {
                return Err(Error::input(
                    "an update needs a partial document or a script",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::input(
                    "an update takes a partial document or a script, not both",
                ));
            }
        }
        if let Some(u) = upsert {
            body.insert("upsert".into(), u);
        }
        if doc_as_upsert {
            body.insert("doc_as_upsert".into(), Value::Bool(true));
        }
        let condition = match retry_on_conflict {
            None if checked => Some(doc.condition(
                "update",
                "update_with().retry_on_conflict(n)` or `update_with().unchecked()",
            )?),
            _ => None,
        };
        // Applying it twice stores the same document only for an unchecked `doc` update.
        let resendable = !body.contains_key("script") && !body.contains_key("upsert");
        let mut req = client
            .update(T::INDEX, doc.id.clone())
            .body(Value::Object(body))
            ._source("true");
        if let Some(n) = retry_on_conflict {
            req = req.retry_on_conflict(n);
        }
        if let Some((s, p)) = condition {
            req = req.if_seq_no(s).if_primary_term(p);
        }
        if condition.is_some() || !resendable {
            req = req.options(sent_once());
        }
        if let Some(r) = refresh {
            req = req.refresh(r);
        }
        if let Some(r) = &doc.routing {
            req = req.routing(r.as_str());
        }
        let resp: WriteResponse = req.send().await?.json()?;
        let source = resp
            .get
            .as_ref()
            .and_then(|g| g.get("_source"))
            .cloned()
            .ok_or_else(|| Error::input("the update response has no document (get._source)"))?;
        doc.source = serde_json::from_value(source)
            .map_err(|e| Error::invalid("the updated document", e))?;
        doc.absorb(resp);
        Ok(())
    }
}

impl<T: Document> DocUpdate<'_, T> {
    /// [`DocUpdate::send`], waiting for the answer (feature `blocking`).
    ///
    /// # Errors
    /// As [`DocUpdate::send`].
    #[cfg(feature = "blocking")]
    pub fn send_blocking(self, client: &Client) -> Result<(), Error> {
        es_api::blocking::block_on(self.send(client))
    }
}

/// Elasticsearch's merge of a partial document: objects merge key by key (recursively),
/// anything else replaces.
fn merge(target: &mut Value, partial: &Value) {
    match (target, partial) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
