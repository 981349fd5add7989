//! The apps a user reaches from the home page, in the order the home page shows them.

/// One app of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum App {
    ProjectCollaboration,
    Catalog,
    Sharing,
    Community,
    Admin,
}

impl App {
    /// Every app, in home-page order.
    pub const ALL: [App; 5] = [
        App::ProjectCollaboration,
        App::Catalog,
        App::Sharing,
        App::Community,
        App::Admin,
    ];

    /// The name shown on its tile and page.
    pub fn title(self) -> &'static str {
        match self {
            App::ProjectCollaboration => "Project Collaboration",
            App::Catalog => "DataMiner Catalog",
            App::Sharing => "DataMiner Sharing",
            App::Community => "DataMiner Community",
            App::Admin => "Admin",
        }
    }

    /// The client-side route of the app.
    pub fn path(self) -> &'static str {
        match self {
            App::ProjectCollaboration => "/collaboration",
            App::Catalog => "/catalog",
            App::Sharing => "/sharing",
            App::Community => "/community",
            App::Admin => "/admin",
        }
    }

    /// One sentence on what the app is for.
    pub fn summary(self) -> &'static str {
        match self {
            App::ProjectCollaboration => {
                "Follow your organization's projects with Skyline: status, dates and open tasks."
            }
            App::Catalog => {
                "Find connectors and apps for DataMiner by name, vendor or category."
            }
            App::Sharing => {
                "See which dashboards of your systems are shared with people outside your organization, and share more."
            }
            App::Community => {
                "Meet other DataMiner users: the Dojo, docs, the forum, courses and open source."
            }
            App::Admin => {
                "Manage your organization: its users, roles, DataMiner Systems and settings."
            }
        }
    }

    /// Whether the app shows information that belongs to one organization, so a guest
    /// (an account not linked to an organization) cannot use it. The Catalog is public (no
    /// sign-in needed); Community is open to every signed-in account.
    pub fn is_organization_only(self) -> bool {
        matches!(self, App::ProjectCollaboration | App::Sharing | App::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_app_has_a_distinct_route_and_title() {
        let paths: HashSet<_> = App::ALL.iter().map(|a| a.path()).collect();
        let titles: HashSet<_> = App::ALL.iter().map(|a| a.title()).collect();
        assert_eq!(paths.len(), App::ALL.len());
        assert_eq!(titles.len(), App::ALL.len());
        assert!(App::ALL.iter().all(|a| a.path().starts_with('/')));
    }

    #[test]
    fn catalog_and_community_are_open_to_guests() {
        assert!(!App::Catalog.is_organization_only());
        assert!(!App::Community.is_organization_only());
        assert!(App::ProjectCollaboration.is_organization_only());
        assert!(App::Admin.is_organization_only());
    }
}
