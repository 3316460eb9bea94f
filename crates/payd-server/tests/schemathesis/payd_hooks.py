"""Schemathesis hooks for payd's API tests (loaded with SCHEMATHESIS_HOOKS=payd_hooks).

AlpPay signs every request body: X-HMAC is the lowercase hex HMAC-SHA256 of the exact bytes
sent, under the key's signing secret. Schemathesis serialises the body after its hooks run,
so the signature is computed on the prepared request, just before it leaves. A request whose
X-HMAC header was left out on purpose (a negative case) stays unsigned.
"""

import hashlib
import hmac
import os

import requests.adapters

SECRET = os.environ.get("PAYD_ALPPAY_SIGNING_SECRET")

if SECRET:
    _send = requests.adapters.HTTPAdapter.send

    def _signed_send(self, request, *args, **kwargs):
        if request.body is not None and "X-HMAC" in request.headers:
            body = request.body if isinstance(request.body, bytes) else request.body.encode()
            request.headers["X-HMAC"] = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        return _send(self, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = _signed_send
