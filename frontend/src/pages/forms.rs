//! What the account pages share: where a server error belongs, and mailed-link tokens.

use leptos::prelude::*;
use stratus_shared::ErrorCode;

use crate::api::ApiFailure;

/// Field-level and form-level errors of one form.
#[derive(Clone, Copy)]
pub struct FormErrors {
    pub email: RwSignal<Option<String>>,
    pub password: RwSignal<Option<String>>,
    /// `(is_error, text)` for the whole form.
    pub form: RwSignal<Option<(bool, String)>>,
}

impl FormErrors {
    pub fn new() -> Self {
        Self {
            email: RwSignal::new(None),
            password: RwSignal::new(None),
            form: RwSignal::new(None),
        }
    }

    pub fn clear(&self) {
        self.email.set(None);
        self.password.set(None);
        self.form.set(None);
    }

    /// Puts the server's message next to the field its code is about.
    pub fn show(&self, failure: &ApiFailure) {
        let message = failure.to_string();
        match failure.code() {
            Some(ErrorCode::EmailInvalid) => self.email.set(Some(message)),
            Some(
                ErrorCode::PasswordTooShort
                | ErrorCode::PasswordTooLong
                | ErrorCode::PasswordSameAsEmail
                | ErrorCode::PasswordTooCommon,
            ) => self.password.set(Some(message)),
            _ => self.form.set(Some((true, message))),
        }
    }

    pub fn notice(&self, text: impl Into<String>) {
        self.form.set(Some((false, text.into())));
    }
}

/// The token of a mailed link (`…#token=XYZ`). The fragment is then removed from the address
/// bar and history, so the token does not linger there.
pub fn take_fragment_token() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let hash = location.hash().ok()?;
    let token = hash.strip_prefix("#token=")?.to_owned();
    if let (Ok(history), Ok(path)) = (window.history(), location.pathname()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    (!token.is_empty()).then_some(token)
}

/// Where to go after signing in: the `next` parameter when it is a path of this site.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned())
}
