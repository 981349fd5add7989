//! The Catalog's items: connectors and apps for DataMiner, from `data/catalog.json` (built into
//! the binary), read and checked once at start-up so a broken file stops the server early.

use std::collections::{BTreeSet, HashSet};

use anyhow::{bail, Context};
use stratus_shared::api::catalog::CatalogItem;

/// The catalog file, as shipped.
const CATALOG_JSON: &str = include_str!("../../data/catalog.json");

/// The catalog, sorted by name.
#[derive(Debug, Clone)]
pub struct Catalog {
    items: Vec<CatalogItem>,
    categories: Vec<String>,
}

impl Catalog {
    /// The catalog shipped with Stratus.
    pub fn bundled() -> anyhow::Result<Self> {
        Self::parse(CATALOG_JSON)
    }

    /// Reads and checks a catalog: every field filled, ids lowercase `a-z0-9-` and unique.
    pub fn parse(json: &str) -> anyhow::Result<Self> {
        let mut items: Vec<CatalogItem> =
            serde_json::from_str(json).context("the catalog is not a list of catalog items")?;
        let mut ids = HashSet::new();
        for item in &items {
            let fields = [
                &item.id,
                &item.name,
                &item.vendor,
                &item.category,
                &item.version,
                &item.description,
            ];
            if fields.iter().any(|field| field.trim().is_empty()) {
                bail!("the catalog item {:?} has an empty field", item.id);
            }
            if !item
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                bail!(
                    "the catalog id {:?} is not lowercase a-z, 0-9 and -",
                    item.id
                );
            }
            if !ids.insert(item.id.as_str()) {
                bail!("the catalog id {:?} appears twice", item.id);
            }
        }
        items.sort_by_cached_key(|item| item.name.to_lowercase());
        let categories: BTreeSet<String> = items.iter().map(|item| item.category.clone()).collect();
        Ok(Self {
            items,
            categories: categories.into_iter().collect(),
        })
    }

    /// The items `search` finds in `category` (see [`CatalogItem::matches`]), by name. An
    /// unknown category finds nothing.
    pub fn find(&self, search: &str, category: Option<&str>) -> Vec<CatalogItem> {
        self.items
            .iter()
            .filter(|item| item.matches(search, category))
            .cloned()
            .collect()
    }

    /// Every category, sorted.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_parses_with_unique_ids() {
        let catalog = Catalog::bundled().expect("data/catalog.json is valid");
        assert!(
            (30..=40).contains(&catalog.len()),
            "{} items",
            catalog.len()
        );
        assert!(catalog.categories().len() >= 5);
        let ids: HashSet<_> = catalog.items.iter().map(|item| &item.id).collect();
        assert_eq!(ids.len(), catalog.len());
    }

    #[test]
    fn duplicate_ids_and_empty_fields_are_refused() {
        let item = r#"{"id":"a","name":"A","vendor":"V","category":"C","kind":"app","version":"1","description":"D"}"#;
        assert!(Catalog::parse(&format!("[{item}]")).is_ok());
        let twice = Catalog::parse(&format!("[{item},{item}]")).unwrap_err();
        assert!(twice.to_string().contains("twice"), "{twice}");
        let empty = item.replace(r#""vendor":"V""#, r#""vendor":" ""#);
        assert!(Catalog::parse(&format!("[{empty}]")).is_err());
        let unknown_kind = item.replace(r#""app""#, r#""plugin""#);
        assert!(Catalog::parse(&format!("[{unknown_kind}]")).is_err());
    }

    #[test]
    fn an_unknown_category_finds_nothing() {
        let catalog = Catalog::bundled().unwrap();
        assert!(catalog.find("", Some("No such category")).is_empty());
        assert_eq!(catalog.find("", None).len(), catalog.len());
    }
}
