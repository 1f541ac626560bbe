/* Donating: the amount picker, WeChat's pay sheet straight from 立即捐款 (inside WeChat), the
   order page (WeixinJSBridge, polling), "more" donations.
   Loaded by several partials on one page, so it runs once. No framework, ES2017. */
(function () {
  "use strict";
  if (window.__xiangzhuDonate) return;
  window.__xiangzhuDonate = true;

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  // --- donate form: a preset or a custom amount, never both; one submission ---------------
  function initForm(form) {
    var custom = form.querySelector("input[name=amount]");
    var presets = form.querySelectorAll("input[name=preset]");
    if (custom) {
      custom.addEventListener("input", function () {
        if (custom.value.trim()) presets.forEach(function (p) { p.checked = false; });
      });
    }
    presets.forEach(function (p) {
      p.addEventListener("change", function () { if (p.checked && custom) custom.value = ""; });
    });
    initChannelFee(form, custom, presets);
    var profile = form.querySelector("input[name=show_profile]");
    var anonymous = form.querySelector("input[name=anonymous]");
    if (profile && anonymous) {
      profile.addEventListener("change", function () { if (profile.checked) anonymous.checked = false; });
      anonymous.addEventListener("change", function () { if (anonymous.checked) profile.checked = false; });
    }
    var blessing = form.querySelector("textarea[name=blessing]");
    if (blessing) {
      // Changed after the warning: the server looks at the new words again.
      blessing.addEventListener("input", function () {
        if (!confirmedBlessing(form)) return;
        setBlessingWarning(form, "");
        var button = form.querySelector("[data-donate-submit]");
        if (button && !form.dataset.submitted) button.textContent = submitLabel(form);
      });
    }
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("[data-donate-submit]");
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      if (button) { button.disabled = true; button.textContent = "正在下单…"; }
      // Signed in inside WeChat: the order is made here and WeChat's pay sheet opens on this
      // page. Otherwise the form goes on (sign-in first, silently inside WeChat; or the QR).
      if (IN_WECHAT && form.dataset.signedIn && !(profile && profile.checked && !form.dataset.hasProfile)) {
        event.preventDefault();
        checkoutHere(form);
      }
    });
    // Back from the order page (bfcache): allow a new attempt with the same checkout key.
    window.addEventListener("pageshow", function (event) { if (event.persisted) ready(form); });
  }

  // --- inside WeChat: 立即捐款 → the pay sheet → the thank-you page -------------------------
  var IN_WECHAT = /MicroMessenger/i.test(navigator.userAgent);
  var BRIDGE_WAIT_MS = 3000;

  function ready(form, message) {
    delete form.dataset.submitted;
    var button = form.querySelector("[data-donate-submit]");
    if (button) { button.disabled = false; button.textContent = submitLabel(form); }
    say(form, message);
  }

  // A blessing holding a phone, ID, card number or e-mail: the server asks once (422
  // blessing_personal_data); sent again unchanged, it goes on to pay.
  function confirmedBlessing(form) {
    var flag = form.querySelector("[data-blessing-confirmed]");
    return Boolean(flag && flag.value === "1");
  }

  function submitLabel(form) { return confirmedBlessing(form) ? "不修改，继续捐款" : "立即捐款"; }

  function setBlessingWarning(form, message) {
    var flag = form.querySelector("[data-blessing-confirmed]");
    var box = form.querySelector("[data-blessing-warning]");
    if (flag) flag.value = message ? "1" : "";
    if (box) { box.textContent = message; box.hidden = !message; }
  }

  function say(form, message) {
    var status = form.querySelector("[data-donate-status]");
    if (!status) return;
    status.textContent = message || "";
    status.hidden = !message;
  }

  function newCheckoutKey(form) {
    var input = form.querySelector("input[name=checkout_key]");
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    if (input) input.value = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function checkoutHere(form) {
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (data) { return { status: r.status, ok: r.ok, data: data }; });
      })
      .then(function (res) {
        if (res.status === 401) { form.submit(); return; }  // signed out meanwhile: sign in first
        if (!res.ok) {
          if (res.data.error && res.data.error.code === "blessing_personal_data") {
            setBlessingWarning(form, res.data.error.message);
            ready(form);
            return;
          }
          if (res.data.error && res.data.error.code === "checkout_conflict") newCheckoutKey(form);
          ready(form, res.data.error ? res.data.error.message : "下单没有成功，请重试");
          return;
        }
        openPaySheet(form, res.data);
      })
      .catch(function () { form.submit(); });
  }

  function whenBridge(timeoutMs) {
    return new Promise(function (resolve) {
      if (window.WeixinJSBridge) { resolve(window.WeixinJSBridge); return; }
      var timer = window.setTimeout(function () { resolve(null); }, timeoutMs);
      document.addEventListener("WeixinJSBridgeReady", function () {
        window.clearTimeout(timer);
        resolve(window.WeixinJSBridge || null);
      }, false);
    });
  }

  function openPaySheet(form, sheet) {
    if (sheet.state === "paid") { go(sheet.next_url); return; }
    if (!sheet.jsapi) { go(sheet.order_url); return; }
    whenBridge(BRIDGE_WAIT_MS).then(function (bridge) {
      if (!bridge) { go(sheet.order_url); return; }  // no bridge: the order page
      bridge.invoke("getBrandWCPayRequest", sheet.jsapi, function (res) {
        var message = (res && res.err_msg) || "";
        if (/:ok$/.test(message)) {
          say(form, "");
          var button = form.querySelector("[data-donate-submit]");
          if (button) button.textContent = "正在确认支付结果…";
          untilPaid(sheet);
        } else if (/:cancel$/.test(message)) {
          newCheckoutKey(form);  // the unpaid order simply expires; a new choice, a new order
          ready(form, "已取消支付，可修改金额后重新捐款");
        } else {
          go(sheet.order_url);  // the pay sheet failed: the order page offers it again
        }
      });
    });
  }

  function untilPaid(sheet) {
    var started = Date.now();
    (function ask() {
      fetch(sheet.status_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.paid) { go(data.next_url || sheet.next_url); return; }
          if (Date.now() - started > 20000) { go(sheet.order_url); return; }  // it keeps asking
          window.setTimeout(ask, 800);
        })
        .catch(function () { window.setTimeout(ask, 1500); });
    })();
  }

  function payFromLink(form) {
    // Back from a silent sign-in: /c/<id>#pay=<out_trade_no> opens the order's pay sheet here.
    var match = /^#pay=([A-Za-z0-9_-]{6,64})$/.exec(window.location.hash);
    if (!match || !form.dataset.paySheetUrl) return;
    window.history.replaceState(null, "", window.location.pathname + window.location.search + "#donate");
    form.dataset.submitted = "1";
    var button = form.querySelector("[data-donate-submit]");
    if (button) { button.disabled = true; button.textContent = "正在打开微信支付…"; }
    fetch(form.dataset.paySheetUrl.replace("OUT_TRADE_NO", match[1]),
          { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (sheet) {
        if (!sheet) { ready(form, "订单不存在，请重新捐款"); return; }
        showAmount(form, sheet.amount_fen);
        openPaySheet(form, sheet);
      })
      .catch(function () { ready(form, "网络不稳定，请重试"); });
  }

  function showAmount(form, fen) {
    // The panel behind the pay sheet shows the amount of the order, not the default again.
    var yuan = fen % 100 ? (fen / 100).toFixed(2) : String(fen / 100);
    var preset = form.querySelector('input[name="preset"][value="' + yuan + '"]');
    var custom = form.querySelector('input[name="amount"]');
    form.querySelectorAll('input[name="preset"]').forEach(function (p) { p.checked = p === preset; });
    if (custom) custom.value = preset ? "" : yuan;
    var changed = preset || custom;
    if (changed) changed.dispatchEvent(new Event(preset ? "change" : "input", { bubbles: true }));
  }

  function go(url) { if (url) window.location.assign(url); }

  // --- the channel fee for the chosen amount, as the server computes it (integer fen) -------
  function yuanToFen(text) {
    var m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim().replace(/[,，]/g, ""));
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + (m[2] ? parseInt((m[2] + "0").slice(0, 2), 10) : 0);
  }

  function formatYuan(fen) {
    var yuan = String(Math.floor(fen / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = fen % 100;
    return cents ? yuan + "." + (cents < 10 ? "0" : "") + cents : yuan;
  }

  function initChannelFee(form, custom, presets) {
    var line = form.querySelector("[data-channel-fee]");
    var out = line && line.querySelector("[data-fee-amount]");
    if (!out) return;
    var bp = parseInt(line.dataset.feeBp, 10) || 0;
    function update() {
      var fen = custom && custom.value.trim() ? yuanToFen(custom.value) : null;
      var fee = fen === null ? null : Math.floor((fen * bp + 5000) / 10000);
      presets.forEach(function (p) { if (p.checked) fee = parseInt(p.dataset.feeFen, 10); });
      out.textContent = fee === null ? "按金额计" : "¥" + formatYuan(fee);
    }
    if (custom) custom.addEventListener("input", update);
    presets.forEach(function (p) { p.addEventListener("change", update); });
    update();
  }

  // --- order page ---------------------------------------------------------------------------
  function initOrder(card) {
    var stateEl = card.querySelector("[data-order-state]");
    var started = Date.now();
    var jsapiButton = card.querySelector("[data-jsapi]");

    function poll() {
      fetch(card.dataset.statusUrl, { headers: { Accept: "application/json" },
                                      credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return schedule();
          if (stateEl) stateEl.textContent = data.state_label;
          if (data.paid) return go(data.next_url || card.dataset.successUrl);
          if (data.state === "pending" || data.state === "created") return schedule();
          window.location.reload();  // closed or failed: show the page's final state
        })
        .catch(schedule);
    }

    function schedule() {
      var age = Date.now() - started;
      if (age > 30 * 60 * 1000) return;
      window.setTimeout(poll, age < 60 * 1000 ? 2000 : 5000);
    }

    function pay() {
      var params = JSON.parse(jsapiButton.dataset.jsapi);
      window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (res) {
        if (res && res.err_msg === "get_brand_wcpay_request:ok") {
          if (stateEl) stateEl.textContent = "正在确认支付结果…";
          poll();
        }
      });
    }

    if (jsapiButton) {
      var bridgeReady = function () { jsapiButton.addEventListener("click", pay); pay(); };
      if (window.WeixinJSBridge) bridgeReady();
      else document.addEventListener("WeixinJSBridgeReady", bridgeReady, false);
    }
    if (card.dataset.state === "pending" || card.dataset.state === "created") schedule();
  }

  // --- donations list: "more" by cursor, rendered as text (never as HTML) ----------------
  function initDonations(box) {
    var more = box.querySelector("[data-more]");
    var list = box.querySelector("[data-donation-list]");
    if (!more || !list) return;
    more.addEventListener("click", function (event) {
      event.preventDefault();
      var url = box.dataset.url + "?cursor=" + encodeURIComponent(more.dataset.cursor);
      more.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          data.donations.forEach(function (d) { list.appendChild(item(d)); });
          if (data.next_cursor) {
            more.dataset.cursor = data.next_cursor;
            more.removeAttribute("aria-busy");
          } else {
            more.remove();
          }
        })
        .catch(function () { window.location.assign(more.href); });
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The same avatar, name and relative time as templates/_avatar.html and the server's list.
  function avatar(d) {
    if (d.avatar_url && /^(\/|https:\/\/)/.test(d.avatar_url)) {
      var img = el("img", "avatar");
      img.src = d.avatar_url;
      img.alt = "";
      img.width = img.height = 36;
      img.referrerPolicy = "no-referrer";
      return img;
    }
    var nameless = d.name === "匿名" || d.name === "爱心人士";
    var bubble = el("span", "avatar " + (nameless ? "avatar-heart" : "avatar-letter"),
                    nameless ? "♥" : Array.from(d.name)[0]);
    bubble.style.cssText = "width:36px;height:36px;font-size:16px";
    bubble.setAttribute("aria-hidden", "true");
    return bubble;
  }

  function ago(iso) {
    var seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return "刚刚";
    if (seconds < 3600) return Math.floor(seconds / 60) + "分钟前";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "小时前";
    if (seconds < 30 * 86400) return Math.floor(seconds / 86400) + "天前";
    return new Date(iso).toLocaleDateString("zh-CN");
  }

  function item(d) {
    var li = el("li", "donation-person");
    li.appendChild(avatar(d));
    var body = el("div");
    var line = el("div", "donation-line");
    var name = el("strong", "", d.name);
    if (d.mine) name.appendChild(el("small", "mine-tag", "我"));
    line.appendChild(name);
    line.appendChild(el("span", "donation-amount", "¥" + d.amount_yuan));
    body.appendChild(line);
    if (d.blessing) body.appendChild(el("p", "donation-blessing", d.blessing));
    var time = el("time", "hint", ago(d.paid_at));
    time.setAttribute("datetime", d.paid_at);
    body.appendChild(time);
    if (d.blessing && !d.mine) {
      var report = el("a", "hint blessing-report", "举报");
      report.href = "/donations/" + encodeURIComponent(d.id) + "/blessing/report";
      report.rel = "nofollow";
      body.appendChild(report);
    }
    li.appendChild(body);
    return li;
  }

  onReady(function () {
    document.querySelectorAll("[data-donate-form]").forEach(initForm);
    var first = document.querySelector("[data-donate-form]");
    if (first) payFromLink(first);
    document.querySelectorAll("[data-order]").forEach(initOrder);
    document.querySelectorAll("[data-donations]").forEach(initDonations);
  });
})();
