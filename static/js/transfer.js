/* 我的 · 领取 inside WeChat: 领取 calls wx.requestMerchantTransfer with the bill's package, and the
   page reloads to show what WeChat settled. Without the JS-SDK the button stays a plain link. */
(function () {
  "use strict";
  var data = window.XZ_TRANSFER;
  if (!data || typeof wx === "undefined") { return; }
  wx.config(data.config);
  wx.ready(function () {
    if (typeof wx.requestMerchantTransfer !== "function") { return; }
    document.querySelectorAll(".transfer-receive").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        wx.requestMerchantTransfer({
          mchId: data.mchId, appId: data.appId, package: button.dataset.package,
          success: function () { window.location.reload(); },
          fail: function () { window.location.reload(); }
        });
      });
    });
  });
})();
