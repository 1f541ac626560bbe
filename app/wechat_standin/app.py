"""The WeChat stand-in: a small Flask app that speaks WeChat's HTTP protocol.

Paths are WeChat's own, all under one base URL (so `{base}sns/oauth2/access_token`,
`{base}connect/oauth2/authorize`, `{base}cgi-bin/token`, `{base}pay/unifiedorder`).
State is kept in memory: the stand-in is one process.
"""
from __future__ import annotations

from flask import Flask

from app.wechat_standin.state import StandinState


def create_standin(appid: str, secret: str, mch_id: str, api_key: str,
                   resend_schedule: tuple[float, ...] = (2, 2, 5, 10, 30, 60)) -> Flask:
    standin = Flask(__name__, template_folder="templates")
    standin.config.update(APPID=appid, SECRET=secret, MCH_ID=mch_id, API_KEY=api_key,
                          RESEND_SCHEDULE=resend_schedule, JSON_AS_ASCII=False)
    standin.extensions["standin_state"] = StandinState()
    from app.wechat_standin.index import bp as index_bp
    from app.wechat_standin.jssdk import bp as jssdk_bp
    from app.wechat_standin.messages import bp as messages_bp
    from app.wechat_standin.oauth import bp as oauth_bp
    from app.wechat_standin.pay import bp as pay_bp

    for blueprint in (index_bp, oauth_bp, pay_bp, jssdk_bp, messages_bp):
        standin.register_blueprint(blueprint)
    return standin


def state_of(standin: Flask) -> StandinState:
    return standin.extensions["standin_state"]
