/* A poster being drawn by a background job: poll its progress, then show the poster. */
(function () {
  "use strict";
  var box = document.querySelector("[data-poster-job]");
  if (!box) return;
  var bar = box.querySelector("[data-job-bar]");
  var message = box.querySelector("[data-job-message]");
  var failed = box.querySelector("[data-job-failed]");
  var delay = 500;

  function poll() {
    fetch(box.getAttribute("data-poster-job"), { headers: { "Accept": "application/json" },
                                                 credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        if (state.page) { window.location.replace(state.page); return; }
        if (bar) bar.style.width = (state.progress || 0) + "%";
        if (message && state.message) message.textContent = state.message;
        if (state.state === "failed" || state.error) {
          if (failed) failed.hidden = false;
          return;
        }
        delay = Math.min(delay * 1.3, 3000);
        window.setTimeout(poll, delay);
      }, function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
