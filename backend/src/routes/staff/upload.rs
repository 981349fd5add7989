//! Reading an upload's body under a size limit of its own (the JSON limit is far smaller).

use actix_web::web;
use futures_util::StreamExt;

use crate::error::AppError;

/// How much of a too-large upload is still read (and dropped) before answering, so that the
/// client, still sending, receives the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Reads the request body, refusing more than `limit` bytes with `too_large`.
pub async fn read_limited(
    mut payload: web::Payload,
    limit: usize,
    too_large: impl Fn() -> AppError,
) -> Result<Vec<u8>, AppError> {
    let mut body = Vec::new();
    let mut received = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| AppError::InvalidRequest(error.to_string()))?;
        received = received.saturating_add(chunk.len());
        if received > DRAIN_LIMIT {
            return Err(too_large());
        }
        if received <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    if received > limit {
        return Err(too_large());
    }
    Ok(body)
}
