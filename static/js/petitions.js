/* Case page: "show full number" asks for the number as JSON and puts it in place, so the page does
   not reload. Without JavaScript the form posts and the server renders the page with the number. */
(function () {
  "use strict";
  var live = document.getElementById("pii-live");

  function onSubmit(event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("reveal-form")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    var target = document.getElementById(form.getAttribute("data-target"));
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (result.ok && target) {
          target.textContent = result.data.value;
          target.classList.add("revealed");
          form.remove();
          target.setAttribute("tabindex", "-1");
          target.focus();
          if (live) live.textContent = result.data.value;
        } else {
          if (button) button.disabled = false;
          if (live) live.textContent = result.data.detail || "";
          if (target && result.data.detail) target.setAttribute("title", result.data.detail);
        }
      })
      .catch(function () {
        // Network or parse failure: fall back to the ordinary form post.
        form.submit();
      });
  }

  document.addEventListener("submit", onSubmit);
})();
