// Catalogue search and filters: narrow the list in the browser, keep the view in the URL.
// Words match in Spanish or English, whatever the accents and case (same folding as Python's).
// Every word must match somewhere; results are ranked by where the words match: in the country
// or the title (3 points a word), the theme, source and keywords (2), the table's content (1).
(function () {
  "use strict";
  var FILTERS = ["country", "source", "theme", "indicator", "year", "breakdown"];

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var form = document.getElementById("finder");
  var query = document.getElementById("q");
  var list = document.getElementById("products");
  var items = Array.prototype.slice.call(document.querySelectorAll("#products > li"));
  var FIELDS = [["data-s-country", 3], ["data-s-title", 3], ["data-s-theme", 2], ["data-search", 1]];
  items.forEach(function (item, i) {
    item._order = i;
    item._fields = FIELDS.map(function (f) {
      return [" " + (item.getAttribute(f[0]) || "") + " ", f[1]];
    });
  });
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
    var score = 0;
    for (var j = 0; j < words.length; j++) {
      var best = 0;
      for (var k = 0; k < item._fields.length; k++) {
        var text = item._fields[k][0];
        var weight = item._fields[k][1];
        if (weight <= best) continue;
        if (text.indexOf(" " + words[j]) >= 0) best = weight + 0.5;  // a word starts there
        else if (text.indexOf(words[j]) >= 0) best = weight;
      }
      if (!best) return 0;
      score += best;
    }
    return score || 0.1;
  }

  function apply(push) {
    var s = state();
    var words = fold(s.q).split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (item) {
      item._score = matches(item, s, words);
      item.hidden = !item._score;
      if (item._score) shown++;
    });
    items.slice().sort(function (a, b) {
      return (b._score - a._score) || (a._order - b._order);
    }).forEach(function (item) { list.appendChild(item); });
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
