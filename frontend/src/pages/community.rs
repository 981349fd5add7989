//! `/community`: DataMiner Community, open to every signed-in account (guests included): a
//! welcome and where the community meets.

use leptos::prelude::*;

use crate::components::require_sign_in::RequireSignIn;

/// One place of the community: its name, address and what it is for.
struct CommunityLink {
    name: &'static str,
    url: &'static str,
    about: &'static str,
}

/// Where the DataMiner community meets, in the order newcomers usually need them.
const COMMUNITY_LINKS: [CommunityLink; 6] = [
    CommunityLink {
        name: "DataMiner Dojo",
        url: "https://community.dataminer.services/",
        about: "The community's home: news, blogs, use cases and the people behind them.",
    },
    CommunityLink {
        name: "DataMiner Docs",
        url: "https://docs.dataminer.services/",
        about: "User guides, connector documentation and release notes.",
    },
    CommunityLink {
        name: "Questions & answers forum",
        url: "https://community.dataminer.services/questions/",
        about:
            "Ask a question, or answer one: DataMiner users and Skyline engineers help each other.",
    },
    CommunityLink {
        name: "Courses and certification",
        url: "https://community.dataminer.services/courses/",
        about: "Free self-paced courses, from your first steps to DataMiner certification.",
    },
    CommunityLink {
        name: "Skyline Communications on GitHub",
        url: "https://github.com/SkylineCommunications",
        about: "Open-source connectors, scripts, tools and examples.",
    },
    CommunityLink {
        name: "Kata and challenges",
        url: "https://community.dataminer.services/dojo-kata/",
        about: "Short hands-on exercises to sharpen your DataMiner skills.",
    },
];

/// The Community app.
#[component]
pub fn CommunityPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <Community />
        </RequireSignIn>
    }
}

#[component]
fn Community() -> impl IntoView {
    view! {
        <div class="page">
            <h1>"DataMiner Community"</h1>
            <p class="lead" data-testid="community-welcome">
                "Welcome to the DataMiner community: thousands of engineers who monitor and orchestrate their networks with DataMiner, and who share what they learn."
            </p>
            <p>"Whether or not your account is linked to an organization, these are open to you:"</p>
            <ul class="community-links">
                {COMMUNITY_LINKS
                    .iter()
                    .map(|link| {
                        view! {
                            <li data-testid="community-link">
                                <a href=link.url rel="noopener noreferrer" target="_blank">{link.name}</a>
                                <span class="muted">" — " {link.about}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}
