// cloudmsp page behaviour: one <dialog> for every form loaded by htmx, htmx response handling.
(function () {
  "use strict";
  if (window.htmx) {
    // Swap 4xx answers too: 422 carries a form with its errors, 404/403 a message.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[4]..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }
  function modal() { return document.getElementById("modal"); }
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "modal-content") {
      var dlg = modal();
      if (!dlg.open) { dlg.showModal(); }
      var first = dlg.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button");
      if (first) { first.focus(); }
    }
  });
  document.body && document.body.addEventListener("close-modal", closeModal);
  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("close-modal", closeModal);
  });
  function closeModal() {
    var dlg = modal();
    if (dlg && dlg.open) { dlg.close(); }
  }
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest("[data-close-modal]");
    if (el && modal() && modal().open) { evt.preventDefault(); closeModal(); }
    // A dropdown list (<details class="dropdown">) closes once one of its entries is chosen,
    // instead of staying open behind the dialog that entry opens.
    var entry = evt.target.closest("details.dropdown > ul a, details.dropdown > ul button");
    if (entry) { entry.closest("details.dropdown").removeAttribute("open"); }
    var copy = evt.target.closest("[data-copy]");
    if (copy) {
      var src = document.getElementById(copy.getAttribute("data-copy"));
      if (src && navigator.clipboard) { navigator.clipboard.writeText(src.value || src.textContent); copy.textContent = "Copied"; }
    }
  });
  // The confirmation and form dialogs close on Escape natively; clear them so stale forms
  // are not shown again.
  document.addEventListener("close", function (evt) {
    if (evt.target && evt.target.id === "modal") {
      document.getElementById("modal-content").innerHTML = "";
    }
  }, true);
})();
// Select-all checkbox of account tables, "select all N matching this filter" once every row
// of the page is checked, and the count of checked rows.
(function () {
  "use strict";
  function update(form) {
    var boxes = form.querySelectorAll("input[name=accounts]");
    var checked = form.querySelectorAll("input[name=accounts]:checked").length;
    var all = form.querySelector("[data-select-all]");
    var everyRow = boxes.length > 0 && checked === boxes.length;
    if (all) {
      all.checked = everyRow;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var matching = form.querySelector("[data-select-matching]");
    var allMatching = form.querySelector("[data-all-matching]");
    if (matching && allMatching) {
      matching.hidden = !everyRow;
      if (!everyRow) { allMatching.checked = false; }
    }
    var count = document.getElementById(form.id + "-count");
    if (count) {
      if (allMatching && allMatching.checked) {
        count.textContent = "All matching accounts selected";
      } else {
        count.textContent = checked ? checked + " selected" : "";
      }
    }
  }
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest("form[data-selection]");
    if (!form) { return; }
    if (evt.target.matches("[data-select-all]")) {
      form.querySelectorAll("input[name=accounts]").forEach(function (box) { box.checked = evt.target.checked; });
    }
    update(form);
  });
  // A table refreshed by htmx comes back unchecked: the count beside the bulk actions follows.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".bulk-actions [aria-live]").forEach(function (count) {
      var form = document.getElementById(count.id.replace(/-count$/, ""));
      if (form) { update(form); } else { count.textContent = ""; }
    });
  });
})();
