curl --request POST \
  --url https://api.paygentic.io/v0/payments \
  --header 'Authorization: Bearer <token>' \
  --header 'Content-Type: application/json' \
  --data '
{
  "amount": "10.50",
  "currency": "USD",
  "idempotencyKey": "order_12345",
  "reference": "Order #12345",
  "successRedirectUrl": "https://example.com/success",
  "savePaymentMethod": false,
  "expiresIn": "P7D",
  "metadata": {
    "orderId": "order_12345"
  }
}
'
