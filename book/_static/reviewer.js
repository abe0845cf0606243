/* IxaThalDex reviewer tables: sort by a column header, filter by selects and a text box.
 *
 * Plain JavaScript, no library, nothing fetched. Acts on every <table class="ixathaldex-interactive">
 * of a page (the reviewer page, the what-changed page); does nothing on other pages.
 * DOM contract (written by lib/ixathaldex/review.py, documented in docs/reviewer.md):
 *   table#<id>.ixathaldex-interactive > thead th[data-sort-type="text|number"][aria-sort] > button
 *   td[data-sort] overrides the cell text as the sort key ("" = missing, sorted last; "Infinity")
 *   div#<id>-filters[data-table=<id>] holds select#<id>-filter-<key>[data-filter=<key>] matching
 *     tr[data-<key>] (a row value "a; b" matches either), input#<id>-filter-text[data-filter=text],
 *     button#<id>-filter-reset and span#<id>-count ("N of M <noun> shown")
 *   rows hidden by a filter get the `hidden` attribute; table[data-ixathaldex-ready="true"] once wired;
 *   the filter bar is shipped with `hidden` and shown by this script
 */
(function () {
  "use strict";

  function sortKey(cell, type) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (type === "number") {
      if (raw === "") return null;
      var x = raw === "Infinity" ? Infinity : parseFloat(raw);
      return isNaN(x) ? null : x;
    }
    return raw === "" ? null : raw.toLowerCase();
  }

  function compareKeys(a, b) {
    if (a === b) return 0;
    if (typeof a === "number" && typeof b === "number") return a < b ? -1 : 1;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function sortBy(table, th) {
    var headers = table.tHead.rows[0].cells;
    var index = Array.prototype.indexOf.call(headers, th);
    var type = th.getAttribute("data-sort-type") || "text";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: sortKey(row.cells[index], type), i: i };
    });
    rows.sort(function (p, q) {
      if (p.key === null && q.key === null) return p.i - q.i;
      if (p.key === null) return 1; // missing values last, in either direction
      if (q.key === null) return -1;
      var c = compareKeys(p.key, q.key);
      return c === 0 ? p.i - q.i : (ascending ? c : -c);
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(headers, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function controlsOf(table) {
    return document.getElementById(table.id + "-filters");
  }

  function applyFilters(table) {
    var controls = controlsOf(table);
    if (!controls) return;
    var selects = controls.querySelectorAll("select[data-filter]");
    var textBox = controls.querySelector("input[data-filter=text]");
    var query = textBox ? textBox.value.trim().toLowerCase() : "";
    var rows = table.tBodies[0].rows;
    var shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var ok = true;
      Array.prototype.forEach.call(selects, function (sel) {
        if (!ok || sel.value === "") return;
        var value = row.getAttribute("data-" + sel.getAttribute("data-filter")) || "";
        ok = value.split("; ").indexOf(sel.value) >= 0;
      });
      if (ok && query) {
        var text = (row.getAttribute("data-claim") || "") + " " + row.textContent;
        ok = text.toLowerCase().indexOf(query) >= 0;
      }
      if (ok) { row.removeAttribute("hidden"); shown += 1; } else { row.setAttribute("hidden", ""); }
    });
    var count = document.getElementById(table.id + "-count");
    if (count) {
      var noun = table.getAttribute("data-noun") || "rows";
      count.textContent = shown + " of " + rows.length + " " + noun + " shown";
    }
  }

  function resetFilters(table) {
    var controls = controlsOf(table);
    if (!controls) return;
    controls.querySelectorAll("select[data-filter]").forEach(function (s) { s.value = ""; });
    var textBox = controls.querySelector("input[data-filter=text]");
    if (textBox) textBox.value = "";
    applyFilters(table);
  }

  function setup(table) {
    if (!table.id || !table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var target = th.querySelector("button") || th;
      target.addEventListener("click", function () { sortBy(table, th); });
    });
    var controls = controlsOf(table);
    if (controls) {
      controls.querySelectorAll("select[data-filter]").forEach(function (s) {
        s.addEventListener("change", function () { applyFilters(table); });
      });
      var textBox = controls.querySelector("input[data-filter=text]");
      if (textBox) textBox.addEventListener("input", function () { applyFilters(table); });
      var reset = document.getElementById(table.id + "-filter-reset");
      if (reset) reset.addEventListener("click", function () { resetFilters(table); });
      controls.removeAttribute("hidden"); // shipped hidden: useless without this script
    }
    applyFilters(table); // a browser may restore form values on back/forward
    table.setAttribute("data-ixathaldex-ready", "true");
  }

  // A link to #claim-<id> must show its row even when a filter hides it.
  function revealTarget() {
    var id = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (!id) return;
    var row = document.getElementById(id);
    if (!row || row.tagName !== "TR") return;
    var table = row.closest("table.ixathaldex-interactive");
    if (row.hasAttribute("hidden") && table) resetFilters(table);
    document.querySelectorAll("tr.ixathaldex-target").forEach(function (r) { r.classList.remove("ixathaldex-target"); });
    row.classList.add("ixathaldex-target");
    row.scrollIntoView({ block: "center" });
  }

  function init() {
    var tables = document.querySelectorAll("table.ixathaldex-interactive");
    if (!tables.length) return;
    tables.forEach(setup);
    revealTarget();
    window.addEventListener("hashchange", revealTarget);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
