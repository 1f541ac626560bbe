/* Forms: show which files were picked (the native file input is hidden under a friendlier
   Chinese button); on the campaign form, upload photos the moment they are picked into the
   pending-photo store and show their thumbnails, so a refused submission keeps them; on any
   form sent back with errors, scroll to and focus the first one. */
(function () {
  "use strict";

  function describe(pick, text, files) {
    pick.classList.toggle("has-files", files.length > 0);
    if (!files.length) {
      text.textContent = text.getAttribute("data-empty");
    } else if (files.length === 1) {
      text.textContent = "已选择：" + files[0].name;
    } else {
      text.textContent = "已选择 " + files.length + " 张照片";
    }
  }

  document.querySelectorAll(".file-pick").forEach(function (pick) {
    var input = pick.querySelector('input[type="file"]');
    var text = pick.querySelector("[data-file-text]");
    if (!input || !text) return;
    input.addEventListener("change", function () {
      describe(pick, text, Array.prototype.slice.call(input.files || []));
    });
  });

  function heldItem(photo, name) {
    var item = document.createElement("li");
    item.className = "held-photo";
    var img = document.createElement("img");
    img.src = photo.url;
    img.alt = "已上传的照片";
    img.width = photo.width;
    img.height = photo.height;
    var label = document.createElement("label");
    label.className = "held-keep";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = name;
    box.value = String(photo.id);
    box.checked = true;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" 使用"));
    item.appendChild(img);
    item.appendChild(label);
    return item;
  }

  var section = document.querySelector("[data-pending-photos]");
  if (section && window.fetch && window.FormData) {
    var status = section.querySelector("[data-held-status]");
    var lists = {
      cover: section.querySelector('[data-held-list="held_cover"]'),
      photos: section.querySelector('[data-held-list="held_photos"]')
    };
    section.querySelectorAll('input[type="file"]').forEach(function (input) {
      var list = lists[input.name];
      if (!list) return;
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        if (!files.length) return;
        var body = new FormData();
        body.append("csrf_token", section.getAttribute("data-csrf"));
        files.forEach(function (file) { body.append("photos", file); });
        section.classList.add("is-uploading");
        status.textContent = "正在上传照片…";
        fetch(section.getAttribute("data-upload-url"), {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "Accept": "application/json" }
        }).then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        }).then(function (result) {
          if (!result.ok) {
            // The files stay in the input: saving the form sends them the ordinary way.
            status.textContent = (result.data.error && result.data.error.message) || "照片上传失败，请重试";
            return;
          }
          if (input.name === "cover") {
            // A new cover replaces the one shown; the old one stays as one of the photos.
            Array.prototype.slice.call(list.children).forEach(function (old) {
              var box = old.querySelector("input");
              if (box && box.checked) {
                box.name = "held_photos";
                lists.photos.insertBefore(old, lists.photos.firstChild);
              } else {
                old.remove();
              }
            });
          }
          result.data.photos.forEach(function (photo) {
            list.appendChild(heldItem(photo, input.name === "cover" ? "held_cover" : "held_photos"));
          });
          input.value = "";
          var pick = input.closest(".file-pick");
          var text = pick && pick.querySelector("[data-file-text]");
          if (text) describe(pick, text, []);
          status.textContent = "照片已上传，取消勾选即可不用。";
        }).catch(function () {
          status.textContent = "网络不稳定，照片没有上传；保存时会再上传。";
        }).then(function () {
          section.classList.remove("is-uploading");
        });
      });
    });
  }

  // A form sent back with errors: go to the first one, as the app's own message says.
  var firstError = document.querySelector(".has-error");
  var target = firstError || document.querySelector(".flash-error");
  if (target) {
    var control = firstError && firstError.querySelector(
      'input:not([type="hidden"]), select, textarea');
    target.scrollIntoView({ block: "center" });
    if (control) {
      try { control.focus({ preventScroll: true }); } catch (e) { control.focus(); }
    }
  }
})();
