// Progressive enhancement of the upload form: drag and drop, a size check before sending, and
// a busy button. The form works the same without this script.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = document.getElementById("file");
  var zone = document.getElementById("drop-zone");
  var error = document.getElementById("file-error");
  var limit = parseInt(form.getAttribute("data-limit"), 10) || 0;

  function tooLarge() {
    var file = input.files && input.files[0];
    return file && limit && file.size > limit;
  }
  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }
  input.addEventListener("change", function () {
    showError(tooLarge() ? "Файл слишком большой: выберите заполненный шаблон отчёта." : "");
  });
  if (zone && "DataTransfer" in window) {
    zone.hidden = false;
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.remove("dragging");
      });
    });
    form.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change"));
      }
    });
  }
  form.addEventListener("submit", function (event) {
    if (tooLarge()) {
      event.preventDefault();
      showError("Файл слишком большой: выберите заполненный шаблон отчёта.");
      return;
    }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Проверяем файл…";
  });
})();
