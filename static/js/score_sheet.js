/* Score sheet editor (评查评分表). The page works without JavaScript (a blank row per section);
   this only adds rows on demand and keeps the section subtotals and the total live. */
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  var template = document.getElementById("item-row-template");
  if (!form || !template) return;
  var totalForms = form.querySelector("input[name$='-TOTAL_FORMS']");
  var totalOut = document.getElementById("sheet-total");

  function recount() {
    var total = 0;
    form.querySelectorAll("tbody[data-section]").forEach(function (body) {
      var sub = 0;
      body.querySelectorAll("tr.item-row").forEach(function (row) {
        var del = row.querySelector("input[name$='-DELETE']");
        var pts = row.querySelector("input[name$='-points']");
        if (del && del.checked) return;
        var n = parseInt(pts && pts.value, 10);
        if (!isNaN(n)) sub += n;
      });
      var out = body.querySelector("[data-subtotal]");
      if (out) out.textContent = sub;
      total += sub;
    });
    totalOut.textContent = total;
    totalOut.classList.toggle("text-danger", total !== parseInt(totalOut.dataset.want, 10));
  }

  form.querySelectorAll("button[data-add-row]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(totalForms.value, 10);
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.querySelector("tr");
      var select = row.querySelector("select[name$='-section']");
      if (select) select.value = button.dataset.addRow;
      button.closest("tbody").appendChild(row);
      totalForms.value = String(index + 1);
      var text = row.querySelector("textarea");
      if (text) text.focus();
    });
  });

  form.addEventListener("input", recount);
  form.addEventListener("change", recount);
})();
