/* Staff review page: open a document image full screen, zoom (buttons, wheel, pinch),
   drag to pan, rotate. No libraries; works with mouse and touch. */
(function () {
  "use strict";
  var dialog = document.querySelector("[data-zoom]");
  if (!dialog) return;
  var stage = dialog.querySelector("[data-zoom-stage]");
  var img = dialog.querySelector("[data-zoom-img]");
  var state = { scale: 1, rotate: 0, x: 0, y: 0 };
  var opener = null;

  function apply() {
    img.style.transform = "translate(" + state.x + "px," + state.y + "px) scale(" +
      state.scale + ") rotate(" + state.rotate + "deg)";
  }
  function reset() { state = { scale: 1, rotate: 0, x: 0, y: 0 }; apply(); }
  function zoom(factor) {
    state.scale = Math.min(8, Math.max(0.5, state.scale * factor));
    apply();
  }
  function open(src, from) {
    opener = from;
    img.src = src;
    reset();
    dialog.hidden = false;
    document.body.style.overflow = "hidden";
    dialog.querySelector('[data-zoom-act="close"]').focus();
  }
  function close() {
    dialog.hidden = true;
    img.removeAttribute("src");
    document.body.style.overflow = "";
    if (opener) opener.focus();
  }

  document.querySelectorAll("[data-zoom-src]").forEach(function (button) {
    button.addEventListener("click", function () { open(button.getAttribute("data-zoom-src"), button); });
  });
  dialog.addEventListener("click", function (event) {
    var act = event.target.getAttribute && event.target.getAttribute("data-zoom-act");
    if (act === "in") zoom(1.4);
    else if (act === "out") zoom(1 / 1.4);
    else if (act === "rotate") { state.rotate = (state.rotate + 90) % 360; apply(); }
    else if (act === "reset") reset();
    else if (act === "close" || event.target === stage) close();
  });
  document.addEventListener("keydown", function (event) {
    if (dialog.hidden) return;
    if (event.key === "Escape") close();
    else if (event.key === "+" || event.key === "=") zoom(1.4);
    else if (event.key === "-") zoom(1 / 1.4);
  });
  stage.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15);
  }, { passive: false });

  // Drag to pan (one pointer), pinch to zoom (two pointers).
  var pointers = {};
  var last = null;
  var pinch = null;
  function distance() {
    var p = Object.keys(pointers).map(function (k) { return pointers[k]; });
    return Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
  }
  stage.addEventListener("pointerdown", function (event) {
    if (event.target !== img) return;
    stage.setPointerCapture(event.pointerId);
    pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
    var count = Object.keys(pointers).length;
    if (count === 1) last = { x: event.clientX, y: event.clientY };
    if (count === 2) pinch = { d: distance(), scale: state.scale };
  });
  stage.addEventListener("pointermove", function (event) {
    if (!pointers[event.pointerId]) return;
    pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
    if (pinch && Object.keys(pointers).length === 2) {
      state.scale = Math.min(8, Math.max(0.5, pinch.scale * distance() / pinch.d));
      apply();
    } else if (last) {
      state.x += event.clientX - last.x;
      state.y += event.clientY - last.y;
      last = { x: event.clientX, y: event.clientY };
      apply();
    }
  });
  function up(event) {
    delete pointers[event.pointerId];
    if (Object.keys(pointers).length < 2) pinch = null;
    last = null;
  }
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);
})();
