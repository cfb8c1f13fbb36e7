// Caravan console: a few lines of plain JavaScript, served by the app (the CSP forbids inline script).
"use strict";
(function () {
  // Cut-off countdowns: <span class="countdown" data-until="ISO" data-closed="closed text">.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.until) - now) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) { el.textContent = el.dataset.closed || "—"; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
      var u = (el.dataset.units || "d h m").split(" ");
      el.textContent = (d ? d + u[0] + " " : "") + h + u[1] + " " + (m < 10 ? "0" : "") + m + u[2];
    });
  }
  // Forms that ask first: <form data-confirm="Cancel this booking?">.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }
  // Cargo lines: "add a line" copies the last fieldset with its inputs emptied and renumbered.
  function cargoLines() {
    document.querySelectorAll("[data-add-line]").forEach(function (button) {
      button.addEventListener("click", function () {
        var lines = document.querySelectorAll("fieldset.cargo-line");
        var last = lines[lines.length - 1];
        if (!last || lines.length >= 50) { return; }
        var copy = last.cloneNode(true);
        var index = lines.length;
        copy.querySelectorAll("input, select").forEach(function (input) {
          input.name = input.name.replace(/^cargo-\d+-/, "cargo-" + index + "-");
          if (input.id) { input.id = input.id.replace(/^cargo-\d+-/, "cargo-" + index + "-"); }
          if (input.type === "checkbox") { input.checked = input.defaultChecked; }
          else if (input.tagName !== "SELECT") { input.value = ""; }
        });
        var legend = copy.querySelector("legend span");
        if (legend) { legend.textContent = String(index + 1); }
        last.parentNode.insertBefore(copy, last.nextSibling);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 30000);
    confirmForms();
    cargoLines();
  });
})();
