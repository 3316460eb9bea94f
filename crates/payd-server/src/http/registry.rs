//! The APIs payd speaks, one line each: where its routes are mounted, its OpenAPI document,
//! the webhook format its endpoints get and its error body. Adding a dialect is its folder
//! under `dialects/` and one line here.

use axum::response::{IntoResponse, Response};
use axum::Router;
use payd_core::webhook::WebhookFormat;
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

use super::caller::Api;
use super::dialects::{alppay, astrapay, mutopay, paygentic};
use super::error::ApiError;
use super::native;
use crate::state::AppState;

/// One API.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Its name in `/openapi/<name>.json`.
    pub name: &'static str,
    /// The path prefix of its routes: a check that runs before a handler (405, 408, NUL in a
    /// query) answers a path under it in this API's format.
    pub prefix: &'static str,
    /// Its routes.
    pub routes: fn() -> Router<AppState>,
    /// Its OpenAPI document.
    pub openapi: fn() -> OpenApi,
    /// The webhook body format its own endpoints deliver.
    pub webhook: WebhookFormat,
    /// An error in its format.
    pub error: fn(ApiError) -> Response,
}

const fn entry<A: Api>(
    name: &'static str,
    prefix: &'static str,
    routes: fn() -> Router<AppState>,
    openapi: fn() -> OpenApi,
) -> Entry {
    Entry { name, prefix, routes, openapi, webhook: A::WEBHOOK, error: error_in::<A> }
}

fn error_in<A: Api>(e: ApiError) -> Response {
    A::Error::from(e).into_response()
}

/// Every API. The dialects come first: the native API's prefix, `/`, takes every other path.
pub const APIS: [Entry; 5] = [
    entry::<astrapay::wire::error::AstraPay>(
        "astrapay",
        "/v1/api/",
        astrapay::routes,
        astrapay::openapi::AstraPayApi::openapi,
    ),
    entry::<paygentic::wire::error::Paygentic>(
        "paygentic",
        "/v0/",
        paygentic::routes,
        paygentic::openapi::PaygenticApi::openapi,
    ),
    entry::<mutopay::wire::error::MutoPay>(
        "mutopay",
        "/api/",
        mutopay::routes,
        mutopay::openapi::MutoPayApi::openapi,
    ),
    entry::<alppay::wire::error::AlpPay>(
        "alppay",
        "/v2/",
        alppay::routes,
        alppay::openapi::AlpPayApi::openapi,
    ),
    entry::<native::Native>("native", "/", native::routes, native::openapi::NativeApi::openapi),
];

/// Every API's routes.
pub fn routes() -> Router<AppState> {
    APIS.iter().fold(Router::new(), |router, api| router.merge((api.routes)()))
}

/// The API a path belongs to.
pub fn api_of(path: &str) -> &'static Entry {
    APIS.iter().find(|api| path.starts_with(api.prefix)).unwrap_or(&APIS[APIS.len() - 1])
}

/// `e` in the format of the API that `path` belongs to.
pub fn error_for_path(path: &str, e: ApiError) -> Response {
    (api_of(path).error)(e)
}
