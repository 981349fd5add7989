//! Free text read at the edge: names and titles, trimmed and bounded (by
//! `stratus_shared::text`, which the fuzz targets also call), refused in the API's words.

pub use stratus_shared::text::NAME_MAX;

use crate::error::AppError;

/// Reads free text: trimmed, 1–`max` characters, no control characters. `what` names it in
/// the refusal ("DMS name", "task title").
pub fn parse_text(raw: &str, what: &str, max: usize) -> Result<String, AppError> {
    stratus_shared::text::parse_text(raw, max)
        .map(str::to_owned)
        .ok_or_else(|| {
            AppError::InvalidRequest(format!(
                "The {what} must be 1 to {max} characters, without control characters."
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(parse_text("  Plan  ", "title", 5).unwrap(), "Plan");
        assert_eq!(parse_text("Plans", "title", 5).unwrap(), "Plans");
        assert!(parse_text("   ", "title", 5).is_err());
        assert!(parse_text("abcdef", "title", 5).is_err());
        assert!(parse_text("a\u{7}b", "title", 5).is_err());
    }

    #[test]
    fn the_refusal_names_the_field_and_its_limit() {
        let Err(AppError::InvalidRequest(message)) = parse_text("", "DMS name", NAME_MAX) else {
            panic!("an empty name must be refused");
        };
        assert_eq!(
            message,
            "The DMS name must be 1 to 100 characters, without control characters."
        );
    }
}
