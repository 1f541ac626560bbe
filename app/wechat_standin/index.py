"""The stand-in's root page: what it is (a local stand-in for WeChat, not WeChat) and what it
stands in for, with the paths, in Chinese and English."""
from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, render_template, request

bp = Blueprint("standin_index", __name__)


class Endpoint(NamedTuple):
    methods: str
    path: str
    zh: str
    en: str


class Service(NamedTuple):
    zh: str
    en: str
    endpoints: tuple[Endpoint, ...]
    note: str = ""


STANDS_IN_FOR = (
    Service("网页授权登录", "OAuth web sign-in", (
        Endpoint("GET, POST", "/connect/oauth2/authorize",
                 "snsapi_base 静默授权（无页面，直接带 code 返回，首次为本浏览器新建测试用户）；"
                 "snsapi_userinfo 授权页：选择或输入一位测试用户",
                 "snsapi_base: silent (no page, straight back with a code; a new test user the "
                 "first time in this browser); snsapi_userinfo: the consent page, pick or type "
                 "a test user"),
        Endpoint("GET", "/sns/oauth2/access_token", "用 code 换取用户 access_token",
                 "code → user access token"),
        Endpoint("GET", "/sns/oauth2/refresh_token", "刷新用户 access_token",
                 "refresh a user access token"),
        Endpoint("GET", "/sns/userinfo", "用户资料（snsapi_userinfo）",
                 "the user's profile (snsapi_userinfo)"),
        Endpoint("GET", "/sns/auth", "检验用户 access_token 是否有效",
                 "is a user access token valid"),
        Endpoint("GET", "/standin/avatar/<openid>.svg", "测试用户的头像", "test users' avatars"),
    )),
    Service("JS-SDK 票据与分享", "JS-SDK tickets and sharing", (
        Endpoint("GET", "/cgi-bin/token", "公众号 access_token", "the app's access token"),
        Endpoint("GET", "/cgi-bin/ticket/getticket", "JS-SDK 的 jsapi_ticket",
                 "the JS-SDK jsapi ticket"),
        Endpoint("GET", "/open/js/jweixin-1.6.0.js", "替代的 wx 脚本", "a substitute wx script"),
        Endpoint("POST", "/standin/jssdk/verify", "校验 wx.config 的签名",
                 "checks wx.config's signature"),
        Endpoint("POST", "/standin/jssdk/share", "记录网页设置的分享卡片",
                 "records a share card set by the page"),
        Endpoint("GET", "/standin/jssdk/shares", "已记录的分享卡片", "the recorded share cards"),
    )),
    Service("微信支付 v2", "WeChat Pay v2", (
        Endpoint("POST", "/pay/unifiedorder", "统一下单", "unified order"),
        Endpoint("POST", "/pay/orderquery", "查询订单", "order query"),
        Endpoint("POST", "/pay/closeorder", "关闭订单", "close order"),
        Endpoint("POST", "/secapi/pay/refund", "申请退款（退款通知中的 req_info 按微信方式加密）",
                 "refund (the refund notice's req_info encrypted as WeChat does)"),
        Endpoint("GET", "/standin/cashier/<key>", "收银台：测试者确认或取消支付",
                 "the cashier page, where a tester confirms or cancels"),
        Endpoint("POST", "/standin/pay/<out_trade_no>/notify", "测试钩子：支付并发送通知",
                 "test hook: pay, then send the notification"),
        Endpoint("POST", "/standin/pay/<out_trade_no>/pay", "测试钩子：支付但不发通知",
                 "test hook: pay without a notification (a lost one)"),
        Endpoint("GET", "/standin/pay/<out_trade_no>/bill", "测试钩子：订单的手续费账单",
                 "test hook: the order's bill line (fees)"),
    ), note="支付与退款通知以微信的签名 XML POST 到订单的 notify_url，按微信的重发节奏（压缩后）"
            "重发，直到对方回复 SUCCESS。 Payment and refund notifications are POSTed, signed XML, "
            "to the order's notify_url and resent on WeChat's schedule (compressed) until the "
            "reply says SUCCESS."),
    Service("微信支付 APIv3", "WeChat Pay APIv3", (
        Endpoint("POST", "/v3/pay/transactions/jsapi", "JSAPI下单", "JSAPI order"),
        Endpoint("POST", "/v3/pay/transactions/native", "Native下单", "Native order"),
        Endpoint("GET", "/v3/pay/transactions/out-trade-no/<out_trade_no>", "商户订单号查询订单",
                 "query by out_trade_no"),
        Endpoint("POST", "/v3/pay/transactions/out-trade-no/<out_trade_no>/close", "关闭订单",
                 "close order"),
        Endpoint("POST", "/v3/refund/domestic/refunds", "退款申请", "refund"),
        Endpoint("GET", "/v3/refund/domestic/refunds/<out_refund_no>", "查询单笔退款",
                 "refund query"),
        Endpoint("GET", "/v3/certificates", "下载平台证书（AES-GCM 加密）",
                 "platform certificates (AES-GCM sealed)"),
        Endpoint("GET", "/standin/v3/platform", "微信支付公钥及其 ID（公钥模式配置用）",
                 "the platform public key and its id (for public-key mode)"),
        Endpoint("POST", "/standin/v3/refund/<out_refund_no>/notify",
                 "测试钩子：发送退款通知（?status=SUCCESS|ABNORMAL|CLOSED）",
                 "test hook: send a refund notice"),
    ), note="请求须带商户私钥的 WECHATPAY2-SHA256-RSA2048 签名；应答与通知由替身的平台密钥签名，"
            "通知的 resource 以 APIv3 密钥 AEAD_AES_256_GCM 加密，按微信的重发节奏重发，直到对方回复 "
            "200/204。收银台与测试钩子与 v2 共用。 Requests must be signed with the merchant's key; "
            "responses and notices are signed with the stand-in's platform keys, notices are "
            "resent until answered 200/204. The cashier and hooks are shared with v2."),
    Service("微信内置浏览器", "WeChat's browser", (
        Endpoint("GET", "/standin/bridge.js", "替代的 WeixinJSBridge（模拟微信的支付面板）",
                 "a substitute WeixinJSBridge, with a pay sheet like WeChat's"),
        Endpoint("POST", "/standin/bridge/order", "按微信的规则校验 getBrandWCPayRequest 参数",
                 "checks getBrandWCPayRequest's parameters as WeChat does"),
        Endpoint("POST", "/standin/bridge/pay", "付款人确认支付：订单支付并通知商户",
                 "the payer confirms: the order is paid and the merchant notified"),
    ), note="相助仅在模拟服务开启、且浏览器 User-Agent 含 MicroMessenger 时注入此脚本。 The app "
            "injects it only while the stand-in is on, for a MicroMessenger user agent."),
    Service("模板消息（服务通知）", "Template (service) messages", (
        Endpoint("POST", "/cgi-bin/message/template/send", "发送模板消息",
                 "send a template message"),
        Endpoint("GET", "/standin/messages", "已发送的模板消息（?touser= 过滤）",
                 "the messages sent (?touser= filters)"),
    )),
)


@bp.get("/")
def index():
    return render_template("standin/index.html", services=STANDS_IN_FOR,
                           base_url=request.host_url)
