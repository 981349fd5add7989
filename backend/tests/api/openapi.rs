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
