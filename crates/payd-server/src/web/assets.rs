//! The static files of payd's pages (the checkout's stylesheet and script, the dashboard's
//! stylesheet, the icon), compiled into the binary and served by payd under a name that
//! carries a digest of their content, so browsers may cache them for a year and a new payd
//! version is fetched at once. No CDN, no third-party file.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// A static file of the page.
#[derive(Debug)]
pub struct Asset {
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    body: &'static str,
    path: LazyLock<String>,
}

impl Asset {
    /// The path the page links (`/assets/checkout.1a2b3c4d5e6f.css`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's content.
    pub fn body(&self) -> &'static str {
        self.body
    }
}

fn versioned(stem: &str, ext: &str, body: &str) -> String {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    format!("/assets/{stem}.{}.{ext}", &digest[..12])
}

const CSS_BODY: &str = include_str!("../checkout/assets/checkout.css");
const JS_BODY: &str = include_str!("../checkout/assets/checkout.js");
const ICON_BODY: &str = include_str!("../checkout/assets/favicon.svg");
const DASHBOARD_CSS_BODY: &str = include_str!("../dashboard/assets/dashboard.css");
const DASHBOARD_JS_BODY: &str = include_str!("../dashboard/assets/live.js");

/// The checkout's stylesheet.
pub static CSS: Asset = Asset {
    stem: "checkout",
    ext: "css",
    content_type: "text/css; charset=utf-8",
    body: CSS_BODY,
    path: LazyLock::new(|| versioned("checkout", "css", CSS_BODY)),
};

/// The checkout's script.
pub static JS: Asset = Asset {
    stem: "checkout",
    ext: "js",
    content_type: "text/javascript; charset=utf-8",
    body: JS_BODY,
    path: LazyLock::new(|| versioned("checkout", "js", JS_BODY)),
};

/// The tab icon (a browser asks for one; without it, `/favicon.ico` and a 404).
pub static ICON: Asset = Asset {
    stem: "favicon",
    ext: "svg",
    content_type: "image/svg+xml",
    body: ICON_BODY,
    path: LazyLock::new(|| versioned("favicon", "svg", ICON_BODY)),
};

/// The dashboard's stylesheet.
pub static DASHBOARD_CSS: Asset = Asset {
    stem: "dashboard",
    ext: "css",
    content_type: "text/css; charset=utf-8",
    body: DASHBOARD_CSS_BODY,
    path: LazyLock::new(|| versioned("dashboard", "css", DASHBOARD_CSS_BODY)),
};

/// The dashboard's one script: the payment page's live status (no other page runs it).
pub static DASHBOARD_JS: Asset = Asset {
    stem: "dashboard",
    ext: "js",
    content_type: "text/javascript; charset=utf-8",
    body: DASHBOARD_JS_BODY,
    path: LazyLock::new(|| versioned("dashboard", "js", DASHBOARD_JS_BODY)),
};

/// The current version of a file by its name under `/assets/`, as a response; `None` for
/// any other name (an old digest included), which the caller answers with its 404.
pub fn serve(file: &str) -> Option<Response> {
    for asset in [&CSS, &JS, &ICON, &DASHBOARD_CSS, &DASHBOARD_JS] {
        if asset.path().strip_prefix("/assets/") == Some(file) {
            debug_assert!(file.starts_with(asset.stem) && file.ends_with(asset.ext));
            return Some(
                (
                    [
                        (header::CONTENT_TYPE, asset.content_type),
                        // The name changes with the content, so a copy never goes stale.
                        (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    ],
                    asset.body,
                )
                    .into_response(),
            );
        }
    }
    None
}
