//! Form pieces: a labelled field with its inline error, and a form-level message.

use leptos::prelude::*;

use crate::components::feedback::StatusLine;

/// A labelled input bound to `value`, with the error (if any) under it, tied by
/// `aria-describedby` so screen readers announce it.
#[component]
pub fn Field(
    /// Unique id of the input.
    id: &'static str,
    label: &'static str,
    /// `email`, `password`, `text`…
    kind: &'static str,
    /// Browser autofill hint, e.g. `current-password`.
    autocomplete: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    /// Extra help shown under the field.
    #[prop(optional, into)]
    hint: MaybeProp<String>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = format!("{hint_id} {error_id}");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                required=true
                bind:value=value
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
            />
            <p class="field-hint" id=hint_id>
                {move || hint.get()}
            </p>
            <p class="field-error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A message about the whole form: an error or a notice.
#[component]
pub fn FormMessage(#[prop(into)] message: Signal<Option<(bool, String)>>) -> impl IntoView {
    view! { <StatusLine message test_id="form-message" /> }
}
