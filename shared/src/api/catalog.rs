//! The Catalog: connectors and apps for DataMiner, public to everyone.

use serde::{Deserialize, Serialize};

/// What a catalog item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CatalogKind {
    /// Talks to a device or service (a DataMiner protocol).
    Connector,
    /// A packaged solution: dashboards, low-code apps, automation.
    App,
}

impl CatalogKind {
    /// The kind as people read it.
    pub fn label(self) -> &'static str {
        match self {
            CatalogKind::Connector => "Connector",
            CatalogKind::App => "App",
        }
    }
}

/// One connector or app of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    /// Stable, lowercase, e.g. `cisco-asr-9000`.
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub category: String,
    pub kind: CatalogKind,
    pub version: String,
    pub description: String,
}

impl CatalogItem {
    /// Whether the item is found by `search` (case-insensitive, in name, vendor and
    /// description; empty finds everything) within `category` (exact; none means any).
    pub fn matches(&self, search: &str, category: Option<&str>) -> bool {
        if category.is_some_and(|category| category != self.category) {
            return false;
        }
        let search = search.trim().to_lowercase();
        search.is_empty()
            || [&self.name, &self.vendor, &self.description]
                .iter()
                .any(|field| field.to_lowercase().contains(&search))
    }
}

/// `GET /api/catalog` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CatalogQuery {
    /// Words to find in the name, vendor or description (case-insensitive).
    #[serde(default)]
    pub search: Option<String>,
    /// One category, exactly as listed by `GET /api/catalog/categories`.
    #[serde(default)]
    pub category: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> CatalogItem {
        CatalogItem {
            id: "cisco-asr".into(),
            name: "Cisco ASR 9000".into(),
            vendor: "Cisco".into(),
            category: "Routers".into(),
            kind: CatalogKind::Connector,
            version: "1.0.0.3".into(),
            description: "Monitors interfaces and BGP sessions.".into(),
        }
    }

    #[test]
    fn search_is_case_insensitive_over_name_vendor_and_description() {
        let item = item();
        assert!(item.matches("", None));
        assert!(item.matches("asr", None));
        assert!(item.matches("CISCO", None));
        assert!(item.matches("bgp", None));
        assert!(!item.matches("juniper", None));
        // The category is not searched as text.
        assert!(!item.matches("routers", None));
    }

    #[test]
    fn the_category_filter_is_exact() {
        let item = item();
        assert!(item.matches("", Some("Routers")));
        assert!(!item.matches("", Some("routers")));
        assert!(!item.matches("asr", Some("Encoders")));
    }
}
