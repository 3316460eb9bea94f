//! The caller of any API: which key is calling (read as that API carries it), which merchants
//! it acts for, what it may do, and its rate limit. One extractor, [`Caller`], generic over
//! the [`Api`] trait that the native API and each dialect implement.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use payd_core::apikey::{hash_key_secret, ApiKey, Mode, Scope};
use payd_core::merchant::{Merchant, MerchantStatus};
use payd_core::webhook::WebhookFormat;

use super::error::ApiError;
use crate::http::code::Code;
use crate::ratelimit::Surface;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key used.
    pub key: ApiKey,
    /// The active merchants the key acts for (one, or every active one of its account).
    pub merchants: Vec<Merchant>,
    /// Merchants in the key's reach that are suspended: naming one is a 403, not a 400.
    pub suspended: Vec<Merchant>,
}

impl Principal {
    /// The key's mode.
    pub fn mode(&self) -> Mode {
        self.key.mode
    }

    /// 403 unless the key carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.key.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::new(Code::InsufficientScope, format!("this API key lacks the `{scope}` scope")))
        }
    }

    /// The merchant a write acts for: the key's own, or for a key that spans merchants, the
    /// one the request names.
    pub fn merchant_for(&self, requested: Option<&str>) -> Result<&Merchant, ApiError> {
        match (&self.key.merchant_id, requested) {
            (Some(own), None) => self.merchants.iter().find(|m| &m.id == own).ok_or_else(suspended),
            (Some(own), Some(r)) if own.to_string() == r => {
                self.merchants.iter().find(|m| &m.id == own).ok_or_else(suspended)
            }
            (Some(_), Some(_)) => Err(ApiError::new(
                Code::MerchantInvalid,
                "this API key acts for one merchant; omit `merchant` or name that one",
            )
            .param("merchant")),
            (None, None) => Err(ApiError::new(
                Code::MerchantRequired,
                "this API key spans several merchants: name one with `merchant`",
            )
            .param("merchant")),
            (None, Some(r)) => match self.merchants.iter().find(|m| m.id.to_string() == r) {
                Some(m) => Ok(m),
                None if self.suspended.iter().any(|m| m.id.to_string() == r) => Err(suspended()),
                None => Err(ApiError::new(Code::MerchantInvalid, "no such merchant for this API key")
                    .param("merchant")),
            },
        }
    }
}

fn suspended() -> ApiError {
    ApiError::new(Code::MerchantSuspended, "the merchant is suspended")
}

/// Resolves a presented key secret to a principal: 401 for an unknown or revoked key, 403 for
/// a suspended merchant.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let invalid = || ApiError::new(Code::InvalidApiKey, "the API key is not valid");
    // Bounded before hashing: a secret is 72 characters; anything huge is not a key.
    if secret.is_empty() || secret.len() > 256 {
        return Err(invalid());
    }
    let hash = hash_key_secret(secret);
    // Found by the SHA-256 of the secret: the database compares digests, never the secret,
    // so the time a lookup takes tells an attacker nothing about the key.
    let key = state.store.find_api_key_by_hash(&hash).await?.ok_or_else(invalid)?;
    if key.revoked_at.is_some() {
        return Err(invalid());
    }
    let now = payd_store::now();
    if key.use_is_news(now) {
        // Bookkeeping for the dashboard: a failed write must not fail the merchant's request.
        if let Err(e) = state.store.note_api_key_use(&key.id, now).await {
            tracing::warn!(key = %key.id, error = %e, "could not record the API key's use");
        }
    }
    let merchants = state.store.merchants_of_key(&hash, &key).await?;
    let (active, suspended_ones): (Vec<Merchant>, Vec<Merchant>) =
        merchants.into_iter().partition(|m| m.status == MerchantStatus::Active);
    if active.is_empty() {
        return Err(suspended());
    }
    Ok(Principal { key, merchants: active, suspended: suspended_ones })
}

/// How an API carries its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key alone in the named header (`X-Api-Key`).
    Header(&'static str),
}

impl AuthScheme {
    /// The presented secret, or payd's 401 (`missing_api_key`, `invalid_api_key`) in the
    /// native API's words; an [`Api`] rewords it in its own.
    fn secret(self, parts: &Parts) -> Result<&str, ApiError> {
        match self {
            AuthScheme::Bearer => {
                let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
                    return Err(ApiError::new(
                        Code::MissingApiKey,
                        "send your API key as `Authorization: Bearer <key>`",
                    ));
                };
                value
                    .to_str()
                    .unwrap_or_default()
                    .split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, s)| s.trim())
                    .ok_or_else(|| ApiError::new(Code::InvalidApiKey, "use `Authorization: Bearer <key>`"))
            }
            AuthScheme::Header(name) => {
                let Some(value) = parts.headers.get(name) else {
                    return Err(ApiError::new(Code::MissingApiKey, format!("send your API key in {name}")));
                };
                value
                    .to_str()
                    .map(str::trim)
                    .map_err(|_| ApiError::new(Code::InvalidApiKey, "the API key is not valid"))
            }
        }
    }
}

/// What makes an API an API to payd's transport: how it carries keys, which quota it counts
/// against, how its errors are written and which webhook view its endpoints get. The native
/// API and each dialect implement it once; [`Caller`] does the rest.
pub trait Api: Send + Sync + 'static {
    /// Where the key is.
    const AUTH: AuthScheme;
    /// The quota requests count against (`rate_limits.<surface>`).
    const SURFACE: Surface;
    /// The webhook body format this API's own endpoints deliver.
    const WEBHOOK: WebhookFormat;
    /// The API's error body.
    type Error: From<ApiError> + IntoResponse;

    /// An authentication failure in the API's own words (by default payd's).
    fn unauthenticated(e: ApiError) -> ApiError {
        e
    }
}

/// An authenticated caller of API `A`: the key is read as `A` carries it, resolved to a
/// [`Principal`], and counted against `A`'s quota; every refusal is in `A`'s error format.
#[derive(Debug)]
pub struct Caller<A>(pub Principal, pub PhantomData<A>);

impl<A: Api> FromRequestParts<AppState> for Caller<A> {
    type Rejection = A::Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, A::Error> {
        let secret = A::AUTH.secret(parts).map_err(A::unauthenticated)?;
        let principal = authenticate(state, secret).await.map_err(A::unauthenticated)?;
        state.rate_limits.check(A::SURFACE, &principal.key.id).map_err(ApiError::rate_limited)?;
        Ok(Caller(principal, PhantomData))
    }
}
