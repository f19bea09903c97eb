// The counter's receipt: a Print button (no inline handlers), shown only when this script runs.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-print-hint]").forEach(function (hint) { hint.hidden = true; });
})();
