//! Password rules per NIST SP 800-63B: length only (10 to 128 characters), no composition
//! rules, not the email address, not one of the most common passwords.

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most characters a password may have (argon2 is happy with more; this bounds the work).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords of 10+ characters that lead breached-password lists: refused outright.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "0123456789",
    "1234567890a",
    "123456789a",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "qwertyuiop",
    "qwertyuiop1",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "asdfghjkl1",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "zxcvbnm123",
    "password12",
    "password123",
    "password1234",
    "password12345",
    "passw0rd123",
    "p@ssw0rd123",
    "iloveyou12",
    "iloveyou123",
    "abcdefghij",
    "abcd123456",
    "abc1234567",
    "a123456789",
    "1111111111",
    "0000000000",
    "9876543210",
    "aaaaaaaaaa",
    "letmein123",
    "welcome123",
    "welcome1234",
    "changeme123",
    "administrator",
    "admin12345",
    "admin123456",
    "football123",
    "baseball123",
    "princess123",
    "sunshine123",
    "superman123",
    "starwars123",
    "monkey12345",
    "dragon12345",
    "trustno1234",
    "qazwsxedcrfv",
    "1qazxsw23edc",
    "q1w2e3r4t5",
    "q1w2e3r4t5y6",
    "myspace123",
    "computer123",
    "internet123",
    "michael123",
    "jennifer123",
    "whatever123",
    "dataminer123",
    "skyline123",
];

/// Why a new password is refused; each maps to a stable API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
    SameAsEmail,
    TooCommon,
}

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordError::TooShort => write!(
                f,
                "Use at least {MIN_PASSWORD_CHARS} characters. A few words strung together work well."
            ),
            PasswordError::TooLong => {
                write!(f, "Use at most {MAX_PASSWORD_CHARS} characters.")
            }
            PasswordError::SameAsEmail => f.write_str("Your password cannot be your email address."),
            PasswordError::TooCommon => {
                f.write_str("That password is one of the most common ones. Choose another.")
            }
        }
    }
}

/// A password that passed the rules; only this type can be hashed for an account.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks `raw` for the account `email` (already normalized).
    pub fn parse(raw: &str, email: &str) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let lowered = raw.trim().to_lowercase();
        if lowered == email.trim().to_lowercase() {
            return Err(PasswordError::SameAsEmail);
        }
        if COMMON_PASSWORDS.contains(&lowered.as_str()) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(
            NewPassword::parse("ééééééééé", "a@b.com"),
            Err(PasswordError::TooShort)
        );
        assert!(NewPassword::parse("éééééééééé", "a@b.com").is_ok());
        assert!(NewPassword::parse(&"x".repeat(128), "a@b.com").is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), "a@b.com"),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn no_composition_rules_apply() {
        assert!(NewPassword::parse("correct horse battery staple", "a@b.com").is_ok());
        assert!(NewPassword::parse("alllowercaseletters", "a@b.com").is_ok());
    }

    #[test]
    fn the_email_and_common_passwords_are_refused() {
        assert_eq!(
            NewPassword::parse("Jane.Doe@Skyline.be", "jane.doe@skyline.be"),
            Err(PasswordError::SameAsEmail)
        );
        assert_eq!(
            NewPassword::parse("Password123", "a@b.com"),
            Err(PasswordError::TooCommon)
        );
        assert!(COMMON_PASSWORDS
            .iter()
            .all(|p| p.chars().count() >= MIN_PASSWORD_CHARS));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = NewPassword::parse("correct horse battery", "a@b.com").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
