//! `/api/catalog`: the public Catalog of connectors and apps. No sign-in needed.

use actix_web::{get, web, HttpResponse};
use stratus_shared::api::catalog::{CatalogItem, CatalogQuery};

use crate::domain::catalog::Catalog;

/// The catalog items matching a search and a category, by name. An unknown category gives an
/// empty list.
#[utoipa::path(
    tag = "catalog",
    params(CatalogQuery),
    responses(
        (status = 200, description = "The matching items", body = [CatalogItem]),
        (status = 400, description = "Unreadable query", body = stratus_shared::ApiError),
    )
)]
#[get("/catalog")]
pub async fn search_catalog(
    query: web::Query<CatalogQuery>,
    catalog: web::Data<Catalog>,
) -> HttpResponse {
    let search = query.search.as_deref().unwrap_or_default();
    let category = query.category.as_deref().filter(|c| !c.is_empty());
    HttpResponse::Ok().json(catalog.find(search, category))
}

/// Every category of the catalog, sorted.
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "The categories", body = [String]))
)]
#[get("/catalog/categories")]
pub async fn catalog_categories(catalog: web::Data<Catalog>) -> HttpResponse {
    HttpResponse::Ok().json(catalog.categories())
}
