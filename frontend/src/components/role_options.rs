//! The roles of an organization as the options of a `<select>`, in the product's order.

use leptos::prelude::*;
use stratus_shared::api::organizations::Role;

/// Every role, most rights first.
pub const ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

/// One `<option>` per role (value `owner`, `admin`, `member`), `selected` chosen.
pub fn role_options(selected: Option<Role>) -> impl IntoView {
    ROLES
        .map(|role| {
            view! {
                <option value=role.as_str() selected=Some(role) == selected>
                    {role.label()}
                </option>
            }
        })
        .collect_view()
}
