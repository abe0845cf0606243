/* IxaThalDex reviewer tables: sort by a column header, filter by selects and a text box, folded groups.
 *
 * Plain JavaScript, no library, nothing fetched. Acts on every <table class="ixathaldex-interactive">
 * of a page (the reviewer page, the what-changed page); does nothing on other pages.
 * DOM contract (written by lib/ixathaldex/claims/review_html.py, documented in docs/reviewer.md):
 *   a *set* of tables shares one filter bar: either div.ixathaldex-groups#<set> holding
 *     details.ixathaldex-group, each with one table.ixathaldex-interactive, or a lone
 *     table.ixathaldex-interactive#<set> outside such a div
 *   thead th[data-column=<key>][data-sort-type="text|number"][aria-sort] > button: sorts every table
 *     of the set by that column
 *   td[data-sort] overrides the cell text as the sort key ("" = missing, sorted last; "Infinity")
 *   div#<set>-filters holds select#<set>-filter-<key>[data-filter=<key>] matching tr[data-<key>]
 *     (a row value "a; b" matches either), input#<set>-filter-text[data-filter=text],
 *     button#<set>-filter-reset and span#<set>-count ("N of M <noun> shown")
 *   rows hidden by a filter get the `hidden` attribute; while a filter is active, a group with matches
 *     is open and its summary's span.ixathaldex-group-match says how many match, a group without is
 *     hidden; clearing the filters restores the groups as they were
 *   table[data-ixathaldex-ready="true"] (and the set's div) once wired; the filter bar is shipped with
 *     `hidden` and shown by this script
 *   a link to #claim-<id>, #finding-<id> or a group's id opens the enclosing details, scrolls to it and
 *     marks a row with the class ixathaldex-target
 */
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function sortKey(cell, type) {
    if (!cell) return null;
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

  // ---- sets: the tables that share one filter bar -------------------------------------------------
  function setOf(table) {
    return table.closest(".ixathaldex-groups") || table;
  }

  function tablesOf(set) {
    return set.tagName === "TABLE" ? [set] : Array.prototype.slice.call(set.querySelectorAll("table.ixathaldex-interactive"));
  }

  function controlsOf(set) {
    return document.getElementById(set.id + "-filters");
  }

  function sortTable(table, column, type, ascending) {
    var headers = table.tHead.rows[0].cells;
    var th = null;
    each(headers, function (h) { if (h.getAttribute("data-column") === column) th = h; });
    if (!th) return;
    var index = Array.prototype.indexOf.call(headers, th);
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
    each(headers, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function sortBy(table, th) {
    var column = th.getAttribute("data-column");
    var type = th.getAttribute("data-sort-type") || "text";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    tablesOf(setOf(table)).forEach(function (t) { sortTable(t, column, type, ascending); });
  }

  // ---- filters -------------------------------------------------------------------------------------
  function rowMatches(row, selects, query) {
    var ok = true;
    each(selects, function (sel) {
      if (!ok || sel.value === "") return;
      var value = row.getAttribute("data-" + sel.getAttribute("data-filter")) || "";
      ok = value.split("; ").indexOf(sel.value) >= 0;
    });
    if (ok && query) {
      var text = (row.getAttribute("data-claim") || "") + " " + (row.getAttribute("data-finding") || "") +
        " " + row.textContent;
      ok = text.toLowerCase().indexOf(query) >= 0;
    }
    return ok;
  }

  function showGroups(set, active) {
    var groups = set.querySelectorAll("details.ixathaldex-group");
    if (active && !set.hasAttribute("data-filtering")) {
      each(groups, function (g) { g.setAttribute("data-open-before", g.open ? "true" : "false"); });
      set.setAttribute("data-filtering", "true");
    }
    each(groups, function (g) {
      var match = g.querySelector(".ixathaldex-group-match");
      if (active) {
        var rows = g.querySelectorAll("tbody tr");
        var shown = g.querySelectorAll("tbody tr:not([hidden])").length;
        g.hidden = shown === 0;
        g.open = shown > 0;
        if (match) { match.textContent = shown + " of " + rows.length + " match"; match.hidden = false; }
      } else {
        if (set.hasAttribute("data-filtering")) g.open = g.getAttribute("data-open-before") === "true";
        g.hidden = false;
        if (match) { match.textContent = ""; match.hidden = true; }
      }
    });
    if (!active) set.removeAttribute("data-filtering");
  }

  function applyFilters(set) {
    var controls = controlsOf(set);
    if (!controls) return;
    var selects = controls.querySelectorAll("select[data-filter]");
    var textBox = controls.querySelector("input[data-filter=text]");
    var query = textBox ? textBox.value.trim().toLowerCase() : "";
    var active = query !== "";
    each(selects, function (s) { if (s.value !== "") active = true; });
    var shown = 0, total = 0;
    tablesOf(set).forEach(function (table) {
      each(table.tBodies[0].rows, function (row) {
        total += 1;
        if (rowMatches(row, selects, query)) { row.removeAttribute("hidden"); shown += 1; } else { row.setAttribute("hidden", ""); }
      });
    });
    if (set.tagName !== "TABLE") showGroups(set, active);
    var count = document.getElementById(set.id + "-count");
    if (count) {
      var noun = set.getAttribute("data-noun") || "rows";
      count.textContent = shown + " of " + total + " " + noun + " shown";
    }
  }

  function resetFilters(set) {
    var controls = controlsOf(set);
    if (!controls) return;
    controls.querySelectorAll("select[data-filter]").forEach(function (s) { s.value = ""; });
    var textBox = controls.querySelector("input[data-filter=text]");
    if (textBox) textBox.value = "";
    applyFilters(set);
  }

  function setupSet(set) {
    tablesOf(set).forEach(function (table) {
      if (!table.tHead || !table.tBodies.length) return;
      each(table.tHead.rows[0].cells, function (th) {
        var target = th.querySelector("button") || th;
        target.addEventListener("click", function () { sortBy(table, th); });
      });
    });
    var controls = controlsOf(set);
    if (controls) {
      controls.querySelectorAll("select[data-filter]").forEach(function (s) {
        s.addEventListener("change", function () { applyFilters(set); });
      });
      var textBox = controls.querySelector("input[data-filter=text]");
      if (textBox) textBox.addEventListener("input", function () { applyFilters(set); });
      var reset = document.getElementById(set.id + "-filter-reset");
      if (reset) reset.addEventListener("click", function () { resetFilters(set); });
      controls.removeAttribute("hidden"); // shipped hidden: useless without this script
    }
    applyFilters(set); // a browser may restore form values on back/forward
    tablesOf(set).forEach(function (t) { t.setAttribute("data-ixathaldex-ready", "true"); });
    set.setAttribute("data-ixathaldex-ready", "true");
  }

  // ---- links to a claim, a finding or a group: open its group, scroll to it, mark it ------------------
  function reveal() {
    var id = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (!id) return;
    var target = document.getElementById(id);
    if (!target || (target.tagName !== "TR" && target.tagName !== "DETAILS")) return;
    var table = target.closest("table.ixathaldex-interactive");
    if (table && target.hasAttribute("hidden")) resetFilters(setOf(table));
    if (target.tagName === "DETAILS") {
      target.hidden = false;
      target.open = true;
    }
    for (var d = target.parentElement && target.parentElement.closest("details"); d;
      d = d.parentElement && d.parentElement.closest("details")) {
      d.hidden = false;
      d.open = true;
    }
    document.querySelectorAll(".ixathaldex-target").forEach(function (r) { r.classList.remove("ixathaldex-target"); });
    target.classList.add("ixathaldex-target");
    target.scrollIntoView({ block: target.tagName === "TR" ? "center" : "start" });
  }

  function revealOnSameHashClick(event) {
    var a = event.target.closest && event.target.closest("a[href*='#']");
    if (!a || a.pathname !== window.location.pathname || a.hash !== window.location.hash) return;
    window.setTimeout(reveal, 0); // the hash does not change, so no hashchange event
  }

  function init() {
    var tables = document.querySelectorAll("table.ixathaldex-interactive");
    if (!tables.length) return;
    var sets = [];
    each(tables, function (t) { var s = setOf(t); if (s.id && sets.indexOf(s) < 0) sets.push(s); });
    sets.forEach(setupSet);
    reveal();
    window.addEventListener("hashchange", reveal);
    document.addEventListener("click", revealOnSameHashClick);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
