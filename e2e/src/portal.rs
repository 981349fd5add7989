//! Arranging a journey's data through the portal's API, as a signed-in user would.

use crate::Server;

/// POSTs `body` to `path` as `token`'s owner; the JSON answer (`null` for 204), or why not.
pub async fn post(
    server: &Server,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let response = reqwest::Client::new()
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    if !response.status().is_success() {
        return Err(format!("POST {path} answered {}", response.status()));
    }
    if response.status() == reqwest::StatusCode::NO_CONTENT {
        return Ok(serde_json::Value::Null);
    }
    response.json().await.map_err(|error| error.to_string())
}

/// Creates an organization (the user becomes its Owner); returns its id.
pub async fn create_organization(
    server: &Server,
    token: &str,
    name: &str,
) -> Result<String, String> {
    let organization = post(
        server,
        token,
        "/api/organizations",
        serde_json::json!({ "name": name }),
    )
    .await?;
    organization["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {organization}"))
}

/// Registers a DMS in the organization; returns its connect code.
pub async fn register_dms(
    server: &Server,
    token: &str,
    organization_id: &str,
    name: &str,
) -> Result<String, String> {
    let created = post(
        server,
        token,
        &format!("/api/organizations/{organization_id}/systems"),
        serde_json::json!({ "name": name }),
    )
    .await?;
    created["connect_code"]["code"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no connect code in {created}"))
}

/// Creates a Collaboration project in the organization (as an Owner or Admin); returns its id.
pub async fn create_project(
    server: &Server,
    token: &str,
    organization_id: &str,
    name: &str,
) -> Result<String, String> {
    let project = post(
        server,
        token,
        &format!("/api/organizations/{organization_id}/projects"),
        serde_json::json!({ "name": name, "status": "active" }),
    )
    .await?;
    project["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {project}"))
}

/// Makes a person a member the way people do: `token`'s owner invites `email` with `role`
/// (`owner`, `admin`, `member`), and the person (`member_token`, signed in with that verified
/// address) accepts.
pub async fn add_member(
    server: &Server,
    token: &str,
    organization_id: &str,
    email: &str,
    role: &str,
    member_token: &str,
) -> Result<(), String> {
    let invitation = post(
        server,
        token,
        &format!("/api/organizations/{organization_id}/members"),
        serde_json::json!({ "email": email, "role": role }),
    )
    .await?;
    let invitation_id = invitation["id"]
        .as_str()
        .ok_or_else(|| format!("no invitation id in {invitation}"))?;
    post(
        server,
        member_token,
        &format!("/api/me/invitations/{invitation_id}/accept"),
        serde_json::json!({}),
    )
    .await
    .map(|_| ())
}

/// Registers `count` DMSs ("DMS 0000", "DMS 0001", …) in the organization and connects the
/// first through a real gateway that reports its DMS responding; returns that gateway (the
/// DMS stays connected while it lives).
pub async fn register_dmss_and_connect_first(
    server: &Server,
    token: &str,
    organization_id: &str,
    count: usize,
) -> Result<crate::gateway::Gateway, String> {
    let mut first_code = None;
    for index in 0..count {
        let code = register_dms(server, token, organization_id, &format!("DMS {index:04}")).await?;
        first_code.get_or_insert(code);
    }
    let first_code = first_code.ok_or("no DMS to connect: the count is 0")?;
    let mut gateway = crate::gateway::Gateway::connect(&server.base_url, &first_code).await?;
    gateway.open().await?;
    gateway.heartbeat(true).await?;
    Ok(gateway)
}
