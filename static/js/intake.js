/* Front desk behaviour. Plain JS, no dependencies; every page still works without it. */
(function () {
  "use strict";

  // One submit per form: a double-click or an impatient Enter must not send the form twice.
  // (The server is idempotent too, through the form's one-time submission key.)
  function guardSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-busy", "true");
      });
    });
  }

  function releaseForms() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = false;
        b.removeAttribute("aria-busy");
      });
    });
  }

  function setShown(el, shown) {
    el.hidden = !shown;
  }

  // Repeat visit or new matter: show only the fields that apply.
  function wireVisitChoice(form) {
    var radios = form.querySelectorAll("input[name=visit_of]");
    if (!radios.length || radios[0].type !== "radio") return;
    function update() {
      var checked = form.querySelector("input[name=visit_of]:checked");
      var isNew = !checked || checked.value === "new";
      form.querySelectorAll("[data-show-for=new]").forEach(function (el) { setShown(el, isNew); });
      form.querySelectorAll("[data-show-for=repeat]").forEach(function (el) { setShown(el, !isNew); });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  function wireAnswered(form) {
    var box = form.querySelector("input[name=answered_on_spot]");
    if (!box) return;
    function update() {
      form.querySelectorAll("[data-show-for=answered]").forEach(function (el) { setShown(el, box.checked); });
    }
    box.addEventListener("change", update);
    update();
  }

  // Five or more people are a group visit: open the representatives section.
  function wireHeadcount(form) {
    var input = form.querySelector("input[name=headcount]");
    var reps = form.querySelector("details.reps");
    if (!input || !reps) return;
    var threshold = parseInt(reps.dataset.groupHeadcount || "5", 10);
    input.addEventListener("input", function () {
      if (parseInt(input.value, 10) >= threshold) reps.open = true;
    });
  }

  document.querySelectorAll("form[data-once]").forEach(guardSubmit);
  // Coming back with the Back button restores the page from cache with its buttons disabled.
  window.addEventListener("pageshow", function (event) { if (event.persisted) releaseForms(); });

  // A page shown in answer to a POST (a form with errors, a question before registering) takes
  // the GET address of the same desk step in the history: Back after the registration then
  // returns to the desk rather than to Chromium's "Confirm Form Resubmission" page.
  var historyUrl = document.querySelector("[data-history-url]");
  if (historyUrl && window.history.replaceState) {
    window.history.replaceState(null, "", historyUrl.dataset.historyUrl);
  }

  var register = document.getElementById("register-form");
  if (register) {
    wireVisitChoice(register);
    wireAnswered(register);
    wireHeadcount(register);
  }

  document.querySelectorAll("[data-action=print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
