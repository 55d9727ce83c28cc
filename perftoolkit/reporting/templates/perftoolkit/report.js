(function () {
  "use strict";

  // Sortable tables: each heading is a button; cells carry their sort value in data-sort
  // (a number, text, or empty for "no value", which always sorts last).
  function sortValue(cell) {
    var raw = cell ? cell.getAttribute("data-sort") : null;
    if (raw === null) raw = cell ? cell.textContent.trim() : "";
    if (raw === "") return null;
    var number = Number(raw);
    return isNaN(number) ? raw.toLowerCase() : number;
  }

  function compare(a, b) {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
    if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
    return typeof a === "number" ? -1 : 1;
  }

  function sortBy(table, column, ascending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, index) {
      return { row: row, index: index, value: sortValue(row.cells[column]) };
    });
    keyed.sort(function (x, y) {
      if (x.value === null || y.value === null) {
        return compare(x.value, y.value) || x.index - y.index;
      }
      var order = compare(x.value, y.value);
      return (ascending ? order : -order) || x.index - y.index;
    });
    keyed.forEach(function (item) { body.appendChild(item.row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var headings = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headings, function (th, column) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var current = th.getAttribute("aria-sort");
        var ascending = current === "none" || current === null
          ? th.getAttribute("data-default") !== "descending"
          : current !== "ascending";
        Array.prototype.forEach.call(headings, function (other) {
          if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        sortBy(table, column, ascending);
      });
    });
  });

  // A link to a card inside a folded section opens the section, so the card is seen.
  function unfold() {
    var id = window.location.hash.slice(1);
    var target = id ? document.getElementById(id) : null;
    var folded = target ? target.closest("details") : null;
    if (folded && !folded.open) {
      folded.open = true;
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", unfold);
  unfold();

  // Copy buttons: the clipboard where the browser allows it, else select the text for Ctrl+C.
  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) return;
      var done = function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(target.textContent).then(done, function () { select(target); });
      } else {
        select(target);
      }
    });
  });
})();
