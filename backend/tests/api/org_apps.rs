//! What the organization apps' tests (Collaboration, Sharing) share: error assertions, staff
//! accounts, and a look at the audit log.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use stratus_backend::domain::audit::{self, Scope};
use stratus_shared::api::audit::AuditEntry;
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::TestApp;

/// Asserts the answer's status and error code; returns the message.
pub async fn assert_error(response: reqwest::Response, status: u16, code: ErrorCode) -> String {
    let url = response.url().to_string();
    assert_eq!(response.status(), status, "{url}");
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, code, "{url}: {}", error.message);
    error.message
}

/// Makes a person platform staff, as `stratus staff add` would.
pub async fn make_staff(app: &TestApp, user_id: &str) {
    use stratus_backend::db::schema::users;
    let user_id = user_id.to_owned();
    app.pool
        .run(move |connection| {
            diesel::update(users::table.find(&user_id))
                .set(users::is_staff.eq(1))
                .execute(connection)?;
            Ok(())
        })
        .await
        .expect("make staff");
}

/// The organization's audit log, newest first.
pub async fn audit_log(app: &TestApp, organization_id: &str) -> Vec<AuditEntry> {
    let organization_id = organization_id.to_owned();
    app.pool
        .run(move |connection| {
            Ok(audit::list(
                connection,
                Scope::Organization(&organization_id),
                100,
            )?)
        })
        .await
        .expect("read the audit log")
}
