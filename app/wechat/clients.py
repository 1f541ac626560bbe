"""wechatpy clients pointed at WeChat, or at the stand-in, by base URL.

wechatpy keeps its base URLs as class attributes; we set them on instances so one process can
talk to whichever base the configuration names. This module is the only place that knows how.
"""
from __future__ import annotations

from flask import current_app
from wechatpy import WeChatClient
from wechatpy.oauth import WeChatOAuth
from wechatpy.pay import WeChatPay


def _base() -> str | None:
    return current_app.config.get("WECHAT_API_BASE")


def oauth_client(redirect_uri: str, scope: str = "snsapi_userinfo", state: str = "") -> WeChatOAuth:
    """One per request: fetch_access_token stores the user's token on the object."""
    cfg = current_app.config
    client = WeChatOAuth(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], redirect_uri, scope, state)
    base = _base()
    if base:
        client.API_BASE_URL = base
        client.OAUTH_BASE_URL = base + "connect/"
    return client


class _BasedWeChatClient(WeChatClient):
    """WeChatClient whose token URL follows API_BASE_URL (upstream hard-codes WeChat's host)."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid,
                    "secret": self.secret},
        )


def api_client(session=None) -> WeChatClient:
    cfg = current_app.config
    base = _base()
    if base:
        client = _BasedWeChatClient(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], session=session,
                                    timeout=5)
        client.API_BASE_URL = base + "cgi-bin/"
        return client
    return WeChatClient(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], session=session, timeout=5)


def pay_client() -> WeChatPay:
    cfg = current_app.config
    client = WeChatPay(cfg["WECHAT_APPID"], cfg["WECHAT_API_KEY"], cfg["WECHAT_MCH_ID"],
                       mch_cert=cfg.get("WECHAT_MCH_CERT"), mch_key=cfg.get("WECHAT_MCH_KEY"),
                       timeout=5)
    base = _base()
    if base:
        client.API_BASE_URL = base
    return client
