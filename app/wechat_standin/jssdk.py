"""Stand-in for WeChat's JS-SDK: the `jweixin` script and what it would tell WeChat.

  GET  open/js/jweixin-1.6.0.js    a substitute `wx` object (config, ready, error,
                                   updateAppMessageShareData, updateTimelineShareData, checkJsApi,
                                   chooseWXPay through the stand-in's WeixinJSBridge, bridge.py)
  POST standin/jssdk/verify        wx.config: the signature checked against the tickets issued
                                   by cgi-bin/ticket/getticket (expired ones no longer count)
  POST standin/jssdk/share         a share card set by the page, recorded in StandinState.shares
  GET  standin/jssdk/shares        the recorded share cards, newest last (?link= filters)

The page's origin differs from the stand-in's, so the script posts JSON as text/plain (no CORS
pre-flight) and the answers allow any origin.
"""
from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from app.wechat_standin.state import StandinState

bp = Blueprint("standin_jssdk", __name__)

SHARE_FIELDS = {
    "updateAppMessageShareData": ("title", "desc", "link", "imgUrl"),
    "updateTimelineShareData": ("title", "link", "imgUrl"),
}


def _state() -> StandinState:
    return current_app.extensions["standin_state"]


def _json(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json")


@bp.after_request
def _allow_any_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _payload() -> dict:
    try:
        data = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def signature_for(ticket: str, noncestr: str, timestamp: str, url: str) -> str:
    """WeChat's JS-SDK signature, computed independently of the app's wechatpy code."""
    raw = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def _config_problem(data: dict) -> str | None:
    """None when wx.config's parameters are valid for the page, else WeChat's errMsg."""
    if data.get("appId") != current_app.config["APPID"]:
        return "config:invalid appId"
    url = str(data.get("url", "")).split("#", 1)[0]
    if not url.startswith(("http://", "https://")):
        return "config:invalid url domain"
    state = _state()
    with state.lock:
        now = state.clock()
        tickets = [ticket for ticket, expires_at in state.jsapi_tickets.items() if expires_at > now]
    expected = {signature_for(ticket, str(data.get("nonceStr", "")), str(data.get("timestamp", "")),
                              url) for ticket in tickets}
    if str(data.get("signature", "")) not in expected:
        return "config:invalid signature"
    return None


@bp.route("/standin/jssdk/verify", methods=["POST", "OPTIONS"])
def verify():
    if request.method == "OPTIONS":
        return _json({})
    data = _payload()
    problem = _config_problem(data)
    state = _state()
    with state.lock:
        state.jssdk_configs.append({"url": data.get("url"), "appId": data.get("appId"),
                                    "ok": problem is None, "at": state.clock()})
    return _json({"errMsg": problem or "config:ok"})


@bp.route("/standin/jssdk/share", methods=["POST", "OPTIONS"])
def share():
    if request.method == "OPTIONS":
        return _json({})
    data = _payload()
    api = data.get("api")
    if api not in SHARE_FIELDS:
        return _json({"errMsg": f"{api}:fail, unknown api"})
    problem = _config_problem(data)
    if problem:
        return _json({"errMsg": f"{api}:fail, {problem}"})
    page = urlsplit(str(data.get("url", "")))
    link = urlsplit(str(data.get("link", "")))
    if link.netloc != page.netloc:
        # WeChat: the link's domain must be the page's (its JS safe domain).
        return _json({"errMsg": f"{api}:fail, the link must be in the page's domain"})
    record = {field: str(data.get(field, "")) for field in SHARE_FIELDS[api]}
    record.update(api=api, url=str(data.get("url", "")).split("#", 1)[0],
                  appId=data.get("appId"))
    state = _state()
    with state.lock:
        record["at"] = state.clock()
        state.shares.append(record)
    return _json({"errMsg": f"{api}:ok"})


@bp.get("/standin/jssdk/shares")
def shares():
    state = _state()
    link = request.args.get("link", "")
    with state.lock:
        found = [dict(item) for item in state.shares if link in item.get("link", "")]
    return _json({"shares": found})


@bp.get("/open/js/jweixin-1.6.0.js")
def script():
    response = Response(JWEIXIN_JS, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


JWEIXIN_JS = r"""/* 相助 WeChat stand-in: a substitute for WeChat's jweixin-1.6.0.js. It checks wx.config's
   signature with the stand-in and records each share card there instead of in WeChat. */
(function () {
  "use strict";
  var me = document.currentScript;
  var base = me ? me.src.replace(/open\/js\/[^\/]*$/, "") : "/";
  var SHARE_APIS = { updateAppMessageShareData: 1, updateTimelineShareData: 1 };
  var st = { ok: null, errMsg: "", cfg: null, ready: [], error: [], pending: [] };

  function post(path, payload) {
    return fetch(base + path, { method: "POST", headers: { "Content-Type": "text/plain" },
                                body: JSON.stringify(payload) }).then(function (r) { return r.json(); });
  }
  function pageUrl() { return location.href.split("#")[0]; }
  function settle(ok, errMsg) {
    st.ok = ok; st.errMsg = errMsg;
    var queue = ok ? st.ready : st.error;
    st.ready = []; st.error = [];
    queue.forEach(function (fn) { try { fn(ok ? undefined : { errMsg: errMsg }); } catch (e) { console.error(e); } });
    var pending = st.pending; st.pending = [];
    pending.forEach(function (run) { run(); });
  }
  function done(opts, ok, errMsg) {
    var res = { errMsg: errMsg };
    if (ok && opts.success) opts.success(res);
    if (!ok && opts.fail) opts.fail(res);
    if (opts.complete) opts.complete(res);
  }
  function badge(record) {
    var el = document.getElementById("wx-standin-card");
    if (!el) {
      el = document.createElement("div");
      el.id = "wx-standin-card";
      el.setAttribute("style", "position:fixed;top:6px;right:6px;z-index:9999;max-width:70%;" +
        "background:#07c160;color:#fff;font-size:12px;padding:4px 8px;border-radius:12px;" +
        "box-shadow:0 1px 4px rgba(0,0,0,.2);cursor:pointer;word-break:break-all");
      el.addEventListener("click", function () { el.classList.toggle("open"); render(); });
      document.body.appendChild(el);
    }
    el.dataset[record.api] = JSON.stringify(record);
    function render() {
      var card = JSON.parse(el.dataset.updateAppMessageShareData || el.dataset.updateTimelineShareData);
      el.textContent = el.classList.contains("open")
        ? "模拟分享卡片：" + card.title + " — " + (card.desc || "") + " → " + card.link
        : "模拟微信：分享卡片已设置";
    }
    render();
  }
  function call(api, fields, opts) {
    opts = opts || {};
    var run = function () {
      if (!st.ok) { done(opts, false, api + ":fail, " + (st.errMsg || "not configured")); return; }
      var data = { api: api, url: pageUrl(), appId: st.cfg.appId, timestamp: st.cfg.timestamp,
                   nonceStr: st.cfg.nonceStr, signature: st.cfg.signature };
      fields.forEach(function (f) { data[f] = opts[f] || ""; });
      post("standin/jssdk/share", data).then(function (res) {
        var ok = res.errMsg === api + ":ok";
        if (ok) { data.api = api; badge(data); }
        done(opts, ok, res.errMsg);
      }, function () { done(opts, false, api + ":fail, network"); });
    };
    if (st.ok === null) st.pending.push(run); else run();
  }

  window.wx = window.jWeixin = {
    __standin: true,
    config: function (cfg) {
      st.cfg = cfg || {};
      post("standin/jssdk/verify", { appId: st.cfg.appId, timestamp: st.cfg.timestamp,
                                     nonceStr: st.cfg.nonceStr, signature: st.cfg.signature,
                                     jsApiList: st.cfg.jsApiList, url: pageUrl() })
        .then(function (res) { settle(res.errMsg === "config:ok", res.errMsg); },
              function () { settle(false, "config:fail, network"); });
    },
    ready: function (fn) { if (st.ok === true) fn(); else st.ready.push(fn); },
    error: function (fn) { if (st.ok === false) fn({ errMsg: st.errMsg }); else st.error.push(fn); },
    updateAppMessageShareData: function (o) { call("updateAppMessageShareData", ["title", "desc", "link", "imgUrl"], o); },
    updateTimelineShareData: function (o) { call("updateTimelineShareData", ["title", "link", "imgUrl"], o); },
    chooseWXPay: function (o) {
      // WeChat's wx.chooseWXPay is getBrandWCPayRequest with the config's appId (stand-in bridge).
      o = o || {};
      if (!window.WeixinJSBridge) { done(o, false, "chooseWXPay:fail, not in WeChat"); return; }
      window.WeixinJSBridge.invoke("getBrandWCPayRequest", {
        appId: st.cfg && st.cfg.appId, timeStamp: String(o.timestamp), nonceStr: o.nonceStr,
        "package": o["package"], signType: o.signType, paySign: o.paySign
      }, function (res) {
        var m = (res && res.err_msg) || "";
        if (/:cancel$/.test(m)) {
          var r = { errMsg: "chooseWXPay:cancel" };
          if (o.cancel) o.cancel(r);
          if (o.complete) o.complete(r);
          return;
        }
        done(o, /:ok$/.test(m), /:ok$/.test(m) ? "chooseWXPay:ok" : "chooseWXPay:fail");
      });
    },
    checkJsApi: function (o) {
      o = o || {};
      var result = {};
      (o.jsApiList || []).forEach(function (n) { result[n] = n in SHARE_APIS; });
      var res = { errMsg: "checkJsApi:ok", checkResult: result };
      if (o.success) o.success(res);
      if (o.complete) o.complete(res);
    }
  };
})();
"""
