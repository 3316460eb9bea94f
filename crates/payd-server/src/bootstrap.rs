//! First start on an empty database: a demo merchant and a test key, printed with a curl
//! command that works as printed.

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
}

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
    Ok(Some(Demo { merchant_id: merchant.id.to_string(), key: issued.secret.expose().to_owned() }))
}

/// The banner `payd serve` prints for a new demo merchant.
pub fn banner(demo: &Demo, base_url: &str) -> String {
    format!(
        "\nA demo merchant and a test-mode API key were created (the key is shown only this once):\n\
         \n  merchant  {m}\n  api key   {k}\n\
         \nCreate a payment:\n\
         \n  curl -sS -X POST {base}/v1/payments -H 'Authorization: Bearer {k}' -H 'Content-Type: application/json' \
         -d '{{\"amount\":\"49.99\",\"currency\":\"USD\",\"token\":\"USDC\",\"network\":\"base\"}}'\n",
        m = demo.merchant_id,
        k = demo.key,
        base = base_url,
    )
}
