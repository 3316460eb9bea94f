-- AlpPay webhooks were signed with the signing secret of the merchant's newest unrevoked API
-- key in the endpoint's mode, whatever that key's scopes: a read-only key's holder could forge
-- them, and issuing any new key silently changed the secret. Each AlpPay endpoint now signs
-- with its own secret, like every other format, rotated like them. So that receivers keep
-- verifying across the upgrade, an AlpPay endpoint takes a copy of the secret that signed its
-- deliveries until now (both are sealed under the same master key); operators rotate it to
-- one no API key holder knows (docs/webhooks.md).
UPDATE webhook_endpoints
SET secret_sealed = (
        SELECT k.signing_secret_sealed
        FROM api_keys k
        JOIN merchants m ON m.id = webhook_endpoints.merchant_id
        WHERE k.mode = webhook_endpoints.mode
          AND k.revoked_at IS NULL
          AND (k.merchant_id = m.id OR (k.merchant_id IS NULL AND k.account_id = m.account_id))
        ORDER BY k.created_at DESC, k.id DESC
        LIMIT 1),
    previous_secret_sealed = NULL,
    previous_secret_expires_at = NULL
WHERE format = 'alppay'
  AND deleted = FALSE
  AND EXISTS (
        SELECT 1
        FROM api_keys k
        JOIN merchants m ON m.id = webhook_endpoints.merchant_id
        WHERE k.mode = webhook_endpoints.mode
          AND k.revoked_at IS NULL
          AND (k.merchant_id = m.id OR (k.merchant_id IS NULL AND k.account_id = m.account_id)));
