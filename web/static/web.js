/* Optional: the pages work without it. Moves focus to the error summary so a screen reader reads it first. */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
