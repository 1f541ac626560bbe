"""The WeChat stand-in: a small Flask app that speaks WeChat's HTTP protocol.

Paths are WeChat's own, all under one base URL (so `{base}sns/oauth2/access_token`,
`{base}connect/oauth2/authorize`, `{base}cgi-bin/token`, `{base}pay/unifiedorder`).
State is kept in memory: the stand-in is one process. WeChat Pay APIv3 (v3/) needs the
merchant's public key and serial (to check its requests) and the APIv3 key; the stand-in makes
its own platform keys at start.
"""
from __future__ import annotations

from flask import Flask

from app.wechat_standin.state import StandinState


def create_standin(appid: str, secret: str, mch_id: str, api_key: str,
                   resend_schedule: tuple[float, ...] = (2, 2, 5, 10, 30, 60), *,
                   merchant_public_key: str | None = None, merchant_serial: str | None = None,
                   apiv3_key: str | None = None, merchant_name: str = "相助大病筹款") -> Flask:
    from app.wechat_standin.v3.crypto import load_public_key, make_platform_keys

    standin = Flask(__name__, template_folder="templates")
    standin.config.update(APPID=appid, SECRET=secret, MCH_ID=mch_id, API_KEY=api_key,
                          RESEND_SCHEDULE=resend_schedule, JSON_AS_ASCII=False,
                          MERCHANT_PUBLIC_KEY=load_public_key(merchant_public_key)
                          if merchant_public_key else None,
                          MERCHANT_SERIAL=merchant_serial, APIV3_KEY=apiv3_key,
                          MERCHANT_NAME=merchant_name)  # the 商户简称 WeChat's pay sheet shows
    standin.extensions["standin_state"] = StandinState()
    standin.extensions["standin_v3_keys"] = make_platform_keys()
    from app.wechat_standin.bridge import bp as bridge_bp
    from app.wechat_standin.index import bp as index_bp
    from app.wechat_standin.jssdk import bp as jssdk_bp
    from app.wechat_standin.messages import bp as messages_bp
    from app.wechat_standin.oauth import bp as oauth_bp
    from app.wechat_standin.pay import bp as pay_bp
    from app.wechat_standin.v3.bills import bp as bills_v3_bp
    from app.wechat_standin.v3.pay import bp as pay_v3_bp

    from app.wechat_standin.v3.transfer import bp as transfer_v3_bp

    for blueprint in (index_bp, oauth_bp, pay_bp, pay_v3_bp, bills_v3_bp, transfer_v3_bp, jssdk_bp,
                      messages_bp, bridge_bp):
        standin.register_blueprint(blueprint)
    return standin


def state_of(standin: Flask) -> StandinState:
    return standin.extensions["standin_state"]


def platform_keys_of(standin: Flask):
    """The stand-in's v3 platform keys (v3.crypto.PlatformKeys)."""
    return standin.extensions["standin_v3_keys"]
