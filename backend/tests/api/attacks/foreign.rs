//! Every endpoint × a foreign organization × every role: people of another organization (its
//! Owner, Admin and Member) and a person of none send every operation the OpenAPI document
//! lists at the victim organization's objects, with a body valid by the document's schema.
//! Each must be refused with 403 or 404 (a JSON error), every list they read must not mention
//! the victim, and afterwards the victim's data is exactly as it was.

use reqwest::Method;
use serde_json::{json, Value};
use stratus_shared::ApiError;

use crate::helpers::{spawn_app, TestApp};

/// The victim organization's objects, by the path parameter that names each.
struct Victim {
    owner: String,
    organization_id: String,
    organization_name: String,
    system_id: String,
    project_id: String,
    task_id: String,
    shared_dashboard_id: String,
    invitation_id: String,
    member_id: String,
    session_id: String,
}

impl Victim {
    fn id_for(&self, parameter: &str) -> &str {
        match parameter {
            "organization_id" => &self.organization_id,
            "system_id" => &self.system_id,
            "project_id" => &self.project_id,
            "task_id" => &self.task_id,
            "shared_dashboard_id" => &self.shared_dashboard_id,
            "invitation_id" => &self.invitation_id,
            "user_id" => &self.member_id,
            "session_id" => &self.session_id,
            // Identities, staff links, providers: none of the victim's are in reach of a path.
            _ => "00000000-0000-0000-0000-000000000000",
        }
    }

    /// What must not appear in anything an outsider reads.
    fn secrets(&self) -> [&str; 6] {
        [
            &self.organization_id,
            &self.organization_name,
            &self.system_id,
            &self.project_id,
            &self.task_id,
            &self.shared_dashboard_id,
        ]
    }
}

async fn victim(app: &TestApp) -> Victim {
    let (_, owner) = app.create_verified_user("owner@victim.example").await;
    let organization_name = "Victim Corp".to_owned();
    let organization_id = app.create_organization(&owner, &organization_name).await;
    let (system_id, _) = app
        .create_system(&owner, &organization_id, "Victim DMS")
        .await;
    let (member_id, _) = app.create_verified_user("member@victim.example").await;
    app.add_member(&organization_id, &member_id, "member").await;
    let created = |path: String, body: Value| {
        let (app, owner) = (app, &owner);
        async move {
            let response = app.post_json(Some(owner), &path, &body).await;
            assert_eq!(response.status(), 201, "{path}");
            let created: Value = response.json().await.expect("JSON");
            created["id"].as_str().expect("an id").to_owned()
        }
    };
    let project_id = created(
        format!("/api/organizations/{organization_id}/projects"),
        json!({ "name": "Victim project" }),
    )
    .await;
    let task_id = created(
        format!("/api/projects/{project_id}/tasks"),
        json!({ "title": "Victim task" }),
    )
    .await;
    let shared_dashboard_id = created(
        format!("/api/organizations/{organization_id}/shared-dashboards"),
        json!({ "name": "Victim board", "system_id": system_id, "shared_with": "Ops" }),
    )
    .await;
    let invitation_id = created(
        format!("/api/organizations/{organization_id}/members"),
        json!({ "email": "newcomer@victim.example", "role": "admin" }),
    )
    .await;
    let sessions: Value = app.read_as(&owner, "/api/me/sessions").await;
    let session_id = sessions
        .as_array()
        .and_then(|sessions| sessions.first())
        .and_then(|session| session["id"].as_str())
        .unwrap_or("00000000-0000-0000-0000-000000000000")
        .to_owned();
    Victim {
        owner,
        organization_id,
        organization_name,
        system_id,
        project_id,
        task_id,
        shared_dashboard_id,
        invitation_id,
        member_id,
        session_id,
    }
}

/// Everything the victim's Owner sees of the organization, to compare before and after.
async fn snapshot(app: &TestApp, victim: &Victim) -> Vec<Value> {
    let organization = &victim.organization_id;
    let mut seen = Vec::new();
    for path in [
        format!("/api/organizations/{organization}"),
        format!("/api/organizations/{organization}/members"),
        format!("/api/organizations/{organization}/projects"),
        format!("/api/organizations/{organization}/shared-dashboards"),
        format!("/api/organizations/{organization}/audit-log?limit=500"),
        format!("/api/systems/{}", victim.system_id),
        format!("/api/systems/{}/users", victim.system_id),
        "/api/me/sessions".to_owned(),
    ] {
        let mut value: Value = app.read_as(&victim.owner, &path).await;
        // Seen-at times move with every request the owner makes.
        if let Some(sessions) = value.as_array_mut() {
            for session in sessions {
                session["last_used_at"] = Value::Null;
            }
        }
        seen.push(json!({ "path": path, "value": value }));
    }
    seen
}

/// The schema `schema` refers to, followed through `$ref`s into the document's components.
fn resolve<'a>(schema: &'a Value, document: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            resolve(&document["components"]["schemas"][name], document)
        }
        None => schema,
    }
}

/// A value valid by `schema`, aimed at the victim where a field names one of its objects.
fn sample(schema: &Value, document: &Value, field: &str, victim: &Victim) -> Value {
    let schema = resolve(schema, document);
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        let choices = schema[combinator].as_array();
        if let Some(choice) = choices.and_then(|choices| {
            choices
                .iter()
                .find(|choice| resolve(choice, document)["type"] != "null")
        }) {
            return sample(choice, document, field, victim);
        }
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|kind| *kind != "null").cloned(),
        kind => Some(kind.clone()),
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("object") => {
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    object.insert(name.clone(), sample(property, document, name, victim));
                }
            }
            Value::Object(object)
        }
        Some("array") => json!([sample(&schema["items"], document, field, victim)]),
        Some("boolean") => json!(false),
        Some("integer" | "number") => json!(1),
        _ => match (field, schema["format"].as_str()) {
            (_, Some("date")) => json!("2026-12-01"),
            (_, Some("date-time")) => json!(chrono::Utc::now().to_rfc3339()),
            ("system_id", _) => json!(victim.system_id),
            ("organization_id", _) => json!(victim.organization_id),
            ("confirm_name", _) => json!(victim.organization_name),
            (field, _) if field.contains("email") => json!("member@victim.example"),
            (field, _) if field.contains("password") => json!("correct horse battery staple"),
            _ => json!("Attack"),
        },
    }
}

/// `template` with every `{parameter}` naming the victim's object; `None` without parameters.
fn aimed_at(template: &str, victim: &Victim) -> Option<String> {
    if !template.contains('{') {
        return None;
    }
    let mut path = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("a closing brace") + start;
        path.push_str(&rest[..start]);
        path.push_str(victim.id_for(&rest[start + 1..end]));
        rest = &rest[end + 1..];
    }
    path.push_str(rest);
    Some(path)
}

/// Streams and sockets never end, and the browser sign-in flows are not aimed at anyone.
fn out_of_scope(template: &str) -> bool {
    ["/api/live", "/api/gateway/", "/api/auth/oidc/"]
        .iter()
        .any(|prefix| template.starts_with(prefix))
}

#[tokio::test]
async fn no_role_of_another_organization_reaches_anything_of_the_victim() {
    let app = spawn_app().await;
    let victim = victim(&app).await;
    let before = snapshot(&app, &victim).await;

    // The attackers: every role of another organization, and a person of none.
    let (_, owner) = app.create_verified_user("owner@attacker.example").await;
    let theirs = app.create_organization(&owner, "Attacker Ltd").await;
    app.create_system(&owner, &theirs, "Attacker DMS").await;
    let mut attackers = vec![("the other organization's owner", owner)];
    for role in ["admin", "member"] {
        let (id, token) = app
            .create_verified_user(&format!("{role}@attacker.example"))
            .await;
        app.add_member(&theirs, &id, role).await;
        let label = if role == "admin" {
            "the other organization's admin"
        } else {
            "the other organization's member"
        };
        attackers.push((label, token));
    }
    let (_, outsider) = app.create_verified_user("nobody@attacker.example").await;
    attackers.push(("a person of no organization", outsider));

    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut failures = Vec::new();
    let (mut aimed, mut lists) = (0, 0);
    for (template, item) in document["paths"].as_object().expect("paths") {
        if out_of_scope(template) {
            continue;
        }
        for (method, operation) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let body = operation["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|schema| sample(&Value::Object(schema.clone()), &document, "", &victim));
            let target = aimed_at(template, &victim);
            if target.is_none() && method != Method::GET {
                continue; // Creates the attacker's own things, aimed at nobody.
            }
            for (role, token) in &attackers {
                let path = target.clone().unwrap_or_else(|| template.clone());
                let what = format!("{method} {path} as {role}");
                let response = app.send(method.clone(), token, &path, body.as_ref()).await;
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                if target.is_some() {
                    aimed += 1;
                    let json_error = serde_json::from_str::<ApiError>(&text).is_ok();
                    if !(status == 403 || status == 404) || !json_error {
                        failures.push(format!("{what}: {status} {text:.200}"));
                    }
                } else {
                    lists += 1;
                    if let Some(secret) = victim.secrets().iter().find(|s| text.contains(*s)) {
                        failures.push(format!("{what}: {status} shows {secret}"));
                    }
                }
            }
        }
    }
    println!("{aimed} requests aimed at the victim's objects, {lists} reads of lists");
    assert!(aimed > 150, "only {aimed} aimed requests");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        snapshot(&app, &victim).await,
        before,
        "the victim's data changed"
    );
}
