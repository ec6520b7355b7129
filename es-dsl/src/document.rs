//! Persistence: [`Document`] (derived with `#[derive(Document)]`) and the stored
//! [`Doc<T>`] with its concurrency metadata.

use std::future::Future;

use es_api::Client;
use es_api::response::{GetResponse, WriteResponse};
use es_api::types::mapping::{DynamicMapping, Property, TypeMapping};
use es_api::types::search::Hit;
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
            let got: GetResponse<Self> = resp.json()?;
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
    }

    /// Whether the document `id` exists.
    fn exists(
        client: &Client,
        id: impl Into<String> + Send,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        async move { Ok(client.exists(Self::INDEX, id).await?) }
    }

    /// The documents of these ids, in order (`None` where there is none).
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
            Ok(resp
                .docs
                .into_iter()
                .map(|d| {
                    if !d.found {
                        return None;
                    }
                    Some(Doc {
                        id: d.id,
                        index: d.index,
                        seq_no: d.seq_no,
                        primary_term: d.primary_term,
                        version: d.version,
                        routing: d.routing,
                        source: d.source?,
                    })
                })
                .collect())
        }
    }

    /// Indexes many documents through es-helpers' bulk (chunked, concurrent, 429s retried),
    /// each validated first (the first refusal ends the run before anything is sent).
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
                .run_iter(actions.collect::<Vec<_>>())
                .await?)
        }
    }

    /// A search of this document type's index, hits read as `Self`.
    fn search() -> Search<Self> {
        Search::new().index(Self::INDEX)
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
/// silent overwrite ([`Doc::save_unchecked`] opts out).
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
    /// `primary_term` (with `seq_no_primary_term(true)` on the search, else later writes are
    /// unchecked) and `_routing`.
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
            refresh: None,
        }
    }

    /// Deletes the document, if it is still the version read (with its
    /// [`routing`](Doc::routing)).
    pub async fn delete(self, client: &Client) -> Result<(), Error> {
        let mut req = client.delete(T::INDEX, self.id.clone());
        if let (Some(s), Some(p)) = (self.seq_no, self.primary_term) {
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
    /// # Errors
    /// A validation failure (`ErrorKind::Validation`), or the server's refusal.
    pub async fn send(self, client: &Client) -> Result<Doc<T>, Error> {
        let Save {
            doc,
            refresh,
            routing,
        } = self;
        doc.validate().map_err(Error::validation)?;
        let mut req = client.index(T::INDEX).body(&doc);
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
    /// `version` become the new ones.
    ///
    /// # Errors
    /// A validation failure (nothing sent), a conflict (`is_conflict()`) when checked and
    /// the document changed since it was read, or another refusal of the server.
    pub async fn send(self, client: &Client) -> Result<(), Error> {
        let DocSave {
            doc,
            checked,
            refresh,
        } = self;
        doc.source.validate().map_err(Error::validation)?;
        let mut req = client.index(T::INDEX).id(doc.id.clone()).body(&doc.source);
        if checked && let (Some(s), Some(p)) = (doc.seq_no, doc.primary_term) {
            req = req.if_seq_no(s).if_primary_term(p);
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

/// Refreshes a document type's index, so that what was written is searchable.
pub async fn refresh<T: Document>(client: &Client) -> Result<(), Error> {
    client.indices().refresh().index(T::INDEX).send().await?;
    Ok(())
}

/// An update of a stored [`Doc`], from [`Doc::update_with`].
///
/// Exactly one of a partial document ([`DocUpdate::partial`]) or a script
/// ([`DocUpdate::script`]) is sent, else [`DocUpdate::send`] fails before sending. By default
/// the update is conditional on the version read (`if_seq_no` / `if_primary_term`), so a
/// concurrent write makes it fail with `is_conflict()`; [`DocUpdate::retry_on_conflict`]
/// instead lets the server re-apply it to the latest version (Elasticsearch refuses the two
/// together, so that one drops the condition).
#[must_use = "an update does nothing until `send`"]
pub struct DocUpdate<'a, T: Document> {
    doc: &'a mut Doc<T>,
    partial: Option<Result<Value, Error>>,
    script: Option<es_api::types::common::Script>,
    upsert: Option<Result<Value, Error>>,
    doc_as_upsert: bool,
    retry_on_conflict: Option<u32>,
    refresh: Option<es_api::params::Refresh>,
}

impl<T: Document> std::fmt::Debug for DocUpdate<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocUpdate")
            .field("id", &self.doc.id)
            .field("script", &self.script)
            .field("doc_as_upsert", &self.doc_as_upsert)
            .field("retry_on_conflict", &self.retry_on_conflict)
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

    /// Let the server retry up to `n` times when the document changes between its read and
    /// its write, instead of the default check against the version this `Doc` was read at.
    pub fn retry_on_conflict(mut self, n: u32) -> Self {
        self.retry_on_conflict = Some(n);
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
    /// document or an upsert that fails [`Document::validate`]. From the server: a conflict
    /// (`is_conflict()`), a missing document without upsert (`is_not_found()`), a failing
    /// script (`400`).
    pub async fn send(self, client: &Client) -> Result<(), Error> {
        let DocUpdate {
            doc,
            partial,
            script,
            upsert,
            doc_as_upsert,
            retry_on_conflict,
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
        let mut req = client
            .update(T::INDEX, doc.id.clone())
            .body(Value::Object(body))
            ._source("true");
        match retry_on_conflict {
            Some(n) => req = req.retry_on_conflict(n),
            None => {
                if let (Some(s), Some(p)) = (doc.seq_no, doc.primary_term) {
                    req = req.if_seq_no(s).if_primary_term(p);
                }
            }
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
