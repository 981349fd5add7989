//! Accounts for journeys that are not about signing up: made through the API and the mail.

use crate::Server;

/// Signs a new account up and verifies it through the mailed link; returns an access token.
pub async fn sign_up(server: &Server, email: &str, password: &str) -> Result<String, String> {
    let client = reqwest::Client::new();
    let signup = serde_json::json!({ "email": email, "password": password });
    client
        .post(server.url("/api/auth/signup"))
        .json(&signup)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mail = server.mailbox.wait_for_message(email, 1).await?;
    let token = mail
        .link_token("/verify-email")
        .ok_or("no link in the mail")?;
    let grant: serde_json::Value = client
        .post(server.url("/api/auth/verify-email"))
        .json(&serde_json::json!({ "token": token, "password": password }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    grant["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token in {grant}"))
}
