//! Malformed and oversized input on every body, path and query the OpenAPI document lists:
//! each gets a JSON error with a stable code and a 4xx status, never a server error, and a
//! refused request changes nothing.

use reqwest::Method;
use serde_json::{json, Value};
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, TestApp};

/// Every operation of the served document: method, path template and the operation itself.
async fn operations(app: &TestApp) -> Vec<(Method, String, Value)> {
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if let Ok(method) = method.to_uppercase().parse::<Method>() {
                found.push((method, path.clone(), operation.clone()));
            }
        }
    }
    assert!(found.len() > 40, "only {} operations listed", found.len());
    found
}

/// A signed-in staff member who owns an organization with a DMS: the path parameters that
/// name them are filled in, so requests reach past "no such organization".
struct Caller {
    token: String,
    organization_id: String,
    system_id: String,
}

async fn caller(app: &TestApp) -> Caller {
    let (_, token) = app.create_staff("staff.malformed@skyline.be").await;
    let organization_id = app.create_organization(&token, "Malformed Inc").await;
    let (system_id, _) = app
        .create_system(&token, &organization_id, "Malformed DMS")
        .await;
    Caller {
        token,
        organization_id,
        system_id,
    }
}

/// `template` with every `{parameter}` filled: the caller's own objects by name, `other` for
/// the rest (or for all, when `everywhere`).
fn fill(template: &str, caller: &Caller, other: &str, everywhere: bool) -> String {
    let mut path = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("a closing brace") + start;
        path.push_str(&rest[..start]);
        let value = match &rest[start + 1..end] {
            _ if everywhere => other,
            "organization_id" => &caller.organization_id,
            "system_id" | "id" => &caller.system_id,
            _ => other,
        };
        path.push_str(value);
        rest = &rest[end + 1..];
    }
    path.push_str(rest);
    path
}

/// Sends `body` as it is, labelled `content_type`, to `path` as the caller.
async fn send_raw(
    app: &TestApp,
    caller: &Caller,
    method: Method,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(&caller.token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("the server answers")
}

fn has_json_body(operation: &Value) -> bool {
    operation["requestBody"]["content"]["application/json"].is_object()
}

/// `Ok` with the error's code when `response` is a JSON error with one of the `allowed`
/// statuses, `Ok(None)` when it is a redirect the operation documents to a page of the portal
/// (the browser sign-in flows answer a browser, not a program); otherwise what came back.
async fn refusal(
    response: reqwest::Response,
    operation: &Value,
    allowed: &[u16],
    what: &str,
) -> Result<Option<ErrorCode>, String> {
    let status = response.status().as_u16();
    if response.status().is_redirection() && operation["responses"][status.to_string()].is_object()
    {
        let location = response
            .headers()
            .get("Location")
            .and_then(|l| l.to_str().ok());
        return match location {
            Some(location) if location.starts_with('/') && !location.starts_with("//") => Ok(None),
            _ => Err(format!("{what}: {status} to {location:?}")),
        };
    }
    let text = response.text().await.unwrap_or_default();
    if !allowed.contains(&status) {
        return Err(format!("{what}: {status} {text:.200}"));
    }
    match serde_json::from_str::<ApiError>(&text) {
        Ok(error) if !error.message.is_empty() => Ok(Some(error.code)),
        _ => Err(format!(
            "{what}: {status} without a JSON error: {text:.200}"
        )),
    }
}

fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_json_body_that_is_not_an_object_is_refused_with_invalid_request() {
    let app = spawn_app().await;
    let caller = caller(&app).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, template, operation) in operations(&app).await {
        if !has_json_body(&operation) {
            continue;
        }
        let path = fill(&template, &caller, &uuid::Uuid::new_v4().to_string(), false);
        for body in ["[]", r#"["x", "y"]"#, r#""text""#, "null", "7", "true"] {
            let response = send_raw(
                &app,
                &caller,
                method.clone(),
                &path,
                "application/json",
                body,
            )
            .await;
            let what = format!("{method} {template} with {body}");
            match refusal(response, &operation, &[400], &what).await {
                Ok(Some(ErrorCode::InvalidRequest)) => {}
                Ok(code) => failures.push(format!("{what}: code {code:?}")),
                Err(failure) => failures.push(failure),
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 6 * 20,
        "only {checked} requests: bodies missing from the document?"
    );
    assert_none(failures);
}

#[tokio::test]
async fn every_json_body_refuses_broken_json_a_wrong_type_and_an_oversized_body() {
    let app = spawn_app().await;
    let caller = caller(&app).await;
    let oversized = format!(r#"{{"name": "{}"}}"#, "x".repeat(65 * 1024));
    let cases: [(&str, Vec<u8>, &[u16]); 7] = [
        (
            "application/json",
            br#"{"name": "a\u0000b"}"#.to_vec(),
            &[400],
        ),
        (
            "application/json",
            br#"{"email": "\u0000@skyline.be", "password": "\u0000"}"#.to_vec(),
            &[400],
        ),
        ("application/json", br#"{"name": "#.to_vec(), &[400]),
        (
            "application/json",
            b"{\"name\": \"\xff\xfe\"}".to_vec(),
            &[400],
        ),
        ("application/json", b"".to_vec(), &[400]),
        ("text/plain", br#"{"name": "x"}"#.to_vec(), &[400, 415]),
        ("application/json", oversized.into_bytes(), &[413]),
    ];
    let mut failures = Vec::new();
    for (method, template, operation) in operations(&app).await {
        if !has_json_body(&operation) {
            continue;
        }
        let path = fill(&template, &caller, &uuid::Uuid::new_v4().to_string(), false);
        for (content_type, body, allowed) in &cases {
            let response = send_raw(
                &app,
                &caller,
                method.clone(),
                &path,
                content_type,
                body.clone(),
            )
            .await;
            let what = format!(
                "{method} {template} with {content_type} {:.40}",
                String::from_utf8_lossy(body)
            );
            if let Err(failure) = refusal(response, &operation, allowed, &what).await {
                failures.push(failure);
            }
        }
    }
    assert_none(failures);
}

#[tokio::test]
async fn every_path_refuses_malformed_and_overlong_parameters_with_a_json_error() {
    let app = spawn_app().await;
    let caller = caller(&app).await;
    let long = "a".repeat(4000);
    let mut failures = Vec::new();
    for (method, template, operation) in operations(&app).await {
        if !template.contains('{') {
            continue;
        }
        for value in [
            "not-an-id",
            "%00",
            "..%2F..%2Fapi",
            "%F0%9F%92%A5",
            long.as_str(),
        ] {
            let path = fill(&template, &caller, value, true);
            let mut request = app
                .client
                .request(method.clone(), format!("{}{path}", app.address))
                .bearer_auth(&caller.token);
            if has_json_body(&operation) {
                request = request.json(&json!({}));
            }
            let response = request.send().await.unwrap();
            let what = format!("{method} {template} with {value:.20}");
            if let Err(failure) = refusal(response, &operation, &[400, 404, 422], &what).await {
                failures.push(failure);
            }
        }
    }
    assert_none(failures);
}

#[tokio::test]
async fn every_query_parameter_refuses_nonsense_with_a_json_error_or_ignores_it() {
    let app = spawn_app().await;
    let caller = caller(&app).await;
    let long = "z".repeat(4000);
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, template, operation) in operations(&app).await {
        let Some(parameters) = operation["parameters"].as_array() else {
            continue;
        };
        let path = fill(&template, &caller, &uuid::Uuid::new_v4().to_string(), false);
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            let name = parameter["name"].as_str().expect("a parameter name");
            for value in ["-1", "1e999", "%FF%FE", "%00", "[]", long.as_str()] {
                let response = app
                    .client
                    .request(
                        method.clone(),
                        format!("{}{path}?{name}={value}", app.address),
                    )
                    .bearer_auth(&caller.token)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let what = format!("{method} {template}?{name}={value:.20}");
                checked += 1;
                // Nonsense may be ignored (a 2xx); otherwise it must be refused as the
                // client's fault, in JSON, or be a documented redirect.
                if status < 300 {
                    continue;
                }
                if let Err(failure) = refusal(response, &operation, &[400, 404, 422], &what).await {
                    failures.push(failure);
                }
            }
        }
    }
    assert!(checked > 0, "no query parameter in the document");
    assert_none(failures);
}

#[tokio::test]
async fn a_rename_sent_as_an_array_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let caller = caller(&app).await;
    let path = format!("/api/organizations/{}", caller.organization_id);

    let response = send_raw(
        &app,
        &caller,
        Method::PATCH,
        &path,
        "application/json",
        r#"["Renamed by position"]"#,
    )
    .await;

    assert_eq!(response.status(), 400);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert!(
        error.message.contains("must be a JSON object"),
        "{}",
        error.message
    );
    let organization: Value = app.read_as(&caller.token, &path).await;
    assert_eq!(organization["name"], "Malformed Inc");
}
