//! The staff console's legacy import: bad lines reported with their reasons, good rows
//! applied in one go, limits on size and rows.

use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{ImportReport, LinkSource};
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, unique_email, TestApp};
use crate::staff::{audit_log, search, sign_up_unverified, staff_members, verify};

/// Uploads `csv` to the legacy import as the staff member `token`.
async fn import(app: &TestApp, token: &str, csv: impl Into<String>) -> reqwest::Response {
    let csv = csv.into();
    let size = csv.len();
    app.client
        .post(format!("{}/api/staff/legacy-import", app.address))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap_or_else(|error| panic!("the server answers ({size} bytes): {error:?}"))
}

#[tokio::test]
async fn the_legacy_import_reports_bad_lines_and_applies_the_good_ones_in_one_go() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let acme = app.create_organization(&owner, "Acme").await;
    let globex = app.create_organization(&owner, "Globex Corp").await;
    let (veteran_id, _) = app.create_verified_user("veteran@example.com").await;
    let legacy = unique_email("legacy.example");

    let csv = format!(
        "Email,Organization,Role\n\
         veteran@example.com,ACME,Admin\n\
         {legacy},globex-corp,member\n\
         not-an-email,Acme,member\n\
         ghost@example.com,Nowhere Inc,member\n\
         boss@example.com,Acme,boss\n\
         VETERAN@example.com,acme,member\n\
         owner@example.com,Acme,member\n\
         short@example.com,Acme\n"
    );
    let response = import(&app, &staff, csv).await;
    assert_eq!(response.status(), 200);
    let report: ImportReport = response.json().await.unwrap();
    let lines: Vec<u64> = report.errors.iter().map(|error| error.line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 9], "{:?}", report.errors);
    assert!(report.errors[0].reason.contains("Bad email"));
    assert!(report.errors[1].reason.contains("no organization"));
    assert!(report.errors[2].reason.contains("Bad role"));
    assert!(report.errors[3].reason.contains("Duplicate"));
    assert!(report.errors[4].reason.contains("3 columns"));
    assert_eq!(
        (
            report.applied,
            report.linked_now,
            report.pending,
            report.already_linked
        ),
        (3, 1, 1, 1)
    );

    // The verified account is a member now; the other address waits, marked legacy.
    let members = staff_members(&app, &staff, &acme).await;
    let veteran = members
        .members
        .iter()
        .find(|member| member.user_id == veteran_id)
        .expect("the verified account is linked at once");
    assert_eq!(veteran.role, Role::Admin);
    assert_eq!(members.members.len(), 2, "the owner stays as they were");
    let found = search(&app, &staff, &legacy).await;
    assert_eq!(found.pending.len(), 1);
    assert_eq!(found.pending[0].source, LinkSource::Legacy);
    assert_eq!(found.pending[0].organization_id, globex);

    // Bad lines left nothing behind.
    for address in ["ghost@example.com", "boss@example.com", "short@example.com"] {
        let found = search(&app, &staff, address).await;
        assert!(
            found.pending.is_empty() && found.accounts.is_empty(),
            "{address}"
        );
    }

    // Legacy links send no mail; verified sign-up applies them.
    let token = sign_up_unverified(&app, &legacy, 1).await;
    let grant = verify(&app, &token).await;
    assert_eq!(grant.account.organizations[0].name, "Globex Corp");
    assert_eq!(grant.account.organizations[0].role, Role::Member);
    let mails = app.mailbox.messages_to(&legacy);
    assert!(
        mails.iter().all(|mail| !mail.subject.contains("invited")),
        "{:?}",
        mails.iter().map(|mail| &mail.subject).collect::<Vec<_>>()
    );

    let log = audit_log(&app, &staff).await;
    assert_eq!(log[0].action, "staff.legacy_import");
    assert!(
        log[0].detail.contains("3 rows applied"),
        "{}",
        log[0].detail
    );
    assert!(log.iter().any(|entry| entry.action == "staff.link_created"
        && entry.detail.contains("veteran@example.com")
        && entry.detail.contains("Admin")
        && entry.actor_email == "staff@example.com"));
}

#[tokio::test]
async fn an_oversized_import_is_refused_and_applies_nothing() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    app.create_organization(&owner, "Acme").await;

    let rows: String = (0..5_001)
        .map(|n| format!("person{n}@example.com,acme,member\n"))
        .collect();
    let response = import(&app, &staff, rows).await;
    assert_eq!(response.status(), 413);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::PayloadTooLarge);
    assert!(error.message.contains("5000"), "{}", error.message);

    let big = format!("{}\n", "x".repeat(1024 * 1024));
    let response = import(&app, &staff, big).await;
    assert_eq!(response.status(), 413);
    let error: ApiError = response.json().await.unwrap();
    assert!(error.message.contains("1024 KiB"), "{}", error.message);

    assert!(search(&app, &staff, "person").await.pending.is_empty());
    assert!(audit_log(&app, &staff)
        .await
        .iter()
        .all(|entry| entry.action != "staff.legacy_import"));
}

#[tokio::test]
async fn a_full_size_import_applies_every_row_at_once() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let acme = app.create_organization(&owner, "Acme").await;

    let rows: String = (0..stratus_shared::api::staff::IMPORT_MAX_ROWS)
        .map(|n| format!("person{n}@legacy.example,acme,member\r\n"))
        .collect();
    let response = import(&app, &staff, rows).await;
    assert_eq!(response.status(), 200);
    let report: ImportReport = response.json().await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
    assert_eq!(report.pending, 5_000);
    assert_eq!(
        staff_members(&app, &staff, &acme).await.invitations.len(),
        5_000
    );
}
