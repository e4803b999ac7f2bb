/* Optional: the pages work without it.
   - Moves focus to the error summary so a screen reader reads it first.
   - A page drawn in reply to a form (a refused answer) puts its own address in the history in place of the
     form's POST: coming back to it later loads the page again instead of asking to resend the form. */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var main = document.getElementById("main");
  var address = main && main.getAttribute("data-get-url");
  if (address && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", address);
  }
});
