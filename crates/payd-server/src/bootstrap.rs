//! First start on an empty database: a demo merchant and a test key with its signing secret,
//! printed with curl commands that work as printed (the native API, and AlpPay's, whose
//! requests are signed with that secret).

use payd_core::apikey::{Mode, Scope};
use payd_core::crypto::MasterKey;
use payd_core::merchant::NewMerchant;
use payd_store::Store;

use crate::keys::{issue_key, KeyOwner};

/// What was created, for printing.
#[derive(Debug)]
pub struct Demo {
    /// The merchant's id.
    pub merchant_id: String,
    /// The test key's secret.
    pub key: String,
    /// The key's signing secret (AlpPay's `X-HMAC`).
    pub signing_secret: String,
}

/// The AlpPay request the banner prints, signed as printed.
const ALPPAY_BODY: &str = r#"{"amount":"49.99","asset":{"short":"USDC","network":"ethereum"},"customer":{"id":1,"name":"Demo customer","email":"customer@example.com"}}"#;

/// Creates the demo merchant and key when the database has no merchant yet.
pub async fn ensure_demo(store: &Store, master: &MasterKey) -> anyhow::Result<Option<Demo>> {
    if store.count_merchants().await? > 0 {
        return Ok(None);
    }
    let merchant = store
        .create_merchant(
            &NewMerchant {
                name: "Demo Store".into(),
                email: Some("demo@example.com".into()),
                site_url: Some("https://example.com".into()),
                logo_url: None,
                account_id: None,
            },
            payd_store::now(),
        )
        .await?;
    let issued =
        issue_key(store, master, KeyOwner::Merchant(merchant.id.clone()), Mode::Test, Scope::ALL.to_vec())
            .await?;
    Ok(Some(Demo {
        merchant_id: merchant.id.to_string(),
        key: issued.secret.expose().to_owned(),
        signing_secret: issued.signing_secret.expose().to_owned(),
    }))
}

/// The banner `payd serve` prints for a new demo merchant.
pub fn banner(demo: &Demo, base_url: &str) -> String {
    let hmac = crate::http::dialects::alppay::wire::hmac::sign(&demo.signing_secret, ALPPAY_BODY.as_bytes())
        .unwrap_or_default();
    format!(
        "\nA demo merchant and a test-mode API key were created (the key and its signing secret are \
         shown only this once):\n\
         \n  merchant        {m}\n  api key         {k}\n  signing secret  {s}\n\
         \nCreate a payment:\n\
         \n  curl -sS -X POST {base}/v1/payments -H 'Authorization: Bearer {k}' -H 'Content-Type: application/json' \
         -d '{{\"amount\":\"49.99\",\"currency\":\"USD\",\"token\":\"USDC\",\"network\":\"base\"}}'\n\
         \nThe same through the AlpPay dialect, whose X-HMAC is the hex HMAC-SHA256 of the exact body under the \
         signing secret\n(for another body: printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac '{s}'):\n\
         \n  curl -sS -X POST {base}/v2/payment -H 'API-KEY: {k}' -H 'X-HMAC: {hmac}' -H 'Content-Type: application/json' \
         -d '{alp}'\n",
        m = demo.merchant_id,
        k = demo.key,
        s = demo.signing_secret,
        base = base_url,
        alp = ALPPAY_BODY,
    )
}
