"""APIv3's cryptography as WeChat Pay publishes it, on `cryptography` alone (no wechatpayv3).

- Request signature string:  METHOD\\nURL(path?query)\\ntimestamp\\nnonce\\nbody\\n
- Response / notice string:  timestamp\\nnonce\\nbody\\n
- Signature: SHA256withRSA (PKCS#1 v1.5), base64.
- Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",
  timestamp="…",serial_no="…"
- Encrypted resources: AEAD_AES_256_GCM, key = the 32-byte APIv3 key, 12-character nonce,
  base64(ciphertext ‖ 16-byte tag).
- Sensitive request fields: RSA-OAEP (SHA-1, MGF1-SHA-1) with the platform key.
"""
from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

SCHEME = "WECHATPAY2-SHA256-RSA2048"
AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
NONCE_ALPHABET = string.ascii_letters + string.digits


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def response_message(timestamp: str, nonce: str, body: str) -> str:
    return f"{timestamp}\n{nonce}\n{body}\n"


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(private_key.sign(message.encode(), padding.PKCS1v15(),
                                             hashes.SHA256())).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def nonce(length: int = 32) -> str:
    return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(length))


def parse_authorization(header: str) -> dict[str, str] | None:
    """The fields of an Authorization header of WeChat's scheme, or None."""
    scheme, _, rest = (header or "").strip().partition(" ")
    if scheme != SCHEME:
        return None
    fields = dict(AUTH_FIELD.findall(rest))
    needed = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
    return fields if all(fields.get(k) for k in needed) else None


def authorization(mchid: str, serial_no: str, private_key: rsa.RSAPrivateKey, method: str,
                  url: str, body: str, timestamp: str, nonce_str: str) -> str:
    signature = sign(private_key, request_message(method, url, timestamp, nonce_str, body))
    return (f'{SCHEME} mchid="{mchid}",nonce_str="{nonce_str}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{serial_no}"')


def aes_gcm_encrypt(apiv3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    """A resource as WeChat sends it: {algorithm, ciphertext, nonce, associated_data}."""
    iv = nonce(12)
    sealed = AESGCM(apiv3_key.encode()).encrypt(iv.encode(), plaintext.encode(),
                                                associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(sealed).decode(),
            "nonce": iv, "associated_data": associated_data}


def aes_gcm_decrypt(apiv3_key: str, resource: dict) -> str | None:
    """The plaintext of an encrypted resource, None if it does not authenticate."""
    try:
        return AESGCM(apiv3_key.encode()).decrypt(
            resource["nonce"].encode(), base64.b64decode(resource["ciphertext"], validate=True),
            (resource.get("associated_data") or "").encode()).decode()
    except (InvalidTag, KeyError, TypeError, ValueError, AttributeError, binascii.Error):
        return None


def oaep_encrypt(public_key: rsa.RSAPublicKey, text: str) -> str:
    return base64.b64encode(public_key.encrypt(text.encode(), _oaep())).decode()


def oaep_decrypt(private_key: rsa.RSAPrivateKey, ciphertext: str) -> str | None:
    try:
        return private_key.decrypt(base64.b64decode(ciphertext, validate=True), _oaep()).decode()
    except (ValueError, binascii.Error):
        return None


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    return serialization.load_pem_public_key(pem.encode())


@dataclass(frozen=True)
class SigningKey:
    """One platform key: what the merchant names it by (Wechatpay-Serial) and the key."""

    serial: str
    private_key: rsa.RSAPrivateKey

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class PlatformKeys:
    """The stand-in's platform keys, made at start: a 微信支付公钥 with its PUB_KEY_ID_… (the
    newer mode) and a self-signed 平台证书 (the older one), each with its own key pair."""

    public_key: SigningKey           # serial = PUB_KEY_ID_…
    certificate: SigningKey          # serial = the certificate's serial, upper-case hex
    certificate_pem: str
    not_before: datetime
    not_after: datetime

    @property
    def public_key_pem(self) -> str:
        return public_pem(self.public_key.public_key)

    def by_serial(self, serial: str | None) -> SigningKey | None:
        return next((k for k in (self.public_key, self.certificate) if k.serial == serial), None)


def make_platform_keys(now: datetime | None = None) -> PlatformKeys:
    now = now or datetime.now(timezone.utc)
    pub_id = "PUB_KEY_ID_" + "".join(secrets.choice("0123456789") for _ in range(30))
    cert_key = new_rsa_key()
    serial_number = x509.random_serial_number()
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com (stand-in)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (stand-in)")])
    not_before, not_after = now - timedelta(days=1), now + timedelta(days=5 * 365)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(cert_key.public_key()).serial_number(serial_number)
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .sign(cert_key, hashes.SHA256()))
    return PlatformKeys(
        public_key=SigningKey(pub_id, new_rsa_key()),
        certificate=SigningKey(f"{serial_number:X}", cert_key),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        not_before=not_before, not_after=not_after)
