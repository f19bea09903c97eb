// Points market phone pages: the big +/- buttons beside a quantity (without JavaScript the number box alone works).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-qty]").forEach(function (box) {
    var input = box.querySelector("input[type=number]");
    box.querySelectorAll("[data-step]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var min = parseInt(input.min || "1", 10), max = parseInt(input.max || "99", 10);
        var value = (parseInt(input.value, 10) || min) + parseInt(button.dataset.step, 10);
        input.value = Math.min(max, Math.max(min, value));
      });
    });
  });
  // a double tap on a submit button sends once (the server would replay anyway, this only spares the wait)
  document.querySelectorAll("form.mk-reserve, form[action*='/use/']").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[type=submit]");
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
});
