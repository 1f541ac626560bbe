"""The stand-in's root page says it is a local stand-in, not WeChat, and lists what it stands in
for with paths it really answers."""
from __future__ import annotations

import re

from app.config import standin_credentials
from app.wechat_standin.app import create_standin
from app.wechat_standin.index import STANDS_IN_FOR

ANY_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _standin():
    creds = standin_credentials()
    return create_standin(creds["WECHAT_APPID"], creds["WECHAT_SECRET"], creds["WECHAT_MCH_ID"],
                          creds["WECHAT_API_KEY"])


def _unconverted(rule: str) -> str:
    return ANY_CONVERTER.sub(r"<\1>", rule)


def test_root_page_says_what_it_is_in_chinese_and_english():
    page = _standin().test_client().get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "不是微信" in text and "not WeChat" in text
    for heading in ("网页授权登录", "OAuth web sign-in", "JS-SDK", "微信支付 v2", "WeChat Pay v2",
                    "统一下单", "申请退款", "收银台", "notify_url", "模板消息",
                    "Template (service) messages"):
        assert heading in text
    assert "/standin/pay/&lt;out_trade_no&gt;/notify" in text  # paths shown, escaped


def test_every_listed_path_is_one_the_standin_answers_with_those_methods():
    standin = _standin()
    rules = {}
    for rule in standin.url_map.iter_rules():
        rules.setdefault(_unconverted(rule.rule), set()).update(rule.methods)
    listed = [endpoint for service in STANDS_IN_FOR for endpoint in service.endpoints]
    assert len(listed) >= 20
    for endpoint in listed:
        assert endpoint.path in rules, endpoint.path
        assert set(endpoint.methods.split(", ")) <= rules[endpoint.path], endpoint
