//! The public DataMiner Catalog (no sign-in needed).

use stratus_shared::api::catalog::CatalogItem;

use super::http::get;
use super::ApiFailure;

/// The catalog, searched and filtered (empty strings mean no search, any category).
pub async fn search(search: &str, category: &str) -> Result<Vec<CatalogItem>, ApiFailure> {
    let path = format!(
        "/api/catalog?search={}&category={}",
        js_sys::encode_uri_component(search),
        js_sys::encode_uri_component(category)
    );
    get(&path, None).await
}

/// The catalog's categories, sorted.
pub async fn categories() -> Result<Vec<String>, ApiFailure> {
    get("/api/catalog/categories", None).await
}
