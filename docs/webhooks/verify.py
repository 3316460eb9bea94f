"""Verifying payd's webhooks in Python: one function per format.

Each function takes the endpoint's secret, the request headers (names in lower case) and the
raw body bytes exactly as received, and raises an exception when the request is not from
payd. docs/webhooks.md shows these functions; payd's tests run this very file against real
deliveries:

    python verify.py FORMAT SECRET REQUEST.json

where REQUEST.json is {"headers": {...}, "body": "..."}; it prints "ok" and exits 0 when the
signature is valid, and exits 1 otherwise.
"""

import hashlib
import hmac
import json
import sys
import time

TOLERANCE = 300  # seconds: refuse replays of old deliveries


def verify_native(secret, headers, body):
    # Standard Webhooks (pip install standardwebhooks): checks webhook-signature over
    # "{webhook-id}.{webhook-timestamp}.{body}" and the timestamp's age.
    from standardwebhooks.webhooks import Webhook

    return Webhook(secret).verify(body, headers)


def verify_paygentic(secret, headers, body):
    # Svix (pip install svix): the same scheme under svix-id, svix-timestamp, svix-signature.
    from svix.webhooks import Webhook

    return Webhook(secret).verify(body, headers)


def verify_astrapay(secret, headers, body):
    # X-AstraPay-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}"> keyed by the whole
    # whsec_ secret.
    parts = dict(p.split("=", 1) for p in headers["x-astrapay-signature"].split(","))
    if abs(time.time() - int(parts["t"])) > TOLERANCE:
        raise ValueError("stale timestamp")
    signed = parts["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        raise ValueError("bad signature")


def verify_mutopay(secret, headers, body):
    # X-MutoPay-Signature: sha256=<hex HMAC-SHA256 of the body>. No timestamp: deduplicate on
    # payment_id and event.
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers["x-mutopay-signature"]):
        raise ValueError("bad signature")


def verify_alppay(signing_secret, headers, body):
    # X-HMAC: hex HMAC-SHA256 of the body under the endpoint's secret (whsec_...).
    expected = hmac.new(signing_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers["x-hmac"]):
        raise ValueError("bad signature")


VERIFY = {
    "native": verify_native,
    "paygentic": verify_paygentic,
    "astrapay": verify_astrapay,
    "mutopay": verify_mutopay,
    "alppay": verify_alppay,
}

if __name__ == "__main__":
    fmt, secret, path = sys.argv[1:4]
    with open(path, encoding="utf-8") as f:
        request = json.load(f)
    try:
        VERIFY[fmt](secret, request["headers"], request["body"].encode())
    except Exception as e:  # noqa: BLE001 - any failure means "not from payd"
        print(f"invalid: {type(e).__name__}: {e}")
        sys.exit(1)
    print("ok")
