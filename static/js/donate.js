/* Donating: the amount picker, the order page (WeixinJSBridge, polling), "more" donations.
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
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("[data-donate-submit]");
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      if (button) { button.disabled = true; button.textContent = "正在下单…"; }
    });
    // Back from the order page (bfcache): allow a new attempt with the same checkout key.
    window.addEventListener("pageshow", function () {
      delete form.dataset.submitted;
      var button = form.querySelector("[data-donate-submit]");
      if (button) { button.disabled = false; button.textContent = "立即捐款"; }
    });
  }

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

    function go(url) { if (url) window.location.assign(url); }

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

  function item(d) {
    var li = el("li");
    var line = el("div", "donation-line");
    line.appendChild(el("strong", "", d.name));
    line.appendChild(el("span", "donation-amount", "¥" + d.amount_yuan));
    li.appendChild(line);
    if (d.blessing) li.appendChild(el("p", "donation-blessing", d.blessing));
    var when = new Date(d.paid_at);
    var time = el("time", "hint", when.toLocaleString("zh-CN", { hour12: false }));
    time.setAttribute("datetime", d.paid_at);
    li.appendChild(time);
    return li;
  }

  onReady(function () {
    document.querySelectorAll("[data-donate-form]").forEach(initForm);
    document.querySelectorAll("[data-order]").forEach(initOrder);
    document.querySelectorAll("[data-donations]").forEach(initDonations);
  });
})();
