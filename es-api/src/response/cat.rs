//! `cat` endpoints read as JSON rows (send them with `.format("json")`).

/// Rows of a `cat` endpoint with `format=json`: one JSON object per row, column → value.
///
/// # Example
/// ```no_run
/// # async fn f(client: es_api::Client) -> es_api::Result<()> {
/// use es_api::response::CatRows;
///
/// let rows: CatRows = client.cat().indices().format("json").await?.json()?;
/// for row in &rows {
///     println!("{} {}", row["index"], row["docs.count"]);
/// }
/// # Ok(())
/// # }
/// ```
pub type CatRows = Vec<serde_json::Map<String, serde_json::Value>>;
