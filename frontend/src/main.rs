//! Entry point of the Stratus web app: mounts the root component into `<body>`.

mod api;
mod app;
mod changes;
mod components;
mod live;
mod pages;
mod session;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
