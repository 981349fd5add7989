//! The request helpers every feature module uses: JSON in and out, the bearer token, and
//! error bodies read into `ApiFailure`.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use stratus_shared::ApiError;

use super::ApiFailure;

/// Asks for JSON, with the access token when there is one.
pub fn with_token(builder: RequestBuilder, access_token: Option<&str>) -> RequestBuilder {
    let builder = builder.header("Accept", "application/json");
    match access_token {
        Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
        None => builder,
    }
}

/// `path` asking for the page that follows `cursor` (sent as the query parameter `name`, e.g.
/// an audit log's `before`), or for the first page.
pub fn page_path(path: &str, name: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(cursor) => format!("{path}?{name}={}", js_sys::encode_uri_component(cursor)),
        None => path.to_owned(),
    }
}

/// Reads a success body as `T`, or the error body.
pub async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
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

/// Accepts an empty success (204 No Content), or reads the error body.
pub async fn expect_empty(response: Response) -> Result<(), ApiFailure> {
    if response.ok() {
        Ok(())
    } else {
        Err(rejection(response).await)
    }
}

/// Sends a request without a body.
pub async fn send(request: RequestBuilder) -> Result<Response, ApiFailure> {
    request.send().await.map_err(|_| ApiFailure::Unreachable)
}

/// Sends `body` as JSON with the request (token already attached).
pub async fn send_json<B: Serialize>(
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

/// Sends `body` as plain text of the given content type (token already attached).
pub async fn send_text(
    request: RequestBuilder,
    content_type: &str,
    body: String,
) -> Result<Response, ApiFailure> {
    request
        .header("Content-Type", content_type)
        .body(body)
        .map_err(|_| ApiFailure::Unexpected { status: 0 })?
        .send()
        .await
        .map_err(|_| ApiFailure::Unreachable)
}

pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    access_token: Option<&str>,
) -> Result<T, ApiFailure> {
    read(send_json(with_token(Request::post(path), access_token), body).await?).await
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    access_token: &str,
) -> Result<T, ApiFailure> {
    read(send_json(with_token(Request::patch(path), Some(access_token)), body).await?).await
}

pub async fn put<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    access_token: &str,
) -> Result<T, ApiFailure> {
    read(send_json(with_token(Request::put(path), Some(access_token)), body).await?).await
}

pub async fn get<T: DeserializeOwned>(
    path: &str,
    access_token: Option<&str>,
) -> Result<T, ApiFailure> {
    read(send(with_token(Request::get(path), access_token)).await?).await
}

/// DELETE that answers 204 No Content.
pub async fn delete(path: &str, access_token: &str) -> Result<(), ApiFailure> {
    expect_empty(send(with_token(Request::delete(path), Some(access_token))).await?).await
}

/// Where a member of an organization is changed: by its own people (`prefix` `/api`) or by
/// staff (`/api/staff`).
pub fn member_path(prefix: &str, organization_id: &str, user_id: &str) -> String {
    format!("{prefix}/organizations/{organization_id}/members/{user_id}")
}
