//! Races on the rules that must hold whatever the timing: two Owners leaving (or stepping
//! down) at once never leave an organization without an Owner. Connect-code claims and
//! refresh-key spends race in `gateway.rs`.

use serde_json::json;
use stratus_shared::api::members::Members;
use stratus_shared::api::organizations::Role;

use crate::helpers::{spawn_app, unique_email, TestApp};

/// How many organizations each race runs on: one lucky interleaving is not a proof.
const ROUNDS: usize = 12;

/// An organization with two Owners; returns its id and both Owners' (id, token).
async fn two_owners(app: &TestApp) -> (String, [(String, String); 2]) {
    let first = app.create_user(&unique_email("acme.example")).await;
    let second = app.create_user(&unique_email("acme.example")).await;
    let organization = app.create_organization(&first.1, "Acme").await;
    app.add_member(&organization, &second.0, "owner").await;
    (organization, [first, second])
}

async fn owners_left(app: &TestApp, token: &str, organization: &str) -> usize {
    let listed: Members = app
        .read_as(token, &format!("/api/organizations/{organization}/members"))
        .await;
    listed
        .members
        .iter()
        .filter(|member| member.role == Role::Owner)
        .count()
}

#[tokio::test]
async fn two_owners_leaving_at_once_leave_one_owner_behind() {
    let app = spawn_app().await;
    for _ in 0..ROUNDS {
        let (organization, [(first_id, first), (second_id, second)]) = two_owners(&app).await;
        let path = format!("/api/organizations/{organization}/members");
        let (first_path, second_path) =
            (format!("{path}/{first_id}"), format!("{path}/{second_id}"));
        let (a, b) = tokio::join!(
            app.delete_as(&first, &first_path),
            app.delete_as(&second, &second_path),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [204, 409], "exactly one may leave");
        let stayed = if a.status() == 204 { &second } else { &first };
        assert_eq!(owners_left(&app, stayed, &organization).await, 1);
    }
}

#[tokio::test]
async fn two_owners_stepping_down_at_once_leave_one_owner_behind() {
    let app = spawn_app().await;
    for _ in 0..ROUNDS {
        let (organization, [(first_id, first), (second_id, second)]) = two_owners(&app).await;
        let path = format!("/api/organizations/{organization}/members");
        let (first_path, second_path) =
            (format!("{path}/{first_id}"), format!("{path}/{second_id}"));
        // One steps down to Admin while the other leaves.
        let (a, b) = tokio::join!(
            app.patch_as(&first, &first_path, json!({"role": "admin"})),
            app.delete_as(&second, &second_path),
        );
        let succeeded = [a.status(), b.status()]
            .iter()
            .filter(|status| status.is_success())
            .count();
        assert_eq!(succeeded, 1, "{} and {}", a.status(), b.status());
        let stayed = if a.status().is_success() {
            &second
        } else {
            &first
        };
        assert_eq!(owners_left(&app, stayed, &organization).await, 1);
    }
}
