//! Email addresses, parsed once at the edge: trimmed, lower-cased, plausibly shaped.

use serde::{Deserialize, Serialize};

/// Free-mail providers: addresses there are personal, not corporate. Sign-up explains that
/// customers and partners should use their corporate address (but does not block).
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "zoho.com",
    "tutanota.com",
    "qq.com",
    "163.com",
    "orange.fr",
    "free.fr",
    "telenet.be",
    "skynet.be",
];

/// Why a string is not an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailError {
    Empty,
    TooLong,
    Malformed,
}

impl std::fmt::Display for EmailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EmailError::Empty => "Enter your email address.",
            EmailError::TooLong => "That email address is too long.",
            EmailError::Malformed => "That does not look like an email address (name@example.com).",
        })
    }
}

/// A normalized email address: compare and store this, never the raw input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Trims, lower-cases and checks the shape (one `@`, a dotted domain, no spaces,
    /// at most 254 characters as SMTP allows).
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = email.split_once('@').ok_or(EmailError::Malformed)?;
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && email
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\"\\".contains(c));
        if !well_formed {
            return Err(EmailError::Malformed);
        }
        Ok(Self(email))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Whether the address is at a known free-mail provider rather than a company.
    pub fn is_free_mail(&self) -> bool {
        FREE_MAIL_DOMAINS.contains(&self.domain())
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let email = EmailAddress::parse("  Jane.Doe@Skyline.BE ").unwrap();
        assert_eq!(email.as_str(), "jane.doe@skyline.be");
        assert_eq!(email.domain(), "skyline.be");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "plain",
            "@example.com",
            "a@b",
            "a@.com",
            "a@b.com.",
            "a b@c.com",
            "a@b@c.com",
            "a@b..com",
            "<a@b.com>",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailError::Malformed),
                "{raw}"
            );
        }
        assert_eq!(EmailAddress::parse("   "), Err(EmailError::Empty));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn free_mail_is_recognised_by_domain() {
        assert!(EmailAddress::parse("x@Gmail.com").unwrap().is_free_mail());
        assert!(EmailAddress::parse("x@outlook.com").unwrap().is_free_mail());
        assert!(!EmailAddress::parse("x@skyline.be").unwrap().is_free_mail());
    }
}
