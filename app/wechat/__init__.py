"""WeChat: wechatpy clients pointed at a base URL, OAuth, the JS-SDK, tokens and messages.

Plugs in: the periodic refresh of the access token and jsapi ticket, the periodic delivery
of template messages still owed (`messages.deliver_due`), and, while the stand-in is on, its
WeixinJSBridge script in every page (`standin_bridge_url`, read by base.html). Other features
declare their templates with `messages.register_message_template`."""
from flask import Flask

TOKEN_REFRESH_SECONDS = 300
MESSAGE_DELIVERY_SECONDS = 60


def register(app: Flask) -> None:
    from app.core.plugins import PeriodicJob, register_periodic_jobs
    from app.wechat.jssdk import standin_bridge_url
    from app.wechat.messages import deliver_due
    from app.wechat.token_cache import refresh_wechat_tokens

    register_periodic_jobs(app, PeriodicJob(refresh_wechat_tokens, TOKEN_REFRESH_SECONDS),
                           PeriodicJob(deliver_due, MESSAGE_DELIVERY_SECONDS, "notifications"))
    app.context_processor(lambda: {"standin_bridge_url": standin_bridge_url()})
