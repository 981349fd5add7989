//! One typed client for the Stratus API, over gloo-net.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use stratus_shared::api::audit::AuditEntry;
use stratus_shared::api::auth::{
    Account, ChangePasswordRequest, EmailRequest, LoginRequest, Notice, ResetPasswordRequest,
    SessionGrant, SessionSummary, SignupRequest, VerifyEmailRequest, CLIENT_HEADER,
};
use stratus_shared::api::catalog::CatalogItem;
use stratus_shared::api::collaboration::{
    CreateProject, CreateTask, OrganizationProjects, Project, Task, UpdateProject, UpdateTask,
};
use stratus_shared::api::health::HealthReport;
use stratus_shared::api::members::{AddMember, Added, ChangeRole, Member, Members};
use stratus_shared::api::oidc::{LinkIdentityRequest, LinkedIdentity, ProviderSummary};
use stratus_shared::api::organizations::{
    ConnectCode, CreateOrganization, CreateSystem, CreatedSystem, DeleteOrganization,
    LinkDmsAccount, Organization, Role, SetSystemRole, System, SystemDetail, SystemSettings,
    SystemUser, UpdateOrganization,
};
use stratus_shared::api::sharing::{OrganizationSharedDashboards, ShareDashboard, SharedDashboard};
use stratus_shared::api::staff::{
    AccountSearchResult, CreateLink, CreateStaffOrganization, CreatedStaffOrganization,
    ImportReport, Linked, OrganizationSearchResult,
};
use stratus_shared::{ApiError, ErrorCode};

/// Why an API call gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// The server could not be reached at all (offline, server down, blocked).
    Unreachable,
    /// The server answered with an error body.
    Rejected { status: u16, error: ApiError },
    /// The server answered something this client cannot read.
    Unexpected { status: u16 },
}

impl ApiFailure {
    /// The stable error code, when the server gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiFailure::Rejected { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Unreachable => f.write_str("The Stratus server cannot be reached."),
            ApiFailure::Rejected { error, .. } => f.write_str(&error.message),
            ApiFailure::Unexpected { status } => {
                write!(f, "The server gave an unexpected answer (HTTP {status}).")
            }
        }
    }
}

fn with_token(builder: RequestBuilder, access_token: Option<&str>) -> RequestBuilder {
    let builder = builder.header("Accept", "application/json");
    match access_token {
        Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
        None => builder,
    }
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    let status = response.status();
    if response.ok() {
        response
            .json::<T>()
            .await
            .map_err(|_| ApiFailure::Unexpected { status })
    } else {
        Err(rejection(response).await)
    }
}

async fn rejection(response: Response) -> ApiFailure {
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(error) => ApiFailure::Rejected { status, error },
        Err(_) => ApiFailure::Unexpected { status },
    }
}

async fn expect_empty(response: Response) -> Result<(), ApiFailure> {
    if response.ok() {
        Ok(())
    } else {
        Err(rejection(response).await)
    }
}

/// Sends a request without a body.
async fn send(request: RequestBuilder) -> Result<Response, ApiFailure> {
    request.send().await.map_err(|_| ApiFailure::Unreachable)
}

/// Sends `body` as JSON with the request (token already attached).
async fn send_json<B: Serialize>(
    request: RequestBuilder,
    body: &B,
) -> Result<Response, ApiFailure> {
    request
        .json(body)
        .map_err(|_| ApiFailure::Unexpected { status: 0 })?
        .send()
        .await
        .map_err(|_| ApiFailure::Unreachable)
}

async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    access_token: Option<&str>,
) -> Result<T, ApiFailure> {
    read(send_json(with_token(Request::post(path), access_token), body).await?).await
}

async fn patch<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    access_token: &str,
) -> Result<T, ApiFailure> {
    read(send_json(with_token(Request::patch(path), Some(access_token)), body).await?).await
}

async fn put<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    access_token: &str,
) -> Result<T, ApiFailure> {
    read(send_json(with_token(Request::put(path), Some(access_token)), body).await?).await
}

async fn get<T: DeserializeOwned>(path: &str, access_token: Option<&str>) -> Result<T, ApiFailure> {
    read(send(with_token(Request::get(path), access_token)).await?).await
}

/// DELETE that answers 204 No Content.
async fn delete(path: &str, access_token: &str) -> Result<(), ApiFailure> {
    expect_empty(send(with_token(Request::delete(path), Some(access_token))).await?).await
}

/// Where a member of an organization is changed: by its own people (`prefix` `/api`) or by
/// staff (`/api/staff`).
fn member_path(prefix: &str, organization_id: &str, user_id: &str) -> String {
    format!("{prefix}/organizations/{organization_id}/members/{user_id}")
}

/// `GET /api/health`. A 503 still carries a report (database unreachable), so it is read too.
pub async fn health() -> Result<HealthReport, ApiFailure> {
    let response = send(Request::get("/api/health").header("Accept", "application/json")).await?;
    let status = response.status();
    match response.json::<HealthReport>().await {
        Ok(report) => Ok(report),
        Err(_) if status == 200 || status == 503 => Err(ApiFailure::Unexpected { status }),
        // A proxy's error page when the backend is down: the API is not reachable.
        Err(_) => Err(ApiFailure::Unreachable),
    }
}

pub async fn signup(email: String, password: String) -> Result<Notice, ApiFailure> {
    post("/api/auth/signup", &SignupRequest { email, password }, None).await
}

pub async fn login(email: String, password: String) -> Result<SessionGrant, ApiFailure> {
    post("/api/auth/login", &LoginRequest { email, password }, None).await
}

pub async fn verify_email(token: String, password: String) -> Result<SessionGrant, ApiFailure> {
    post(
        "/api/auth/verify-email",
        &VerifyEmailRequest { token, password },
        None,
    )
    .await
}

pub async fn resend_verification(email: String) -> Result<Notice, ApiFailure> {
    post(
        "/api/auth/resend-verification",
        &EmailRequest { email },
        None,
    )
    .await
}

pub async fn forgot_password(email: String) -> Result<Notice, ApiFailure> {
    post("/api/auth/forgot-password", &EmailRequest { email }, None).await
}

pub async fn reset_password(token: String, password: String) -> Result<Notice, ApiFailure> {
    post(
        "/api/auth/reset-password",
        &ResetPasswordRequest { token, password },
        None,
    )
    .await
}

/// Exchanges the HttpOnly refresh cookie for a new session grant.
pub async fn refresh() -> Result<SessionGrant, ApiFailure> {
    let request = Request::post("/api/auth/refresh")
        .header(CLIENT_HEADER, "web")
        .header("Accept", "application/json");
    read(send(request).await?).await
}

/// Ends this browser's session and removes the refresh cookie.
pub async fn logout() -> Result<(), ApiFailure> {
    expect_empty(send(Request::post("/api/auth/logout").header(CLIENT_HEADER, "web")).await?).await
}

pub async fn me(access_token: &str) -> Result<Account, ApiFailure> {
    get("/api/me", Some(access_token)).await
}

pub async fn sessions(access_token: &str) -> Result<Vec<SessionSummary>, ApiFailure> {
    get("/api/me/sessions", Some(access_token)).await
}

pub async fn change_password(
    access_token: &str,
    current_password: String,
    new_password: String,
) -> Result<(), ApiFailure> {
    let request = with_token(Request::post("/api/me/password"), Some(access_token));
    let body = ChangePasswordRequest {
        current_password,
        new_password,
    };
    expect_empty(send_json(request, &body).await?).await
}

pub async fn sign_out_everywhere(access_token: &str) -> Result<(), ApiFailure> {
    let request = with_token(
        Request::post("/api/me/sessions/revoke-all"),
        Some(access_token),
    );
    expect_empty(send(request).await?).await
}

pub async fn organizations(access_token: &str) -> Result<Vec<Organization>, ApiFailure> {
    get("/api/organizations", Some(access_token)).await
}

pub async fn create_organization(
    access_token: &str,
    name: String,
) -> Result<Organization, ApiFailure> {
    post(
        "/api/organizations",
        &CreateOrganization { name },
        Some(access_token),
    )
    .await
}

pub async fn systems(access_token: &str) -> Result<Vec<System>, ApiFailure> {
    get("/api/systems", Some(access_token)).await
}

pub async fn system_detail(
    access_token: &str,
    system_id: &str,
) -> Result<SystemDetail, ApiFailure> {
    get(&format!("/api/systems/{system_id}"), Some(access_token)).await
}

pub async fn create_system(
    access_token: &str,
    organization_id: &str,
    name: String,
) -> Result<CreatedSystem, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/systems"),
        &CreateSystem { name },
        Some(access_token),
    )
    .await
}

pub async fn new_connect_code(
    access_token: &str,
    system_id: &str,
) -> Result<ConnectCode, ApiFailure> {
    post(
        &format!("/api/systems/{system_id}/connect-codes"),
        &serde_json::json!({}),
        Some(access_token),
    )
    .await
}

pub async fn rename_system(
    access_token: &str,
    system_id: &str,
    name: String,
) -> Result<System, ApiFailure> {
    patch(
        &format!("/api/systems/{system_id}"),
        &CreateSystem { name },
        access_token,
    )
    .await
}

pub async fn remove_system(access_token: &str, system_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/systems/{system_id}"), access_token).await
}

pub async fn members(access_token: &str, organization_id: &str) -> Result<Members, ApiFailure> {
    get(
        &format!("/api/organizations/{organization_id}/members"),
        Some(access_token),
    )
    .await
}

pub async fn add_member(
    access_token: &str,
    organization_id: &str,
    email: String,
    role: Role,
) -> Result<Added, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/members"),
        &AddMember { email, role },
        Some(access_token),
    )
    .await
}

pub async fn change_role(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Member, ApiFailure> {
    patch(
        &member_path("/api", organization_id, user_id),
        &ChangeRole { role },
        access_token,
    )
    .await
}

pub async fn remove_member(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
) -> Result<(), ApiFailure> {
    delete(&member_path("/api", organization_id, user_id), access_token).await
}

pub async fn withdraw_invitation(
    access_token: &str,
    organization_id: &str,
    invitation_id: &str,
) -> Result<(), ApiFailure> {
    delete(
        &format!("/api/organizations/{organization_id}/invitations/{invitation_id}"),
        access_token,
    )
    .await
}

pub async fn organization(
    access_token: &str,
    organization_id: &str,
) -> Result<Organization, ApiFailure> {
    get(
        &format!("/api/organizations/{organization_id}"),
        Some(access_token),
    )
    .await
}

pub async fn update_organization(
    access_token: &str,
    organization_id: &str,
    update: &UpdateOrganization,
) -> Result<Organization, ApiFailure> {
    patch(
        &format!("/api/organizations/{organization_id}"),
        update,
        access_token,
    )
    .await
}

pub async fn delete_organization(
    access_token: &str,
    organization_id: &str,
    confirm_name: String,
) -> Result<(), ApiFailure> {
    let request = with_token(
        Request::delete(&format!("/api/organizations/{organization_id}")),
        Some(access_token),
    );
    expect_empty(send_json(request, &DeleteOrganization { confirm_name }).await?).await
}

pub async fn organization_audit_log(
    access_token: &str,
    organization_id: &str,
) -> Result<Vec<AuditEntry>, ApiFailure> {
    get(
        &format!("/api/organizations/{organization_id}/audit-log"),
        Some(access_token),
    )
    .await
}

pub async fn system_users(
    access_token: &str,
    system_id: &str,
) -> Result<Vec<SystemUser>, ApiFailure> {
    get(
        &format!("/api/systems/{system_id}/users"),
        Some(access_token),
    )
    .await
}

/// Gives a DMS-level role (`Some`) or takes it away (`None`).
pub async fn set_system_role(
    access_token: &str,
    system_id: &str,
    user_id: &str,
    role: Option<Role>,
) -> Result<SystemUser, ApiFailure> {
    let path = format!("/api/systems/{system_id}/users/{user_id}");
    match role {
        Some(role) => put(&path, &SetSystemRole { role }, access_token).await,
        // Taking the role away answers the person as they are now, so the answer is read.
        None => read(send(with_token(Request::delete(&path), Some(access_token))).await?).await,
    }
}

pub async fn update_system_settings(
    access_token: &str,
    system_id: &str,
    settings: SystemSettings,
) -> Result<SystemSettings, ApiFailure> {
    patch(
        &format!("/api/systems/{system_id}/settings"),
        &settings,
        access_token,
    )
    .await
}

pub async fn link_my_dms_account(
    access_token: &str,
    system_id: &str,
    dms_username: String,
) -> Result<LinkDmsAccount, ApiFailure> {
    put(
        &format!("/api/systems/{system_id}/my-account"),
        &LinkDmsAccount { dms_username },
        access_token,
    )
    .await
}

pub async fn unlink_my_dms_account(access_token: &str, system_id: &str) -> Result<(), ApiFailure> {
    delete(
        &format!("/api/systems/{system_id}/my-account"),
        access_token,
    )
    .await
}

/// The identity providers shown on the sign-in page.
pub async fn providers() -> Result<Vec<ProviderSummary>, ApiFailure> {
    get("/api/auth/providers", None).await
}

/// The providers linked to the signed-in account.
pub async fn identities(access_token: &str) -> Result<Vec<LinkedIdentity>, ApiFailure> {
    get("/api/me/identities", Some(access_token)).await
}

/// Unlinks one provider (refused when it is the last way in).
pub async fn unlink_identity(access_token: &str, identity_id: &str) -> Result<(), ApiFailure> {
    let path = format!(
        "/api/me/identities/{}",
        js_sys::encode_uri_component(identity_id)
    );
    delete(&path, access_token).await
}

/// Links a provider with the mailed link's token (in the browser that signed in there).
pub async fn link_identity(token: String) -> Result<SessionGrant, ApiFailure> {
    post(
        "/api/auth/link-identity",
        &LinkIdentityRequest { token },
        None,
    )
    .await
}

/// The projects of all my organizations, grouped by organization (empty for a guest); with
/// `every_organization` (platform staff only), of every organization.
pub async fn my_projects(
    access_token: &str,
    every_organization: bool,
) -> Result<Vec<OrganizationProjects>, ApiFailure> {
    let path = if every_organization {
        "/api/projects?every_organization=true"
    } else {
        "/api/projects"
    };
    get(path, Some(access_token)).await
}

pub async fn create_project(
    access_token: &str,
    organization_id: &str,
    project: &CreateProject,
) -> Result<Project, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/projects"),
        project,
        Some(access_token),
    )
    .await
}

pub async fn update_project(
    access_token: &str,
    project_id: &str,
    change: &UpdateProject,
) -> Result<Project, ApiFailure> {
    patch(&format!("/api/projects/{project_id}"), change, access_token).await
}

pub async fn delete_project(access_token: &str, project_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/projects/{project_id}"), access_token).await
}

pub async fn create_task(
    access_token: &str,
    project_id: &str,
    task: &CreateTask,
) -> Result<Task, ApiFailure> {
    post(
        &format!("/api/projects/{project_id}/tasks"),
        task,
        Some(access_token),
    )
    .await
}

pub async fn update_task(
    access_token: &str,
    task_id: &str,
    change: &UpdateTask,
) -> Result<Task, ApiFailure> {
    patch(&format!("/api/tasks/{task_id}"), change, access_token).await
}

pub async fn delete_task(access_token: &str, task_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/tasks/{task_id}"), access_token).await
}

/// The shared dashboards of all my organizations, grouped by organization.
pub async fn my_shared_dashboards(
    access_token: &str,
) -> Result<Vec<OrganizationSharedDashboards>, ApiFailure> {
    get("/api/shared-dashboards", Some(access_token)).await
}

pub async fn share_dashboard(
    access_token: &str,
    organization_id: &str,
    dashboard: &ShareDashboard,
) -> Result<SharedDashboard, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/shared-dashboards"),
        dashboard,
        Some(access_token),
    )
    .await
}

pub async fn unshare_dashboard(access_token: &str, dashboard_id: &str) -> Result<(), ApiFailure> {
    delete(
        &format!("/api/shared-dashboards/{dashboard_id}"),
        access_token,
    )
    .await
}

/// The public catalog, searched and filtered (empty strings mean no search, any category).
pub async fn catalog(search: &str, category: &str) -> Result<Vec<CatalogItem>, ApiFailure> {
    let path = format!(
        "/api/catalog?search={}&category={}",
        js_sys::encode_uri_component(search),
        js_sys::encode_uri_component(category)
    );
    get(&path, None).await
}

/// The catalog's categories, sorted.
pub async fn catalog_categories() -> Result<Vec<String>, ApiFailure> {
    get("/api/catalog/categories", None).await
}

/// Staff console: accounts (and pending links) whose email contains `q`.
pub async fn staff_accounts(
    access_token: &str,
    q: &str,
) -> Result<AccountSearchResult, ApiFailure> {
    let path = format!("/api/staff/accounts?q={}", js_sys::encode_uri_component(q));
    get(&path, Some(access_token)).await
}

/// Staff console: every organization, with member counts.
pub async fn staff_organizations(
    access_token: &str,
) -> Result<OrganizationSearchResult, ApiFailure> {
    get("/api/staff/organizations", Some(access_token)).await
}

/// Staff console: a new organization with its first Owner.
pub async fn staff_create_organization(
    access_token: &str,
    name: String,
    owner_email: String,
) -> Result<CreatedStaffOrganization, ApiFailure> {
    post(
        "/api/staff/organizations",
        &CreateStaffOrganization { name, owner_email },
        Some(access_token),
    )
    .await
}

/// Staff console: link an account or an address to an organization.
pub async fn staff_link(
    access_token: &str,
    email: String,
    organization_id: String,
    role: Role,
) -> Result<Linked, ApiFailure> {
    post(
        "/api/staff/links",
        &CreateLink {
            email,
            organization_id,
            role,
        },
        Some(access_token),
    )
    .await
}

/// Staff console: change an account's role in an organization.
pub async fn staff_change_role(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Member, ApiFailure> {
    patch(
        &member_path("/api/staff", organization_id, user_id),
        &ChangeRole { role },
        access_token,
    )
    .await
}

/// Staff console: remove an account from an organization.
pub async fn staff_unlink(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
) -> Result<(), ApiFailure> {
    delete(
        &member_path("/api/staff", organization_id, user_id),
        access_token,
    )
    .await
}

/// Staff console: remove a pending link.
pub async fn staff_remove_pending_link(
    access_token: &str,
    link_id: &str,
) -> Result<(), ApiFailure> {
    delete(&format!("/api/staff/pending-links/{link_id}"), access_token).await
}

/// Staff console: import legacy accounts from CSV text.
pub async fn staff_legacy_import(
    access_token: &str,
    csv: String,
) -> Result<ImportReport, ApiFailure> {
    let request = with_token(
        Request::post("/api/staff/legacy-import"),
        Some(access_token),
    )
    .header("Content-Type", "text/csv; charset=utf-8")
    .body(csv)
    .map_err(|_| ApiFailure::Unexpected { status: 0 })?;
    read(request.send().await.map_err(|_| ApiFailure::Unreachable)?).await
}

/// Staff console: the log of staff actions, newest first.
pub async fn staff_audit(access_token: &str) -> Result<Vec<AuditEntry>, ApiFailure> {
    get("/api/staff/audit", Some(access_token)).await
}
