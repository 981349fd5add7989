//! [`JsonObject`]: the extractor for every JSON request body, which must be a JSON object.
//!
//! serde's derived `Deserialize` for a struct accepts a JSON array too (fields by position),
//! so `web::Json<UpdateOrganization>` took `["New name"]` as a rename. Every request body of
//! the API is documented as an object; this extractor holds the server to that, for all bodies
//! at once, before any field is read.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::AppError;

/// A request body that is a JSON object, read as `T`. Size limit, content type and the errors
/// for them are those of `web::JsonConfig` (see `routes::configure_extractors`).
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    /// The body read.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonObject<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Well-formed JSON of any kind first (with JsonConfig's limit and errors), then the
        // object check, then the fields.
        let raw = web::Json::<Box<RawValue>>::from_request(request, payload);
        Box::pin(async move {
            let web::Json(raw) = raw.await?;
            read_object(raw.get()).map(JsonObject).map_err(Into::into)
        })
    }
}

/// Reads `text` (well-formed JSON) as `T` if it is a JSON object.
pub fn read_object<T: DeserializeOwned>(text: &str) -> Result<T, AppError> {
    if !text.trim_start().starts_with('{') {
        return Err(AppError::InvalidRequest(format!(
            "The request body must be a JSON object, not {}.",
            kind_of(text)
        )));
    }
    if has_escaped_nul(text) {
        return Err(AppError::InvalidRequest(
            "Text in the request body must not contain the NUL character (\\u0000).".into(),
        ));
    }
    serde_json::from_str(text)
        .map_err(|error| AppError::InvalidRequest(format!("Json deserialize error: {error}")))
}

/// Whether a JSON text holds a NUL character, which PostgreSQL cannot store in text: as
/// `\u0000` that is an escape (an odd number of backslashes before the `u`), not the
/// characters `\\u0000`. Raw NUL bytes are not valid JSON and never get this far.
fn has_escaped_nul(text: &str) -> bool {
    text.match_indices("u0000").any(|(at, _)| {
        let backslashes = text[..at].bytes().rev().take_while(|b| *b == b'\\').count();
        backslashes % 2 == 1
    })
}

fn kind_of(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Rename {
        name: String,
    }

    #[test]
    fn objects_are_read() {
        let read: Rename = read_object(r#" {"name":"Acme"}"#).unwrap();
        assert_eq!(read.name, "Acme");
    }

    #[test]
    fn everything_but_an_object_is_refused_before_its_fields_are_read() {
        for (text, kind) in [
            (r#"["Acme"]"#, "an array"),
            (r#""Acme""#, "a string"),
            ("null", "null"),
            ("true", "a boolean"),
            ("false", "a boolean"),
            ("12", "a number"),
            ("-1.5e3", "a number"),
        ] {
            match read_object::<Rename>(text) {
                Err(AppError::InvalidRequest(message)) => {
                    assert!(message.contains(kind), "{text}: {message}")
                }
                other => panic!("{text} was not refused: {other:?}"),
            }
        }
    }

    #[test]
    fn a_nul_character_anywhere_in_the_text_is_refused() {
        for text in [
            r#"{"name":"a\u0000b"}"#,
            r#"{"name":"\\\u0000"}"#,
            r#"{"other":["\u0000"],"name":"x"}"#,
        ] {
            assert!(read_object::<Rename>(text).is_err(), "{text}");
        }
        // An escaped backslash followed by the letters u0000 is not a NUL.
        let read: Rename = read_object(r#"{"name":"\\u0000"}"#).unwrap();
        assert_eq!(read.name, "\\u0000");
    }

    #[test]
    fn an_object_with_wrong_fields_says_which() {
        match read_object::<Rename>(r#"{"name": 3}"#) {
            Err(AppError::InvalidRequest(message)) => {
                assert!(message.contains("expected a string"), "{message}")
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}
