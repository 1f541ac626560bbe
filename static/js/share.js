/* Sharing: this person's share links, the WeChat share card, the desktop QR code.
   The panel (templates/sharing/_share_panel.html) names the endpoint that hands out the links
   and signs wx.config for this exact page URL; the card then carries the sharer's own link,
   so whoever opens it is counted for them. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-share-panel]");
  if (!panel) return;
  var inWeChat = /MicroMessenger/i.test(navigator.userAgent);
  var desktop = !inWeChat && window.matchMedia && window.matchMedia("(min-width: 768px)").matches;
  var status = panel.querySelector("[data-share-status]");
  var pending = null;

  function say(text) { if (status) status.textContent = text; }

  function links() {
    if (!pending) {
      pending = fetch(panel.getAttribute("data-link-endpoint"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": panel.getAttribute("data-csrf") },
        body: JSON.stringify({ url: location.href.split("#")[0] })
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) throw new Error((data.error && data.error.message) || "转发链接获取失败");
          return data;
        });
      });
      pending.catch(function (err) { pending = null; say(err.message); });
    }
    return pending;
  }

  function shareCard(data) {
    if (!window.wx || !data.wx) return;
    var card = data.card;
    window.wx.config(data.wx);
    window.wx.ready(function () {
      window.wx.updateAppMessageShareData({ title: card.title, desc: card.desc,
                                            link: data.links.chat, imgUrl: card.imgUrl });
      window.wx.updateTimelineShareData({ title: card.title, link: data.links.moments,
                                          imgUrl: card.imgUrl });
    });
    window.wx.error(function (res) { console.warn("wx.config", res && res.errMsg); });
  }

  function use(data) {
    shareCard(data);
    /* The campaign page's own 转发 button shares this person's link too. */
    Array.prototype.forEach.call(document.querySelectorAll("[data-share]"), function (button) {
      button.setAttribute("data-share-url", data.links.chat);
    });
    if (desktop) {
      var box = panel.querySelector("[data-share-qr]");
      var img = panel.querySelector("[data-share-qr-img]");
      if (box && img) { img.src = data.qr; box.hidden = false; }
    }
    panel.setAttribute("data-share-token", data.token);
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () {
        say("链接已复制，快去转发给亲友吧");
      }, function () { say("请复制这个链接转发：" + text); });
    }
    say("请复制这个链接转发：" + text);
    return Promise.resolve();
  }

  links().then(use, function () { /* said already */ });

  var copyButton = panel.querySelector("[data-share-copy]");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      links().then(function (data) { copy(data.links.chat); }, function () {});
    });
  }
})();
