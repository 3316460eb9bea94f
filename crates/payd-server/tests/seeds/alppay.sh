curl https://api.alppay.io/v2/payment \
-X POST \
-H "Content-Type: application/json" \
-H "API-KEY: ak_live_1234567890abcdef" \
-H "X-HMAC: your_calculated_signature" \
-d '{"amount":"1000.00","asset":{"short":"USDT","network":"tron"},"customer":{"id":12312312,"name":"John","email":"[email protected]"},"clientId":"your_client_id","invoice":"INV-001","checkoutUrl":"https://your-shop.com/orders/40113049"}'
