//! Webhook signatures, one scheme per format. Pure functions: the dispatcher passes the
//! opened secrets, the message id, the send time and the exact body bytes, and gets the
//! headers to send.
//!
//! - native: Standard Webhooks v1: `webhook-signature: v1,<base64 HMAC-SHA256>` of
//!   `{id}.{timestamp}.{body}`, keyed by the base64 after `whsec_`; one entry per live secret.
//! - paygentic: the same scheme under Svix's header names.
//! - astrapay: `X-AstraPay-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, keyed by
//!   the whole `whsec_…` string (as AstraPay's own example does).
//! - mutopay: `X-MutoPay-Signature: sha256=<hex HMAC-SHA256 of body>`, keyed by the whole string.
//! - alppay: `X-HMAC: <hex HMAC-SHA256 of body>`, keyed by the whole string.
//!
//! Every format signs with the endpoint's own secret, never an API key's.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;
use crate::webhook::WebhookFormat;

type HmacSha256 = Hmac<Sha256>;

/// A secret that cannot sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// A Standard Webhooks secret is not `whsec_` and base64.
    #[error("webhook secret is not whsec_ followed by base64")]
    BadSecret,
    /// No secret was given.
    #[error("no signing secret")]
    NoSecret,
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, SignError> {
    let mut m = HmacSha256::new_from_slice(key).map_err(|_| SignError::BadSecret)?;
    for p in parts {
        m.update(p);
    }
    Ok(m.finalize().into_bytes().to_vec())
}

/// The Standard Webhooks signature (`v1,<base64>`) of one message under one `whsec_` secret.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    let key =
        B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).map_err(|_| SignError::BadSecret)?;
    let ts = timestamp.to_string();
    let sig = mac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body])?;
    Ok(format!("v1,{}", B64.encode(sig)))
}

/// AstraPay's `t=<unix>,v1=<hex>`.
pub fn astrapay_signature(secret: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    let ts = timestamp.to_string();
    let sig = mac(secret.as_bytes(), &[ts.as_bytes(), b".", body])?;
    Ok(format!("t={ts},v1={}", hex::encode(sig)))
}

/// Lower-case hex HMAC-SHA256 of the body (MutoPay prefixes it with `sha256=`, AlpPay not).
pub fn body_hmac_hex(secret: &str, body: &[u8]) -> Result<String, SignError> {
    Ok(hex::encode(mac(secret.as_bytes(), &[body])?))
}

/// The headers that sign one send of a message. `secrets` are the live secrets, newest first
/// (the endpoint's, for every format). Formats whose providers carry one
/// signature sign with the newest only.
pub fn signature_headers(
    format: WebhookFormat,
    secrets: &[Secret],
    id: &str,
    timestamp: i64,
    body: &[u8],
    event_name: &str,
) -> Result<Vec<(&'static str, String)>, SignError> {
    let newest = secrets.first().ok_or(SignError::NoSecret)?.expose();
    let standard = || -> Result<String, SignError> {
        let sigs: Result<Vec<String>, SignError> =
            secrets.iter().map(|s| standard_signature(s.expose(), id, timestamp, body)).collect();
        Ok(sigs?.join(" "))
    };
    Ok(match format {
        WebhookFormat::Native => vec![
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", standard()?),
        ],
        WebhookFormat::Paygentic => vec![
            ("svix-id", id.to_owned()),
            ("svix-timestamp", timestamp.to_string()),
            ("svix-signature", standard()?),
        ],
        WebhookFormat::Astrapay => vec![
            ("x-astrapay-signature", astrapay_signature(newest, timestamp, body)?),
            ("x-astrapay-event", event_name.to_owned()),
        ],
        WebhookFormat::Mutopay => {
            vec![("x-mutopay-signature", format!("sha256={}", body_hmac_hex(newest, body)?))]
        }
        WebhookFormat::Alppay => vec![("x-hmac", body_hmac_hex(newest, body)?)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example published with the Standard Webhooks and Svix documentation.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    #[test]
    fn standard_webhooks_matches_the_published_example() {
        assert_eq!(
            standard_signature(SECRET, ID, TS, BODY).ok().as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(standard_signature("whsec_%%%", ID, TS, BODY), Err(SignError::BadSecret));
    }

    #[test]
    fn a_rotation_sends_one_signature_per_live_secret() {
        let secrets =
            [Secret::new(SECRET), Secret::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")];
        let h = signature_headers(WebhookFormat::Native, &secrets, ID, TS, BODY, "payment.created")
            .unwrap_or_default();
        let sig =
            h.iter().find(|(k, _)| *k == "webhook-signature").map(|(_, v)| v.clone()).unwrap_or_default();
        let parts: Vec<&str> = sig.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(parts[1].starts_with("v1,") && parts[1] != parts[0]);
    }

    #[test]
    fn hex_schemes_sign_what_their_providers_document() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231-style vector.
        assert_eq!(
            body_hmac_hex("key", b"The quick brown fox jumps over the lazy dog").ok().as_deref(),
            Some("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        );
        let a = astrapay_signature("key", 1, b"x").unwrap_or_default();
        let expected = body_hmac_hex("key", b"1.x").unwrap_or_default();
        assert_eq!(a, format!("t=1,v1={expected}"));
        let h = signature_headers(WebhookFormat::Mutopay, &[Secret::new("key")], ID, TS, b"x", "e")
            .unwrap_or_default();
        assert_eq!(
            h,
            vec![(
                "x-mutopay-signature",
                format!("sha256={}", body_hmac_hex("key", b"x").unwrap_or_default())
            )]
        );
        assert_eq!(
            signature_headers(WebhookFormat::Alppay, &[], ID, TS, b"x", "e"),
            Err(SignError::NoSecret)
        );
    }
}
