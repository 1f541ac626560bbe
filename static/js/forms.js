/* Campaign form: show which photos were picked (the native file input is hidden under a
   friendlier Chinese button). */
(function () {
  "use strict";
  document.querySelectorAll(".file-pick").forEach(function (pick) {
    var input = pick.querySelector('input[type="file"]');
    var text = pick.querySelector("[data-file-text]");
    if (!input || !text) return;
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      pick.classList.toggle("has-files", files.length > 0);
      if (!files.length) {
        text.textContent = text.getAttribute("data-empty");
      } else if (files.length === 1) {
        text.textContent = "已选择：" + files[0].name;
      } else {
        text.textContent = "已选择 " + files.length + " 张照片";
      }
    });
  });
})();
