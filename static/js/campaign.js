/* Campaign page: the share button. Inside WeChat the share menu is WeChat's own (top right),
   so we point at it; elsewhere we use the system share sheet or copy the link. */
(function () {
  "use strict";
  var button = document.querySelector("[data-share]");
  if (!button) return;
  var guide = document.querySelector("[data-share-guide]");
  var toast = document.querySelector("[data-toast]");
  var inWeChat = /MicroMessenger/i.test(navigator.userAgent);

  function showToast(text) {
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    window.clearTimeout(showToast.timer);
    showToast.timer = window.setTimeout(function () { toast.hidden = true; }, 2500);
  }

  function copy(url) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(url).then(function () {
        showToast("链接已复制，快去转发给亲友吧");
      }, function () { showToast("请复制浏览器地址栏中的链接转发"); });
    }
    showToast("请复制浏览器地址栏中的链接转发");
    return Promise.resolve();
  }

  button.addEventListener("click", function () {
    var data = {
      title: button.getAttribute("data-share-title"),
      text: button.getAttribute("data-share-text"),
      url: button.getAttribute("data-share-url")
    };
    if (inWeChat && guide) {
      guide.hidden = false;
      return;
    }
    if (navigator.share) {
      navigator.share(data).catch(function () { /* dismissed */ });
      return;
    }
    copy(data.url);
  });

  if (guide) {
    guide.addEventListener("click", function () { guide.hidden = true; });
  }
})();
