//! The root component: layout and the client-side routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::{Footer, Header};
use crate::components::organization_selector::SelectedOrganization;
use crate::pages::account::AccountPage;
use crate::pages::admin::AdminPage;
use crate::pages::app_page::TeamsBotPage;
use crate::pages::catalog::CatalogPage;
use crate::pages::collaboration::CollaborationPage;
use crate::pages::community::CommunityPage;
use crate::pages::home::Home;
use crate::pages::login::Login;
use crate::pages::not_found::NotFound;
use crate::pages::password_reset::{ForgotPassword, ResetPassword};
use crate::pages::provider_sign_in::{LinkIdentity, LinkProvider, SignInComplete, SignInError};
use crate::pages::sharing::SharingPage;
use crate::pages::signup::Signup;
use crate::pages::staff::StaffPage;
use crate::pages::system_detail::SystemDetailPage;
use crate::pages::verify_email::VerifyEmail;
use crate::session::Session;

/// The whole web app.
#[component]
pub fn App() -> impl IntoView {
    Session::provide();
    SelectedOrganization::provide();
    view! {
        <Router>
            <Header />
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/login") view=Login />
                    <Route path=path!("/login/complete") view=SignInComplete />
                    <Route path=path!("/login/link") view=LinkProvider />
                    <Route path=path!("/login/error") view=SignInError />
                    <Route path=path!("/link-identity") view=LinkIdentity />
                    <Route path=path!("/signup") view=Signup />
                    <Route path=path!("/verify-email") view=VerifyEmail />
                    <Route path=path!("/forgot-password") view=ForgotPassword />
                    <Route path=path!("/reset-password") view=ResetPassword />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/systems/:id") view=SystemDetailPage />
                    <Route path=path!("/teams-bot") view=TeamsBotPage />
                    <Route path=path!("/collaboration") view=CollaborationPage />
                    <Route path=path!("/catalog") view=CatalogPage />
                    <Route path=path!("/sharing") view=SharingPage />
                    <Route path=path!("/community") view=CommunityPage />
                    <Route path=path!("/admin") view=AdminPage />
                    <Route path=path!("/staff") view=StaffPage />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}
