"""JS-SDK configuration for a page: `wx.config` parameters signed with the jsapi ticket.

The signature is wechatpy's `WeChatJSAPI.get_jsapi_signature` (SHA-1 over
`jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, the URL without its #fragment), the ticket comes
from the shared token cache. WeChat requires the page to load its own `jweixin` script from its
servers; when WECHAT_API_BASE names another WeChat (the stand-in), that one serves the script.
"""
from __future__ import annotations

import logging
import time

from flask import current_app
from wechatpy.client.api.jsapi import WeChatJSAPI
from wechatpy.utils import random_string

from app.config import REAL_WECHAT_API_BASE
from app.wechat.token_cache import TokenUnavailable, token_cache

log = logging.getLogger(__name__)

WECHAT_JSSDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
SHARE_APIS = ["updateAppMessageShareData", "updateTimelineShareData"]


def sign(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """The JS-SDK signature, exactly as WeChat documents it."""
    return WeChatJSAPI().get_jsapi_signature(noncestr, ticket, timestamp, url.split("#", 1)[0])


def config_for(url: str, js_api_list: list[str] | None = None) -> dict | None:
    """`wx.config` parameters for a page URL, or None when no ticket can be had right now
    (the page then simply shares without a custom card)."""
    try:
        ticket = token_cache().jsapi_ticket()
    except TokenUnavailable as error:  # one line per request: an outage must not flood the log
        log.warning("no jsapi ticket, sharing falls back to WeChat's default card: %s", error)
        return None
    noncestr = random_string(16)
    timestamp = int(time.time())
    return {
        "debug": False,
        "appId": current_app.config["WECHAT_APPID"],
        "timestamp": timestamp,
        "nonceStr": noncestr,
        "signature": sign(ticket, noncestr, timestamp, url),
        "jsApiList": list(js_api_list or SHARE_APIS),
    }


def script_url() -> str:
    """WeChat's jweixin script, served by whichever WeChat the app is configured to talk to."""
    configured = current_app.config.get("WECHAT_JSSDK_URL")
    if configured:
        return configured
    base = current_app.config.get("WECHAT_API_BASE")
    if base and base != REAL_WECHAT_API_BASE:
        return base + "open/js/jweixin-1.6.0.js"
    return WECHAT_JSSDK_URL


def standin_bridge_url() -> str | None:
    """The stand-in's WeixinJSBridge script (it plays WeChat's browser), only while the stand-in
    is on; real WeChat puts its own bridge in every page, so production never loads one. The
    script itself stays idle outside a MicroMessenger user agent, so pages cached for every
    visitor alike may carry it."""
    base = current_app.config.get("WECHAT_API_BASE")
    if not current_app.config.get("WECHAT_STANDIN") or not base or base == REAL_WECHAT_API_BASE:
        return None
    return base + "standin/bridge.js"
