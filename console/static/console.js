// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // <input type="checkbox" data-select-all="name"> toggles every checkbox named `name` in its form.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var form = box.form || document;
    form.querySelectorAll('input[type=checkbox][name="' + box.getAttribute("data-select-all") + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });
  // <form data-confirm="…"> asks before submitting an action that cannot be undone.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
