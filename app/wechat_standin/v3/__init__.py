"""The stand-in's WeChat Pay APIv3: JSON over HTTP, requests signed by the merchant's RSA key,
responses and notices signed by the stand-in's own platform keys, notice resources encrypted
with AES-256-GCM under the APIv3 key.

  crypto.py    the published algorithms (signature strings, SHA256withRSA, AEAD_AES_256_GCM,
               RSA-OAEP for sensitive fields) and the platform's keys — no Flask
  protocol.py  what every v3 endpoint does: check the Authorization header, sign the response,
               WeChat's JSON error bodies, and build signed notices for delivery
  pay.py       payments, refunds, certificates and their notices

Bills and 商家转账 plug in beside pay.py with the same protocol helpers.
"""
