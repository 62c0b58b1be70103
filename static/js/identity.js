/* Resident ID hints at the front desk: a valid resident ID number (18 characters, or 15 digits on
   an old card) states the holder's sex and birth date. An unknown sex is filled in from it; a
   chosen sex that contradicts it is warned about (not refused: one of the two is mistyped, and
   the clerk decides). The server derives the same (intake.forms, petitions.validation). */
(function () {
  "use strict";

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function checkChar(body) {
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(body.charAt(i)) * WEIGHTS[i];
    return CHECK.charAt(sum % 11);
  }

  // {sex: "M"|"F", born: "YYYY-MM-DD"} for a valid resident ID number, else null.
  function hints(value) {
    var n = value.replace(/[\s-]/g, "").toUpperCase();
    var full;
    if (/^\d{15}$/.test(n)) {
      var body = n.slice(0, 6) + "19" + n.slice(6);
      full = body + checkChar(body);
    } else if (/^\d{17}[\dX]$/.test(n) && checkChar(n) === n.charAt(17)) {
      full = n;
    } else {
      return null;
    }
    var y = Number(full.slice(6, 10)), m = Number(full.slice(10, 12)), d = Number(full.slice(12, 14));
    var date = new Date(Date.UTC(y, m - 1, d));
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
    return {
      sex: Number(full.charAt(16)) % 2 ? "M" : "F",
      born: full.slice(6, 10) + "-" + full.slice(10, 12) + "-" + full.slice(12, 14)
    };
  }

  function wire(select) {
    var form = select.form;
    if (!form) return;
    var idInput = form.querySelector("input[name=id_number]");
    var idType = form.querySelector("select[name=id_type]");
    if (!idInput) return;
    var warning = document.createElement("p");
    warning.className = "field-warning";
    warning.setAttribute("role", "status");
    warning.dataset.testid = "sex-warning";
    warning.hidden = true;
    select.insertAdjacentElement("afterend", warning);

    function update(fromId) {
      var h = idType && idType.value !== "resident" ? null : hints(idInput.value);
      if (h && fromId && select.value === "U") select.value = h.sex;
      var mismatch = h && (select.value === "M" || select.value === "F") && select.value !== h.sex;
      if (mismatch) {
        var text = h.sex === "M" ? select.dataset.warnM : select.dataset.warnF;
        warning.textContent = (text || "").replace("{born}", h.born);
      }
      warning.hidden = !mismatch;
    }
    idInput.addEventListener("input", function () { update(true); });
    idInput.addEventListener("change", function () { update(true); });
    select.addEventListener("change", function () { update(false); });
    if (idType) idType.addEventListener("change", function () { update(true); });
    update(true);
  }

  document.querySelectorAll("select[data-identity-sex]").forEach(wire);
})();
