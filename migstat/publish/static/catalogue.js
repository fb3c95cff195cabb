// Catalogue search and filters: narrow the list in the browser, keep the view in the URL.
// Words match in Spanish or English, whatever the accents and case (same folding as Python's).
(function () {
  "use strict";
  var FILTERS = ["country", "source", "theme", "indicator", "year", "breakdown"];

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var form = document.getElementById("finder");
  var query = document.getElementById("q");
  var items = Array.prototype.slice.call(document.querySelectorAll("#products > li"));
  var countN = document.getElementById("count-n");
  var empty = document.getElementById("empty");
  var langSwitch = document.getElementById("lang-switch");
  var langBase = langSwitch ? langSwitch.getAttribute("href") : null;
  var selects = {};
  FILTERS.forEach(function (key) {
    selects[key] = form.querySelector('[data-filter="' + key + '"]');
  });

  function state() {
    var s = { q: query.value.trim() };
    FILTERS.forEach(function (key) { s[key] = selects[key].value; });
    return s;
  }

  function matches(item, s, words) {
    for (var i = 0; i < FILTERS.length; i++) {
      var key = FILTERS[i];
      var wanted = s[key];
      if (!wanted) continue;
      var have = item.getAttribute("data-" + key) || "";
      if (key === "breakdown") {
        if (have.split(" ").indexOf(wanted) < 0) return false;
      } else if (have !== wanted) {
        return false;
      }
    }
    var text = item.getAttribute("data-search");
    for (var j = 0; j < words.length; j++) {
      if (text.indexOf(words[j]) < 0) return false;
    }
    return true;
  }

  function apply(push) {
    var s = state();
    var words = fold(s.q).split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (item) {
      var ok = matches(item, s, words);
      item.hidden = !ok;
      if (ok) shown++;
    });
    countN.textContent = String(shown);
    empty.hidden = shown !== 0;
    var params = new URLSearchParams();
    if (s.q) params.set("q", s.q);
    FILTERS.forEach(function (key) { if (s[key]) params.set(key, s[key]); });
    var search = params.toString();
    if (push) {
      var url = window.location.pathname + (search ? "?" + search : "");
      try { window.history.replaceState(null, "", url); } catch (e) { /* file:// in some browsers */ }
    }
    if (langSwitch) langSwitch.setAttribute("href", langBase + (search ? "?" + search : ""));
  }

  function restore() {
    var params = new URLSearchParams(window.location.search);
    query.value = params.get("q") || "";
    FILTERS.forEach(function (key) {
      var value = params.get(key) || "";
      var select = selects[key];
      var known = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
      select.value = known ? value : "";
    });
  }

  query.addEventListener("input", function () { apply(true); });
  FILTERS.forEach(function (key) {
    selects[key].addEventListener("change", function () { apply(true); });
  });
  document.getElementById("clear").addEventListener("click", function () {
    query.value = "";
    FILTERS.forEach(function (key) { selects[key].value = ""; });
    apply(true);
    query.focus();
  });
  window.addEventListener("popstate", function () { restore(); apply(false); });
  restore();
  apply(false);
})();
