"""wechatpayv3's WeChatPay, built from the configuration and pointed at WeChat or the stand-in.

wechatpayv3 has no base-URL option: `Core.__init__` fixes `self._gate_way` to WeChat's host.
This module is the only place that sets it (and the only one that reads the library's private
attributes: the gateway, the platform public key id and the platform certificates);
tests/payments/test_pay_v3_client.py fails loudly if an upgrade moves them, rather than letting
a build talk to real WeChat silently.
"""
from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from wechatpayv3 import WeChatPay, WeChatPayType

from app.config import REAL_WECHAT_API_BASE

GATEWAY_ATTRIBUTE = "_gate_way"
WECHAT_GATEWAY = "https://api.mch.weixin.qq.com"
TIMEOUT = (5, 10)  # connect, read (seconds)
_lock = threading.Lock()


class PayV3NotConfigured(Exception):
    """APIv3 keys are missing from the configuration."""


def library_failure(error: BaseException) -> bool:
    """wechatpayv3 reports its own failures (a response whose signature does not verify, a
    missing parameter, no platform certificate) as a bare `Exception`; anything else is not
    one of them and must propagate."""
    return type(error) is Exception


def v3_gateway(app: Flask | None = None) -> str | None:
    """The stand-in's origin when the configuration names one; None for WeChat itself."""
    base = (app or current_app).config.get("WECHAT_API_BASE")
    if not base or base == REAL_WECHAT_API_BASE:
        return None
    return base.rstrip("/")


def point_at(client: WeChatPay, gateway: str) -> None:
    core = client._core
    if not isinstance(getattr(core, GATEWAY_ATTRIBUTE, None), str):
        raise RuntimeError(
            f"wechatpayv3's Core no longer has {GATEWAY_ATTRIBUTE!r}: cannot point it at "
            f"{gateway}; refusing to talk to WeChat instead (see app/wechat/pay_v3_client.py)")
    setattr(core, GATEWAY_ATTRIBUTE, gateway)


def gateway_of(client: WeChatPay) -> str:
    return getattr(client._core, GATEWAY_ATTRIBUTE)


def _pem(cfg, name: str) -> str | None:
    """A PEM from the file the variable names, or the `_PEM` text the wiring set."""
    path = cfg.get(name)
    if path:
        return Path(path).read_text(encoding="utf-8")
    return cfg.get(f"{name}_PEM")


def _build(cfg) -> WeChatPay:
    private_key = _pem(cfg, "WECHAT_PAY_V3_PRIVATE_KEY")
    if not (private_key and cfg.get("WECHAT_PAY_V3_CERT_SERIAL")
            and cfg.get("WECHAT_PAY_APIV3_KEY")):
        raise PayV3NotConfigured("WeChat Pay APIv3 keys are not configured")
    common = dict(wechatpay_type=WeChatPayType.NATIVE, mchid=cfg["WECHAT_MCH_ID"],
                  private_key=private_key, cert_serial_no=cfg["WECHAT_PAY_V3_CERT_SERIAL"],
                  appid=cfg["WECHAT_APPID"], apiv3_key=cfg["WECHAT_PAY_APIV3_KEY"],
                  timeout=TIMEOUT)
    gateway = v3_gateway()
    public_key = _pem(cfg, "WECHAT_PAY_PUBLIC_KEY")
    if public_key and cfg.get("WECHAT_PAY_PUBLIC_KEY_ID"):
        client = WeChatPay(**common, public_key=public_key,
                           public_key_id=cfg["WECHAT_PAY_PUBLIC_KEY_ID"])
        if gateway:
            point_at(client, gateway)
        return client
    if gateway is None:  # certificates from the directory, else downloaded from WeChat
        return WeChatPay(**common, cert_dir=cfg.get("WECHAT_PAY_CERT_DIR"))
    # Certificates from a stand-in: the library downloads them while it is constructed, from
    # WeChat's host. Construct it in public-key mode (our own public key as a placeholder, so
    # nothing is downloaded), point it, then let it load the stand-in's certificates.
    own = serialization.load_pem_private_key(private_key.encode(), None).public_key()
    placeholder = own.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    client = WeChatPay(**common, public_key=placeholder, public_key_id="PLACEHOLDER")
    point_at(client, gateway)
    core = client._core
    core._public_key = core._public_key_id = None
    core._cert_dir = cfg["WECHAT_PAY_CERT_DIR"].rstrip("/") + "/" \
        if cfg.get("WECHAT_PAY_CERT_DIR") else None
    core._init_certificates()
    return client


def pay_v3_client() -> WeChatPay:
    """One client per app and configuration (certificate mode downloads at construction;
    keys load once)."""
    app = current_app._get_current_object()
    cfg = app.config
    key = (v3_gateway(app), cfg.get("WECHAT_MCH_ID"), cfg.get("WECHAT_PAY_V3_CERT_SERIAL"),
           cfg.get("WECHAT_PAY_PUBLIC_KEY_ID"), cfg.get("WECHAT_PAY_CERT_DIR"))
    clients = app.extensions.setdefault("xiangzhu.wechatpay_v3", {})
    client = clients.get(key)
    if client is None:
        with _lock:
            client = clients.get(key)
            if client is None:
                client = clients[key] = _build(cfg)
    return client


def known_serials(client: WeChatPay) -> tuple[str | None, set[int]]:
    """(the platform public key id, the serial numbers of the platform certificates held)."""
    core = client._core
    return core._public_key_id, {cert.serial_number for cert in core._certificates}


def serial_known(client: WeChatPay, serial: str) -> bool:
    """Is `serial` (a Wechatpay-Serial header) a key we hold? Checked before the library
    sees a notice: it would download certificates for any serial it does not know."""
    public_key_id, certificates = known_serials(client)
    if public_key_id is not None and serial == public_key_id:
        return True
    if not serial or len(serial) > 64 or any(c not in "0123456789abcdefABCDEF" for c in serial):
        return False
    return int(serial, 16) in certificates
