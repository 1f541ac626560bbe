/* The 公开账本凭证 block while its payment is being integrated: asks for the block again every
   few seconds and swaps it in once the payment is in a signed checkpoint (about a minute). */
(function () {
  "use strict";
  var POLL_SECONDS = 10;
  var TRIES = 18;
  var block = document.getElementById("ledger-receipt");
  if (!block || block.dataset.state !== "pending" || !window.fetch) return;
  var tries = 0;

  function again() {
    if (tries < TRIES) setTimeout(poll, POLL_SECONDS * 1000);
  }

  function poll() {
    tries += 1;
    fetch(block.dataset.pollUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) {
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.querySelector("#ledger-receipt");
          if (fresh && fresh.dataset.state === "ready") {
            block.replaceWith(fresh);
            return;
          }
        }
        again();
      })
      .catch(again);
  }

  again();
})();
