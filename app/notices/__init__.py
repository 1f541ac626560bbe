"""Notices: everyone told what happened, once — an in-app 通知 and a WeChat template message
for each (event, person), owed in the transaction of the change (app/notices/services.py).

Plugs in: the 通知 page (/me/notices), muting a campaign's messages from its page, and the
WeChat templates it sends (message_templates.py). It offers `register_campaign_audience` (who a
campaign's news goes to, e.g. donations' donors), so campaigns can tell its donors without
importing them."""
from flask import Flask


def register(app: Flask) -> None:
    from app.notices.message_templates import MESSAGE_TEMPLATES
    from app.notices.views import bp
    from app.wechat.messages import register_message_template

    app.register_blueprint(bp)
    for template in MESSAGE_TEMPLATES:
        register_message_template(app, template)
