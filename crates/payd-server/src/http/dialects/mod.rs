//! The providers' merchant APIs payd speaks. A dialect only translates: paths, auth headers,
//! field names, amount encodings, status names, envelopes, error bodies and status codes. It
//! calls the same engine as the native API and holds no business rule of its own.

pub mod alppay;
pub mod astrapay;
pub mod mutopay;
pub mod paygentic;

use axum::Router;

use crate::state::AppState;

/// Every dialect's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(alppay::routes())
        .merge(astrapay::routes())
        .merge(mutopay::routes())
        .merge(paygentic::routes())
}
