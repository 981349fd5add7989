//! Instants shown in the browser's own time zone and format.

/// The exact local date and time of a UTC instant, as the browser formats it.
pub fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}
