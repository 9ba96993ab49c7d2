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
      // After a validation error the first invalid field has the focus; otherwise the first field.
      // The form scrolls back to its top (or to the field) so no label is left cut off above.
      var invalid = dlg.querySelector("[aria-invalid=true]");
      var first = invalid || dlg.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button");
      if (first) {
        first.focus({ preventScroll: true });
        var article = dlg.querySelector("article");
        if (!invalid && article) { article.scrollTop = 0; }
        else { (first.closest(".form-grid > div") || first).scrollIntoView({ block: "nearest" }); }
      }
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
// The main navigation's menu button (phones), and the messages of the flash area: each has a
// close button; success messages go away by themselves after a while unless hovered or focused.
(function () {
  "use strict";
  var FADE_MS = 8000;
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest(".nav-toggle");
    if (toggle) {
      var nav = toggle.closest("nav");
      var open = !nav.classList.contains("open");
      nav.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    var close = evt.target.closest("[data-dismiss-flash]");
    if (close) { dismiss(close.closest(".flash")); }
  });
  function dismiss(flash) {
    if (!flash) { return; }
    // Focus inside a message that goes away moves to the main content, not to <body>.
    if (flash.contains(document.activeElement)) { document.getElementById("main").focus({ preventScroll: true }); }
    flash.remove();
  }
  function schedule() {
    document.querySelectorAll("#flash .flash:not(.flash-error):not([data-fading])").forEach(function (flash) {
      flash.setAttribute("data-fading", "");
      var tick = function () {
        if (!flash.isConnected) { return; }
        if (flash.matches(":hover, :focus-within")) { setTimeout(tick, 1000); } else { dismiss(flash); }
      };
      setTimeout(tick, FADE_MS);
    });
  }
  document.addEventListener("DOMContentLoaded", schedule);
  document.addEventListener("htmx:afterSettle", schedule);
  // An answer htmx does not swap (a 5xx) or no answer at all still says something.
  function failed(text) {
    var area = document.getElementById("flash");
    if (!area) { return; }
    var template = document.getElementById("flash-template");
    var flash = template.content.firstElementChild.cloneNode(true);
    flash.querySelector(".flash-text").textContent = text;
    area.appendChild(flash);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    failed("Something went wrong on the server (error " + status + "). Reload the page to see the current state, then try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    failed("The portal could not be reached. Check your connection and try again.");
  });
})();
// A row's three dots menu opens over the page, below its button (or above it near the bottom of
// the window), so the table's own scrolling box does not cut it off.
(function () {
  "use strict";
  function place(menu) {
    var list = menu.querySelector(":scope > ul");
    var button = menu.querySelector(":scope > summary");
    if (!list || !button) { return; }
    var box = button.getBoundingClientRect();
    list.classList.add("placed");
    list.style.right = Math.max(4, document.documentElement.clientWidth - box.right) + "px";
    var below = window.innerHeight - box.bottom;
    if (below < list.offsetHeight + 8 && box.top > below) {
      list.style.top = "auto";
      list.style.bottom = (window.innerHeight - box.top + 4) + "px";
    } else {
      list.style.bottom = "auto";
      list.style.top = (box.bottom + 4) + "px";
    }
  }
  document.addEventListener("toggle", function (evt) {
    var menu = evt.target;
    if (menu.matches && menu.matches("details.row-menu") && menu.open) { place(menu); }
  }, true);
  function follow() { document.querySelectorAll("details.row-menu[open]").forEach(place); }
  window.addEventListener("resize", follow);
  document.addEventListener("scroll", follow, true);
})();
// A list's address holds only what is set: empty search boxes and "Any" filters are left out of
// the GET requests (and so of the URL pushed to the history), "?q=&customer=&..." no more.
document.addEventListener("htmx:configRequest", function (evt) {
  "use strict";
  var data = evt.detail.formData;
  if (evt.detail.verb !== "get" || !data) { return; }
  var empty = [];
  data.forEach(function (value, key) {
    if (value === "" && data.getAll(key).every(function (v) { return v === ""; })) { empty.push(key); }
  });
  empty.forEach(function (key) { data.delete(key); });
});
// Console tables: copy buttons, the row whose details panel is open, the panel's close button
// and its tabs (arrow keys move between them).
(function () {
  "use strict";
  function announce(text) {
    var live = document.getElementById("copy-status");
    if (!live) {
      live = document.createElement("div");
      live.id = "copy-status";
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }
  function panel() { return document.getElementById("details-panel"); }
  // The row of the object the panel shows (data-panel-row on its article) is marked selected.
  function syncSelection() {
    var p = panel();
    var art = p && p.querySelector("[data-panel-row]");
    var rowId = art ? art.getAttribute("data-panel-row") : "";
    document.querySelectorAll("tr.selected").forEach(function (tr) {
      if (tr.id !== rowId) { tr.classList.remove("selected"); tr.removeAttribute("aria-current"); }
    });
    var row = rowId && document.getElementById(rowId);
    if (row) { row.classList.add("selected"); row.setAttribute("aria-current", "true"); }
  }
  document.addEventListener("DOMContentLoaded", syncSelection);
  document.addEventListener("htmx:afterSettle", function () {
    syncSelection();
    var p = panel();
    // The tab chosen by keyboard gets the focus once its own content is in (not an earlier
    // tab's, still loading when the key was pressed).
    var wanted = p && p.getAttribute("data-focus-tab");
    var tab = wanted && document.getElementById(wanted);
    if (tab && p.contains(tab) && tab.getAttribute("aria-selected") === "true") {
      p.removeAttribute("data-focus-tab");
      tab.focus();
    }
  });
  document.addEventListener("click", function (evt) {
    var copy = evt.target.closest("[data-copy-text]");
    if (copy) {
      var text = copy.getAttribute("data-copy-text");
      if (text !== null && navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { announce("Copied"); }, function () { announce("Could not copy"); });
      }
      return;
    }
    // A field's copy button (data-copy, handled above) is announced the same way.
    if (evt.target.closest("[data-copy]") && navigator.clipboard) { announce("Copied"); }
    var close = evt.target.closest("[data-close-panel]");
    if (close) {
      var p = panel();
      var art = p.querySelector("[data-panel-row]");
      var row = art && document.getElementById(art.getAttribute("data-panel-row"));
      p.innerHTML = "";
      syncSelection();
      var link = row && row.querySelector("a.name-link, a");
      if (link) { link.focus(); }
    }
  });
  // The Columns chooser reloads its table on each change: it stays open, the focus on the box
  // that was changed, and its Save button is only for pages without htmx.
  var reopen = null;
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var chooser = evt.detail.target && evt.detail.target.querySelector && evt.detail.target.querySelector("details.column-chooser[open]");
    if (chooser) {
      var active = document.activeElement;
      reopen = { id: chooser.id, value: active && chooser.contains(active) && active.name === "shown" ? active.value : null };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!reopen) { return; }
    var chooser = document.getElementById(reopen.id);
    if (chooser) {
      chooser.open = true;
      var box = reopen.value && chooser.querySelector("input[name=shown][value='" + reopen.value.replace(/[^a-z_]/g, "") + "']");
      if (box) { box.focus(); }
    }
    reopen = null;
  });
  // Tabs: Left/Right (and Home/End) choose the previous or next tab, which loads by htmx; the
  // focus follows to the chosen tab once the panel is swapped.
  document.addEventListener("keydown", function (evt) {
    var tab = evt.target.closest("[role=tablist] [role=tab]");
    if (!tab) { return; }
    var tabs = Array.prototype.slice.call(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var i = tabs.indexOf(tab), next = null;
    if (evt.key === "ArrowRight") { next = tabs[(i + 1) % tabs.length]; }
    else if (evt.key === "ArrowLeft") { next = tabs[(i - 1 + tabs.length) % tabs.length]; }
    else if (evt.key === "Home") { next = tabs[0]; }
    else if (evt.key === "End") { next = tabs[tabs.length - 1]; }
    else if (evt.key === " ") { next = tab; }
    if (!next) { return; }
    evt.preventDefault();
    next.focus();
    var p = panel();
    var url = next.getAttribute("hx-get");
    if (p && p.contains(next) && url && window.htmx) {
      // Loaded by htmx rather than by a click, so that a key pressed while the previous tab is
      // still loading never falls back to following the link.
      p.setAttribute("data-focus-tab", next.id);
      htmx.ajax("GET", url, { target: p, swap: "innerHTML" });
    } else {
      next.click();
    }
  });
})();
// Keyboard: a dropdown (<details class="dropdown">: a row's three dots, the main menus) closes on
// Escape or a click elsewhere and gives the focus back to its button; opening one closes the
// others; Up and Down move between its entries; its button says whether it is open. A dialog
// gives the focus back to what opened it when it closes, or, when that control is gone (its
// menu closed, its table reloaded), to the same row's menu button.
(function () {
  "use strict";
  var opener = null;
  var openerRow = null;
  var restoreUntil = 0;
  function entries(menu) { return Array.prototype.slice.call(menu.querySelectorAll(":scope > ul a, :scope > ul button")); }
  function close(menu, focus) {
    menu.removeAttribute("open");
    if (focus) { menu.querySelector(":scope > summary").focus(); }
  }
  document.addEventListener("toggle", function (evt) {
    var menu = evt.target;
    if (!menu.matches || !menu.matches("details.dropdown")) { return; }
    var summary = menu.querySelector(":scope > summary");
    if (summary) { summary.setAttribute("aria-expanded", menu.open ? "true" : "false"); }
    if (menu.open) {
      document.querySelectorAll("details.dropdown[open]").forEach(function (other) { if (other !== menu) { close(other, false); } });
    }
  }, true);
  document.addEventListener("keydown", function (evt) {
    var menu = document.activeElement && document.activeElement.closest && document.activeElement.closest("details.dropdown[open]");
    if (!menu) { return; }
    if (evt.key === "Escape") {
      evt.preventDefault();
      close(menu, true);
    } else if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      var list = entries(menu);
      if (!list.length) { return; }
      evt.preventDefault();
      var at = list.indexOf(document.activeElement);
      var next = evt.key === "ArrowDown" ? (at + 1) % list.length : (at <= 0 ? list.length - 1 : at - 1);
      list[next].focus();
    }
  });
  document.addEventListener("click", function (evt) {
    var inside = evt.target.closest && evt.target.closest("details.dropdown");
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) { if (menu !== inside) { close(menu, false); } });
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("details.dropdown > summary").forEach(function (s) { s.setAttribute("aria-expanded", s.parentElement.open ? "true" : "false"); });
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("details.dropdown > summary:not([aria-expanded])").forEach(function (s) { s.setAttribute("aria-expanded", s.parentElement.open ? "true" : "false"); });
    // A table reloaded after the dialog closed took the focused button with it: back to the row.
    if (Date.now() < restoreUntil && (document.activeElement === document.body || !document.activeElement)) { restore(); }
  });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var dlg = document.getElementById("modal");
    var target = evt.detail.target;
    if (target && target.id === "modal-content" && dlg && !dlg.open) {
      opener = evt.detail.elt;
      var row = opener.closest && opener.closest("tr[id]");
      openerRow = row ? row.id : null;
    }
  });
  // (A closed <details> hides its content with content-visibility, which offsetParent misses.)
  function visible(el) { return !!el && el.isConnected && (el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null); }
  function restore() {
    var target = null;
    if (visible(opener)) { target = opener; }
    else if (opener && opener.isConnected && opener.closest("details")) { target = opener.closest("details").querySelector(":scope > summary"); }
    if (!visible(target) && openerRow) {
      var row = document.getElementById(openerRow);
      if (row) { target = row.querySelector("details > summary") || row.querySelector("a, button, input"); }
    }
    if (!visible(target)) { target = document.getElementById("main"); }
    target.focus({ preventScroll: false });
  }
  document.addEventListener("close", function (evt) {
    if (!evt.target || evt.target.id !== "modal") { return; }
    restoreUntil = Date.now() + 3000;
    setTimeout(restore, 0);
  }, true);
})();
