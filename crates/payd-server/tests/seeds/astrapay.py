import requests

res = requests.post(
    "https://apipay.byastra.ai/v1/api/payments",
    headers={
        "X-Api-Key": "ap_live_your_api_key",
        "Idempotency-Key": "order_12345",
    },
    json={
        "amount": 49.99,
        "token": "USDC",
        "network": "BASE",
        "redirect_url": "https://yourapp.com/success",
        "metadata": {"order_id": "ORD-12345"},
    },
)

checkout_url = res.json()["data"]["checkout_url"]
