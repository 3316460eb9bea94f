//! Authentication and reach: which key is calling, which merchants it acts for, and what it
//! may do. Dialects read the key from their own header and share everything else.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use payd_core::apikey::{hash_key_secret, ApiKey, Mode, Scope};
use payd_core::merchant::{Merchant, MerchantStatus};
use payd_core::payment::Payment;

use super::error::ApiError;
use super::ratelimit::Surface;
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
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this API key lacks the `{scope}` scope"),
            ))
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
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                "merchant_invalid",
                "this API key acts for one merchant; omit `merchant` or name that one",
            )
            .param("merchant")),
            (None, None) => Err(ApiError::bad_request(
                "merchant_required",
                "this API key spans several merchants: name one with `merchant`",
            )
            .param("merchant")),
            (None, Some(r)) => match self.merchants.iter().find(|m| m.id.to_string() == r) {
                Some(m) => Ok(m),
                None if self.suspended.iter().any(|m| m.id.to_string() == r) => Err(suspended()),
                None => Err(ApiError::bad_request("merchant_invalid", "no such merchant for this API key")
                    .param("merchant")),
            },
        }
    }

    /// Whether the caller may see `payment`: same mode, one of its merchants. Anything else
    /// is answered as if the payment did not exist.
    pub fn can_see(&self, payment: &Payment) -> bool {
        payment.mode == self.key.mode && self.merchants.iter().any(|m| m.id == payment.merchant_id)
    }
}

fn suspended() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "merchant_suspended", "the merchant is suspended")
}

/// Resolves a presented key secret to a principal: 401 for an unknown or revoked key, 403 for
/// a suspended merchant.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let invalid = || ApiError::new(StatusCode::UNAUTHORIZED, "invalid_api_key", "the API key is not valid");
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
    let merchants = match &key.merchant_id {
        Some(id) => state.store.get_merchant(id).await?.into_iter().collect::<Vec<_>>(),
        None => state.store.merchants_of_account(&key.account_id).await?,
    };
    let (active, suspended_ones): (Vec<Merchant>, Vec<Merchant>) =
        merchants.into_iter().partition(|m| m.status == MerchantStatus::Active);
    if active.is_empty() {
        return Err(suspended());
    }
    Ok(Principal { key, merchants: active, suspended: suspended_ones })
}

/// The native API's credentials: `Authorization: Bearer <key>`, counted against the key's
/// native quota (`rate_limits.native`).
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_api_key",
                "send your API key as `Authorization: Bearer <key>`",
            ));
        };
        let text = value.to_str().unwrap_or_default();
        let secret = text
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, s)| s.trim())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_api_key",
                    "use `Authorization: Bearer <key>`",
                )
            })?;
        let principal = authenticate(state, secret).await?;
        state.rate_limits.check(Surface::Native, &principal.key.id).map_err(ApiError::rate_limited)?;
        Ok(principal)
    }
}
