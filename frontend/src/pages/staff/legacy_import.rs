//! Staff console › Legacy import: accounts and their organizations from a CSV file or pasted
//! rows, with a report of what was applied and which lines were refused.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::staff::ImportReport;
use wasm_bindgen::JsCast;

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::notice;

/// Reads the chosen file's text into `csv` (in the browser; nothing is sent yet).
fn read_chosen_file(event: leptos::ev::Event, csv: RwSignal<String>, console: Changes) {
    let Some(file) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
    else {
        return;
    };
    spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => csv.set(text.as_string().unwrap_or_default()),
            Err(_) => console
                .message
                .set(Some((true, "That file cannot be read.".into()))),
        }
    });
}

#[component]
pub fn LegacyImport(console: Changes) -> impl IntoView {
    let csv = RwSignal::new(String::new());
    let report = RwSignal::new(None::<ImportReport>);
    let import = console.action(
        |token, csv: String| async move { api::staff::legacy_import(&token, csv).await },
        move |answer: ImportReport| {
            let text = format!(
                "Legacy import: {} rows applied, {} lines refused.",
                answer.applied,
                answer.errors.len()
            );
            report.set(Some(answer));
            notice(text)
        },
    );
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        // The report of an earlier import is not this one's.
        report.set(None);
        import.dispatch(csv.get_untracked());
    };
    view! {
        <section aria-labelledby="staff-import-title">
            <h2 id="staff-import-title">"Legacy import"</h2>
            <p class="muted">
                "CSV with the columns email, organization (slug or exact name), role (owner, admin or member); a header row is optional. "
                "Verified accounts are linked at once, other addresses once they are verified (no mail is sent). At most 1 MiB and 5,000 rows."
            </p>
            <form on:submit=submit>
                <label for="staff-import-file">"CSV file"</label>
                <input
                    id="staff-import-file"
                    type="file"
                    accept=".csv,text/csv,text/plain"
                    on:change=move |event| read_chosen_file(event, csv, console)
                />
                <label for="staff-import-text">"or paste the rows"</label>
                <textarea id="staff-import-text" rows="6" bind:value=csv></textarea>
                <button type="submit" class="button">"Import"</button>
            </form>
            {move || report.get().map(|answer| view! { <ImportOutcome answer /> })}
        </section>
    }
}

#[component]
fn ImportOutcome(answer: ImportReport) -> impl IntoView {
    let any_refused = !answer.errors.is_empty();
    view! {
        <div data-testid="staff-import-report">
            <p>
                {format!(
                    "Applied {} rows: {} linked now, {} pending until verified, {} already linked.",
                    answer.applied,
                    answer.linked_now,
                    answer.pending,
                    answer.already_linked,
                )}
            </p>
            <Show when=move || any_refused>
                <p>"Refused lines (nothing of them was applied):"</p>
            </Show>
            <ul class="import-errors">
                {answer
                    .errors
                    .into_iter()
                    .map(|error| view! { <li>{format!("Line {}: {}", error.line, error.reason)}</li> })
                    .collect_view()}
            </ul>
        </div>
    }
}
