/* Screening and inbox pages. Everything works without JavaScript; this only
   - enables an assisting department's due date when its box is ticked,
   - stops a decision form from being submitted twice by a double click,
   - shows a Print button on a written notice. */
(function () {
  "use strict";

  function syncAssistRow(row) {
    var box = row.querySelector("input[type=checkbox]");
    var due = row.querySelector("input[type=date]");
    if (box && due) due.disabled = !box.checked;
  }

  document.querySelectorAll("tr.assist-row").forEach(function (row) {
    syncAssistRow(row);
    var box = row.querySelector("input[type=checkbox]");
    if (box) box.addEventListener("change", function () { syncAssistRow(row); });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    var buttons = form.querySelectorAll("button[type=submit]");
    // Disable after the submit has been dispatched, so the button's own value is still sent.
    window.setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Coming back with the browser's Back button shows the page from cache: let it be used again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });

  // A link from the case page's actions (petitions.actions) names a section, e.g.
  // #decision-not_accept or #return-panel: open it when it is a collapsed <details>.
  function openTarget() {
    if (!window.location.hash) return;
    var target = document.getElementById(window.location.hash.slice(1));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      var summary = target.querySelector("summary");
      if (summary) summary.focus();
    }
  }
  openTarget();
  window.addEventListener("hashchange", openTarget);

  var print = document.querySelector("[data-print]");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
