use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_endpoint() {
    let app = spawn_app().await;

    let response = app.get("/api/openapi.json").await;

    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let health = &document["paths"]["/api/health"]["get"];
    assert!(health["responses"]["200"].is_object());
    assert!(health["responses"]["503"].is_object());
    assert!(document["paths"]["/api/openapi.json"]["get"].is_object());
    let schemas = &document["components"]["schemas"];
    for schema in ["HealthReport", "ApiError", "ErrorCode"] {
        assert!(schemas[schema].is_object(), "schema {schema} is missing");
    }
}

/// A NUL character in a query is refused with 400 before any handler runs, on every endpoint,
/// so every operation of the document says so (schemathesis finds it otherwise).
#[tokio::test]
async fn every_operation_documents_the_400_that_a_nul_in_its_query_gets() {
    let app = spawn_app().await;
    let document: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let bad_request = &operation["responses"]["400"];
            assert!(
                bad_request["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|schema| schema.ends_with("/ApiError")),
                "{method} {path} documents no 400 ApiError"
            );
        }
    }
    assert!(operations > 50, "{operations} operations");

    let (_, token) = app.create_verified_user("nul@example.com").await;
    let response = app.get_as(&token, "/api/projects?name=a%00b").await;
    assert_eq!(response.status(), 400);
    let error: stratus_shared::ApiError = response.json().await.expect("an ApiError body");
    assert_eq!(error.code, stratus_shared::ErrorCode::InvalidRequest);
}
