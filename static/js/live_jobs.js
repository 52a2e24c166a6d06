// The Jobs tab stays current by itself (issue 18). Every few seconds, while the tab is visible,
// it asks its live address with the tag of what it shows; the portal answers 304 (nothing
// changed, nothing rendered) or the counts, the table and the header badge. These are merged
// without disturbing the user: counts and badge at once; a row that changed is redrawn in place
// unless the user is on it (focus, a tick, the mouse) or a window is open; a row that left the
// list goes when the mouse is not over the table; new rows are announced ("2 new requests —
// Show"), never put under the mouse.
(function () {
  "use strict";
  const INTERVAL = 3000; // ms: a change shows within 5 s, the interval plus one answer
  const WORDS = {
    ready_to_import: ["new ERP job", "new ERP jobs"],
    ready_to_update: ["new request", "new requests"],
  };
  let timer = null;
  let latest = null; // the last answer, parsed: {marker, doc}
  let stopped = false;

  function marker() {
    return document.querySelector("#jobs-table [data-jobs-live]");
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = null;
    if (!stopped && document.visibilityState === "visible") timer = setTimeout(poll, delay);
  }

  function newsArea() {
    return document.getElementById("jobs-live-news");
  }

  function stop(message) {
    stopped = true;
    clearTimeout(timer);
    const news = newsArea();
    if (news) news.innerHTML = '<p class="live-news-note">' + message + "</p>";
  }

  async function poll() {
    timer = null;
    const current = marker();
    // While the user's own request runs (a filter, Update, a search), its answer redraws the
    // panel anyway; asking now would only race it.
    if (!current || document.querySelector(".htmx-request")) return schedule(INTERVAL);
    const url = current.dataset.jobsLive;
    let response;
    try {
      response = await fetch(url, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { "HX-Request": "true", "If-None-Match": current.dataset.etag || "" },
      });
    } catch (error) {
      return schedule(INTERVAL * 3); // the portal is out of reach: ask again, less often
    }
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      return stop("This list stopped updating itself. Reload the page to see changes.");
    }
    if (response.status === 200 && marker() === current && current.dataset.jobsLive === url) {
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      current.dataset.etag = response.headers.get("ETag") || "";
      latest = { marker: current, doc: doc };
    } else if (response.status !== 304) {
      return schedule(INTERVAL * 3);
    }
    merge();
    schedule(INTERVAL);
  }

  // A row's text without what differs between two drawings of the same row (the CSRF token).
  function signature(row) {
    const copy = row.cloneNode(true);
    copy.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.removeAttribute("value"); });
    copy.querySelectorAll("[data-jobs-live]").forEach(function (tag) { tag.remove(); });
    [copy].concat(Array.from(copy.querySelectorAll(".live-new, .live-leaving"))).forEach(function (row) {
      row.classList.remove("live-new", "live-leaving");
      if (!row.classList.length) row.removeAttribute("class");
    });
    return copy.outerHTML;
  }

  function rowsOf(root) {
    const rows = new Map();
    root.querySelectorAll("#jobs-table tbody tr[id]").forEach(function (row) { rows.set(row.id, row); });
    return rows;
  }

  function dialogOpen() {
    return document.querySelector("dialog[open]") !== null;
  }

  function busy(row) {
    return row.contains(document.activeElement) || row.matches(":hover") ||
      row.querySelector("input[type=checkbox]:checked") !== null;
  }

  function adopt(node) {
    return document.importNode(node, true);
  }

  function processed(node) {
    if (window.htmx) window.htmx.process(node);
    return node;
  }

  function mergeCounts(doc) {
    doc.querySelectorAll(".job-filters li[data-filter] .count").forEach(function (fresh) {
      const shown = document.querySelector('.job-filters li[data-filter="' + fresh.closest("li").dataset.filter + '"] .count');
      if (shown && shown.textContent !== fresh.textContent) shown.textContent = fresh.textContent;
    });
    const badge = document.getElementById("waiting-badge");
    const freshBadge = doc.getElementById("waiting-badge");
    if (badge && freshBadge && badge.outerHTML !== freshBadge.outerHTML) badge.replaceWith(adopt(freshBadge));
  }

  function filterKey() {
    const current = document.querySelector('.job-filters a[aria-current="true"]');
    return current ? current.closest("li").dataset.filter : "";
  }

  function announce(count) {
    const news = newsArea();
    if (!news) return;
    if (!count) {
      if (news.querySelector("[data-live-show]")) news.replaceChildren();
      return;
    }
    const words = WORDS[filterKey()] || ["new project", "new projects"];
    const text = count + " " + words[count === 1 ? 0 : 1];
    const shown = news.querySelector("[data-live-count]");
    if (shown && shown.textContent === text) return;
    news.innerHTML = '<p class="live-news-note"><span data-live-count></span> <button type="button" data-live-show>Show<span class="visually-hidden"> the new rows</span></button></p>';
    news.querySelector("[data-live-count]").textContent = text;
  }

  function sameHead(table, freshTable) {
    const head = table && table.querySelector("thead");
    const freshHead = freshTable && freshTable.querySelector("thead");
    return head && freshHead && head.outerHTML === freshHead.outerHTML;
  }

  // The whole table from the last answer, keeping the user's ticks.
  function replaceTable(freshTable) {
    const table = document.getElementById("jobs-table");
    const ticked = new Set(Array.from(table.querySelectorAll("input[type=checkbox]:checked")).map(function (box) { return box.value; }));
    const before = rowsOf(document);
    table.replaceChildren.apply(table, Array.from(freshTable.childNodes).map(adopt));
    table.querySelectorAll("input[type=checkbox]").forEach(function (box) { if (ticked.has(box.value)) box.checked = true; });
    const added = Array.from(rowsOf(document).values()).filter(function (row) { return !before.has(row.id); });
    added.forEach(function (row) { row.classList.add("live-new"); });
    processed(table);
    if (latest) latest.marker = marker(); // the drawn table carries the answer's own tag
    return added;
  }

  function merge() {
    if (!latest || latest.marker !== marker()) return;
    const doc = latest.doc;
    mergeCounts(doc);
    const freshTable = doc.getElementById("jobs-table");
    const table = document.getElementById("jobs-table");
    if (!freshTable || !table || signature(table) === signature(freshTable)) return;
    const shown = rowsOf(document);
    const fresh = rowsOf(doc);
    const added = Array.from(fresh.keys()).filter(function (id) { return !shown.has(id); });
    announce(added.length);
    if (dialogOpen()) return; // the open window stays as it is, and what it was opened from
    const pointerOnTable = table.matches(":hover");
    if (shown.size === 0 || !sameHead(table.querySelector("table"), freshTable.querySelector("table"))) {
      // Nothing to work on in the table (no rows, or the columns changed: the user's rights did):
      // the table is drawn again, unless the user is in it.
      const inUse = table.contains(document.activeElement) || table.querySelector("input[type=checkbox]:checked");
      if (!inUse && (shown.size === 0 ? fresh.size === 0 : !pointerOnTable)) replaceTable(freshTable);
      return;
    }
    // A row redrawn or gone above the mouse would move what is under it: such rows wait until
    // the mouse leaves the table (or moves above them).
    const hovered = pointerOnTable ? table.querySelector("tbody tr:hover") : null;
    function movesPointer(row) {
      if (!pointerOnTable) return false;
      if (!hovered) return !table.querySelector("thead:hover"); // on the Update form or the pages
      return row === hovered || (row.compareDocumentPosition(hovered) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    }
    shown.forEach(function (row, id) {
      const freshRow = fresh.get(id);
      if (freshRow) {
        row.classList.remove("live-leaving");
        if (signature(row) !== signature(freshRow) && !busy(row) && !movesPointer(row)) {
          row.replaceWith(processed(adopt(freshRow)));
        }
      } else if (!busy(row) && !movesPointer(row)) {
        row.remove();
      } else {
        row.classList.add("live-leaving"); // gone from the list: it goes once the user leaves it
      }
    });
    // The "N in all" line and the page links, unless the user is on them.
    const foot = table.querySelector(".pagination, :scope > p.muted");
    const freshFoot = freshTable.querySelector(".pagination, :scope > p.muted");
    if (foot && freshFoot && foot.outerHTML !== freshFoot.outerHTML && !foot.contains(document.activeElement)) {
      foot.replaceWith(processed(adopt(freshFoot)));
    }
    if (rowsOf(document).size === 0 && fresh.size === 0) replaceTable(freshTable);
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-live-show]") || !latest) return;
    const freshTable = latest.doc.getElementById("jobs-table");
    if (!freshTable) return;
    newsArea().replaceChildren();
    const added = replaceTable(freshTable);
    // Focus goes to the first new row, where the user asked to look.
    const first = added.length ? added[0].querySelector("th") : document.getElementById("jobs-heading");
    if (first) {
      if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  });

  // The user's own swap (a filter, a search, a page, a decision) draws the table afresh: what
  // was announced belongs to the old one.
  document.addEventListener("htmx:afterSwap", function (event) {
    const id = event.detail.target && event.detail.target.id;
    if (id !== "jobs-panel" && id !== "jobs-table") return;
    latest = null;
    const news = newsArea();
    if (news && !stopped) news.replaceChildren();
  });

  // Rows left waiting under the mouse go once it leaves the table.
  document.addEventListener("mouseout", function (event) {
    const table = document.getElementById("jobs-table");
    if (table && table.contains(event.target) && !table.contains(event.relatedTarget)) merge();
  });
  document.addEventListener("close", function () { setTimeout(merge, 0); }, true);

  // A hidden tab asks nothing; shown again, it asks at once.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") schedule(0);
    else schedule(INTERVAL);
  });

  schedule(INTERVAL);
})();
