//! The Catalog: public, searchable by text and filtered by category.

use stratus_shared::api::catalog::CatalogItem;

use crate::helpers::spawn_app;

async fn find(app: &crate::helpers::TestApp, query: &str) -> Vec<CatalogItem> {
    let response = app.get(&format!("/api/catalog{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn anyone_searches_the_catalog_by_text_and_category() {
    let app = spawn_app().await;

    // No sign-in needed.
    let everything = find(&app, "").await;
    assert!(
        (30..=40).contains(&everything.len()),
        "{}",
        everything.len()
    );
    let response = app.get("/api/catalog/categories").await;
    assert_eq!(response.status(), 200);
    let categories: Vec<String> = response.json().await.unwrap();
    assert!(
        categories.contains(&"Satellite".to_owned()),
        "{categories:?}"
    );
    let mut sorted = categories.clone();
    sorted.sort();
    assert_eq!(categories, sorted);

    // Search is case-insensitive over name, vendor and description.
    let cisco = find(&app, "?search=CISCO").await;
    assert!(!cisco.is_empty());
    assert!(cisco.len() < everything.len());
    assert!(cisco
        .iter()
        .all(|item| [&item.name, &item.vendor, &item.description]
            .iter()
            .any(|field| field.to_lowercase().contains("cisco"))));
    let by_description = find(&app, "?search=bgp").await;
    assert!(by_description
        .iter()
        .any(|item| item.id == "cisco-asr-9000"));

    // A category gives exactly its items.
    let satellite = find(&app, "?category=Satellite").await;
    assert!(!satellite.is_empty());
    assert!(satellite.iter().all(|item| item.category == "Satellite"));
    assert_eq!(
        satellite.len(),
        everything
            .iter()
            .filter(|item| item.category == "Satellite")
            .count()
    );
    let encoded = find(&app, "?category=Power%20%26%20Environment").await;
    assert!(!encoded.is_empty());
    assert!(encoded
        .iter()
        .all(|item| item.category == "Power & Environment"));

    // Both together, an unknown category, and no match: empty lists, not errors.
    let both = find(&app, "?search=modem&category=Satellite").await;
    assert!(!both.is_empty() && both.len() < satellite.len());
    assert!(find(&app, "?category=Toasters").await.is_empty());
    assert!(find(&app, "?search=nothing-like-this").await.is_empty());
    assert_eq!(
        find(&app, "?search=&category=").await.len(),
        everything.len()
    );
}
