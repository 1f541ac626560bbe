/* 相助 WeChat stand-in: the WeixinJSBridge that WeChat's browser puts in every page, with a pay
   sheet that looks like WeChat's. Development and tests only: the app injects it only while the
   stand-in is on, and it plays only in a browser whose user agent says MicroMessenger. */
(function () {
  "use strict";
  if (window.WeixinJSBridge || !/MicroMessenger/i.test(navigator.userAgent)) return;
  var me = document.currentScript;
  var base = me ? me.src.replace(/standin\/bridge\.js.*$/, "") : "/";
  var PAY = "get_brand_wcpay_request";
  var open = false;

  function post(path, payload) {
    return fetch(base + path, { method: "POST", credentials: "include",
                                headers: { "Content-Type": "text/plain" },
                                body: JSON.stringify(payload) })
      .then(function (r) { return r.json(); });
  }

  function yuan(fen) {
    var cents = fen % 100;
    return Math.floor(fen / 100) + "." + (cents < 10 ? "0" : "") + cents;
  }

  function el(tag, style, text) {
    var node = document.createElement(tag);
    if (style) node.setAttribute("style", style);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sheet(params, info, done) {
    var overlay = el("div", "position:fixed;inset:0;z-index:2147483000;background:rgba(0,0,0,.55);" +
      "font:16px/1.5 -apple-system,'PingFang SC','Hiragino Sans GB','Microsoft YaHei',sans-serif;" +
      "color:#191919");
    overlay.id = "wx-standin-paysheet";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "微信支付");
    var panel = el("div", "position:absolute;left:0;right:0;bottom:0;background:#fff;" +
      "border-radius:12px 12px 0 0;padding:14px 20px calc(20px + env(safe-area-inset-bottom));" +
      "text-align:center;box-shadow:0 -2px 12px rgba(0,0,0,.15)");
    var close = el("button", "position:absolute;left:10px;top:8px;border:0;background:none;" +
      "font-size:26px;line-height:1;color:#7f7f7f;padding:6px 10px;cursor:pointer", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    var title = el("p", "margin:0 0 18px;font-size:15px;color:#7f7f7f", "微信支付");
    var merchant = el("p", "margin:0;font-size:16px", info.merchant);
    var amount = el("p", "margin:4px 0 18px;font-size:40px;font-weight:600;letter-spacing:.5px",
      "¥" + yuan(info.total_fee));
    var method = el("div", "display:flex;justify-content:space-between;padding:12px 0;" +
      "border-top:1px solid #eee;border-bottom:1px solid #eee;font-size:15px;color:#191919");
    method.appendChild(el("span", "color:#7f7f7f", "付款方式"));
    method.appendChild(el("span", "", "零钱（模拟）"));
    var payButton = el("button", "display:block;width:100%;margin:22px 0 10px;border:0;" +
      "border-radius:8px;background:#07c160;color:#fff;font-size:17px;font-weight:600;" +
      "padding:13px;cursor:pointer", "支付");
    payButton.type = "button";
    var note = el("p", "margin:0;font-size:12px;color:#b2b2b2", "微信模拟服务 · 不会真实扣款");
    [close, title, merchant, amount, method, payButton, note].forEach(function (n) {
      panel.appendChild(n);
    });
    overlay.appendChild(panel);
    document.body.appendChild(overlay);

    function finish(errMsg) { overlay.remove(); open = false; done({ err_msg: errMsg }); }

    close.addEventListener("click", function () { finish(PAY + ":cancel"); });
    payButton.addEventListener("click", function () {
      payButton.disabled = true;
      payButton.textContent = "正在支付…";
      post("standin/bridge/pay", params).then(function (res) {
        if (res.err_msg !== PAY + ":ok") { finish(res.err_msg); return; }
        panel.replaceChildren(el("p", "margin:28px 0 6px;font-size:44px;color:#07c160", "✓"),
                              el("p", "margin:0 0 28px;font-size:18px", "支付成功"));
        window.setTimeout(function () { finish(PAY + ":ok"); }, 500);
      }, function () { finish(PAY + ":fail, network"); });
    });
  }

  window.WeixinJSBridge = {
    __standin: true,
    invoke: function (api, params, callback) {
      var done = typeof callback === "function" ? callback : function () {};
      if (api !== "getBrandWCPayRequest") {
        window.setTimeout(function () { done({ err_msg: api + ":fail, the stand-in plays only getBrandWCPayRequest" }); });
        return;
      }
      if (open) return;
      open = true;
      post("standin/bridge/order", params || {}).then(function (info) {
        if (info.err_msg !== PAY + ":ready") { open = false; done({ err_msg: info.err_msg }); return; }
        sheet(params, info, done);
      }, function () { open = false; done({ err_msg: PAY + ":fail, network" }); });
    },
    on: function () {},
    call: function () {}
  };

  function announce() { document.dispatchEvent(new Event("WeixinJSBridgeReady")); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", announce);
  else window.setTimeout(announce, 0);
})();
