// Refresh Cost Codes: when a refresh ends, its last poll answers with the event
// "cost-codes-refreshed"; reload the cost code table (with the search the person typed).
(function () {
  "use strict";
  document.addEventListener("cost-codes-refreshed", function () {
    const table = document.getElementById("cost-code-table");
    if (!table || !window.htmx) return;
    const form = document.querySelector('form.search[hx-target="#cost-code-table"]');
    const url = form ? form.getAttribute("hx-get") : window.location.pathname;
    const query = form ? "?" + new URLSearchParams(new FormData(form)).toString() : "";
    window.htmx.ajax("GET", url + query, { target: table, swap: "innerHTML" });
  });
})();
