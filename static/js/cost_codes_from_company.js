// Cost Codes from Company: Select All, and a ticked cost type selects its code.
(function () {
  "use strict";

  // The listed codes' boxes; codes selected on other pages ride in hidden fields of that name.
  function codeBoxes(form) {
    return Array.from(form.querySelectorAll('input[type="checkbox"][name="code"]:not(:disabled)'));
  }

  // Select All shows whether all, some (indeterminate) or none of the listed codes are ticked.
  function showSelection(form) {
    const selectAll = form.querySelector("[data-select-all]");
    if (!selectAll) return;
    const boxes = codeBoxes(form);
    const ticked = boxes.filter(function (box) { return box.checked; }).length;
    selectAll.checked = ticked > 0 && ticked === boxes.length;
    selectAll.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!box.form || !box.form.classList.contains("company-codes")) return;
    if (box.matches("[data-select-all]")) {
      codeBoxes(box.form).forEach(function (code) { code.checked = box.checked; });
    } else if (box.name && box.name.indexOf("cost_type_") === 0 && box.checked) {
      const code = box.closest("tr").querySelector('input[type="checkbox"][name="code"]');
      if (code) code.checked = true;
    }
    showSelection(box.form);
  });

  // The search swaps the list: Select All follows what is listed now.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "company-code-list") return;
    const form = event.detail.target.closest("form");
    if (form) showSelection(form);
  });
})();
