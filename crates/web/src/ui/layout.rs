//! What the base layout (`templates/base.html`) needs on every page: who is logged in, the
//! CSRF token for forms and htmx, the navigation with the current page marked.

use super::session::Session;

/// The navigation: (key, label, href, needs a global role). Only pages that exist are listed,
/// and only those the user may open.
const NAV: [(&str, &str, &str, bool); 7] = [
    ("dashboard", "Dashboard", "/", false),
    ("findings", "Findings", "/findings", false),
    ("groups", "Groups", "/finding-groups", false),
    ("products", "Products", "/products", false),
    ("integrations", "Integrations", "/settings/integrations", true),
    ("connectors", "Connectors", "/connectors", true),
    ("import", "Import", "/import", false),
];

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

pub struct Layout {
    pub title: String,
    pub username: String,
    /// The user's global role, shown in the user menu.
    pub role: &'static str,
    pub csrf: String,
    /// `{"X-CSRF-Token": "…"}` for `hx-headers`, so every htmx request carries the token.
    pub hx_headers: String,
    pub nav: Vec<NavItem>,
    pub assets: &'static str,
}

impl Layout {
    pub fn new(session: &Session, title: impl Into<String>, current: &str) -> Layout {
        Layout {
            title: title.into(),
            username: session.actor.username.clone(),
            role: session.actor.global_role.map(|r| r.as_str()).unwrap_or("product roles only"),
            csrf: session.csrf.clone(),
            hx_headers: serde_json::json!({ "X-CSRF-Token": session.csrf }).to_string(),
            nav: NAV
                .iter()
                .filter(|(_, _, _, global)| !global || session.actor.global_role.is_some())
                .map(|(key, label, href, _)| NavItem { label, href, current: *key == current })
                .collect(),
            assets: super::assets::version(),
        }
    }
}
