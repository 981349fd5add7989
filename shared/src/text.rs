//! Free text read at the edge: names and titles, trimmed and bounded.

/// Longest name of an organization, a DMS, a project, a dashboard or a DMS user.
pub const NAME_MAX: usize = 100;
/// Longest task title.
pub const TASK_TITLE_MAX: usize = 200;
/// Longest "shared with" text of a shared dashboard (a list of addresses fits).
pub const SHARED_WITH_MAX: usize = 500;

/// Reads free text: trimmed, 1–`max` characters, no control characters; `None` when it is
/// not that.
pub fn parse_text(raw: &str, max: usize) -> Option<&str> {
    let text = raw.trim();
    let length = text.chars().count();
    (length != 0 && length <= max && !text.chars().any(char::is_control)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(parse_text("  Plan  ", 5), Some("Plan"));
        assert_eq!(parse_text("Plans", 5), Some("Plans"));
        assert_eq!(parse_text("Plän", 4), Some("Plän"));
        assert_eq!(parse_text("   ", 5), None);
        assert_eq!(parse_text("abcdef", 5), None);
        assert_eq!(parse_text("a\u{7}b", 5), None);
    }
}
