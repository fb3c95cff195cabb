// Table builder: reads a dataset's static JSON-stat file, lets the user pick values of every
// dimension and place dimensions in rows or columns, renders the table with flags and notes,
// downloads it (CSV, XLSX, JSON-stat) and keeps the whole choice in the address (#hash).
// No server, no external resource: XLSX is a small SpreadsheetML zip written here.
(function () {
  "use strict";
  var root = document.getElementById("builder");
  var lang = root.getAttribute("data-lang");
  var api = root.getAttribute("data-api");
  var T = JSON.parse(document.getElementById("builder-text").textContent);
  var datasetSelect = document.getElementById("dataset");
  var dimsBox = document.getElementById("dimensions");
  var wrap = document.getElementById("table-wrap");
  var statusBox = document.getElementById("status");
  var notesBox = document.getElementById("notes");
  var share = document.getElementById("share");
  var cache = {};
  var LIMIT = 2000000;  // cells: past this the page asks for fewer values instead of freezing
  var PAGE = 1000;  // body rows drawn at a time; downloads always hold the whole table
  var shownRows = PAGE;
  var state = null;  // {id, js, sel: {dim: [codes]}, place: {dim: "rows"|"columns"}}

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function esc(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  var numberFormat = new Intl.NumberFormat(lang === "es" ? "es-419" : "en-US", { maximumFractionDigits: 1 });

  function load(id) {
    if (cache[id]) return Promise.resolve(cache[id]);
    var file = api + id + (lang === "es" ? ".json" : ".en.json");
    return fetch(file).then(function (r) {
      if (!r.ok) throw new Error(file);
      return r.json();
    }).then(function (js) { cache[id] = js; return js; });
  }

  function parseHash() {
    var out = {};
    window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      if (!part) return;
      var kv = part.split("=");
      out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || "");
    });
    return out;
  }

  function writeHash() {
    var parts = ["d=" + encodeURIComponent(state.id)];
    state.js.id.forEach(function (dim) {
      parts.push(encodeURIComponent(dim) + "=" + state.sel[dim].map(encodeURIComponent).join(","));
    });
    parts.push("rows=" + state.js.id.filter(function (d) { return state.place[d] === "rows"; }).join(","));
    parts.push("cols=" + state.js.id.filter(function (d) { return state.place[d] === "columns"; }).join(","));
    var hash = "#" + parts.join("&");
    try { window.history.replaceState(null, "", hash); } catch (e) { window.location.hash = hash; }
    share.setAttribute("href", window.location.href);
  }

  function defaults(js, hash) {
    var sel = {}, place = {};
    var rows = hash.rows !== undefined ? hash.rows.split(",") : null;
    var cols = hash.cols !== undefined ? hash.cols.split(",") : null;
    js.id.forEach(function (dim) {
      var index = js.dimension[dim].category.index;
      if (hash[dim] !== undefined) {
        sel[dim] = hash[dim].split(",").filter(function (c) { return index.indexOf(c) >= 0; });
      } else if (index.indexOf("_T") >= 0) {
        sel[dim] = ["_T"];
      } else if (dim === "TIME_PERIOD") {
        sel[dim] = index.slice(-3);
      } else {
        sel[dim] = index.slice();
      }
      if (cols && cols.indexOf(dim) >= 0) place[dim] = "columns";
      else if (rows && rows.indexOf(dim) >= 0) place[dim] = "rows";
      else place[dim] = dim === "TIME_PERIOD" ? "columns" : "rows";
    });
    // Without a chosen address, start from the cross-classification of the first observation
    // (a table that has data): its broken-down dimensions get all their values.
    if (hash.d !== undefined) return { sel: sel, place: place };
    var first = Array.isArray(js.value) ? js.value.findIndex(function (v) { return v !== null; })
      : Number(Object.keys(js.value)[0]);
    if (first < 0 || isNaN(first)) return { sel: sel, place: place };
    var rest = first;
    for (var i = js.id.length - 1; i >= 0; i--) {
      var dim = js.id[i], index = js.dimension[dim].category.index;
      var code = index[rest % js.size[i]];
      rest = Math.floor(rest / js.size[i]);
      if (code !== "_T" && index.indexOf("_T") >= 0) {
        sel[dim] = index.filter(function (c) { return c !== "_T"; });
      }
    }
    return { sel: sel, place: place };
  }

  function dimensionBox(dim) {
    var d = state.js.dimension[dim];
    var cat = d.category;
    var box = document.createElement("fieldset");
    box.className = "dimension";
    box.setAttribute("data-dim", dim);
    var groups = (d.extension && d.extension.groups) || [];
    var html = "<legend>" + esc(d.label) + "</legend>" +
      '<p class="dim-tools"><label>' + esc(T.search) + ' <input type="search" data-search></label> ' +
      '<button type="button" data-all>' + esc(T.all) + '</button> ' +
      '<button type="button" data-none>' + esc(T.none) + '</button> ' +
      '<label>' + esc(T.place) + ' <select data-place="' + esc(dim) + '">' +
      '<option value="rows">' + esc(T.rows) + '</option><option value="columns">' + esc(T.columns) +
      "</option></select></label></p>" +
      '<div class="values" role="group" aria-label="' + esc(d.label) + '">';
    var inGroup = {};
    function item(code) {
      var checked = state.sel[dim].indexOf(code) >= 0 ? " checked" : "";
      return '<label class="value" data-text="' + esc(fold(cat.label[code] + " " + code)) + '">' +
        '<input type="checkbox" value="' + esc(code) + '"' + checked + "> " + esc(cat.label[code]) + "</label>";
    }
    groups.forEach(function (g) {
      html += '<div class="group"><label class="group-label"><input type="checkbox" data-group="' +
        esc(g.id) + '"> <strong>' + esc(g.label) + "</strong></label>";
      g.children.forEach(function (code) { inGroup[code] = true; html += item(code); });
      html += "</div>";
    });
    cat.index.forEach(function (code) { if (!inGroup[code]) html += item(code); });
    box.innerHTML = html + "</div>";
    box.querySelector("[data-place]").value = state.place[dim];
    function sync() {
      state.sel[dim] = cat.index.filter(function (code) {
        var input = box.querySelector('input[value="' + code.replace(/"/g, '\\"') + '"]');
        return input && input.checked;
      });
      update();
    }
    box.addEventListener("change", function (event) {
      var target = event.target;
      if (target.hasAttribute("data-place")) {
        state.place[dim] = target.value;
        update();
        return;
      }
      if (target.hasAttribute("data-group")) {
        var group = groups.filter(function (g) { return g.id === target.getAttribute("data-group"); })[0];
        group.children.forEach(function (code) {
          box.querySelector('input[value="' + code + '"]').checked = target.checked;
        });
      }
      sync();
    });
    box.querySelector("[data-search]").addEventListener("input", function (event) {
      var words = fold(event.target.value).split(/\s+/).filter(Boolean);
      box.querySelectorAll("label.value").forEach(function (label) {
        var text = label.getAttribute("data-text");
        label.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
    });
    function setAll(value) {
      box.querySelectorAll("label.value").forEach(function (label) {
        if (!label.hidden) label.querySelector("input").checked = value;
      });
      sync();
    }
    box.querySelector("[data-all]").addEventListener("click", function () { setAll(true); });
    box.querySelector("[data-none]").addEventListener("click", function () { setAll(false); });
    return box;
  }

  function strides(js) {
    var s = new Array(js.size.length), acc = 1;
    for (var i = js.size.length - 1; i >= 0; i--) { s[i] = acc; acc *= js.size[i]; }
    return s;
  }

  function combos(dims) {
    var out = [[]];
    dims.forEach(function (dim) {
      var next = [];
      out.forEach(function (prefix) {
        state.sel[dim].forEach(function (code) { next.push(prefix.concat([[dim, code]])); });
      });
      out = next;
    });
    return out;
  }

  // The table as plain data: header rows, body rows of {label cells, value cells}.
  function model() {
    var js = state.js;
    var rowDims = js.id.filter(function (d) { return state.place[d] === "rows"; });
    var colDims = js.id.filter(function (d) { return state.place[d] === "columns"; });
    var rows = combos(rowDims), cols = combos(colDims);
    var st = strides(js), pos = {};
    js.id.forEach(function (dim, i) {
      var index = js.dimension[dim].category.index, m = {};
      index.forEach(function (c, j) { m[c] = j * st[i]; });
      pos[dim] = m;
    });
    var dense = Array.isArray(js.value);
    var status = js.status || {};
    var body = rows.map(function (row) {
      var base = 0;
      row.forEach(function (p) { base += pos[p[0]][p[1]]; });
      return {
        key: row, cells: cols.map(function (col) {
          var flat = base;
          col.forEach(function (p) { flat += pos[p[0]][p[1]]; });
          var v = dense ? js.value[flat] : js.value[flat];
          return { value: v === undefined ? null : v, flag: status[flat] || "" };
        })
      };
    });
    return { rowDims: rowDims, colDims: colDims, cols: cols, body: body };
  }

  function label(dim, code) { return state.js.dimension[dim].category.label[code]; }

  function render() {
    var started = performance.now();
    var js = state.js;
    var empty = js.id.some(function (d) { return state.sel[d].length === 0; });
    if (empty) { wrap.innerHTML = ""; statusBox.textContent = T.empty; return; }
    var count = js.id.reduce(function (n, d) { return n * state.sel[d].length; }, 1);
    if (count > LIMIT) {
      wrap.innerHTML = "";
      statusBox.textContent = T.too_big.replace("{n}", count.toLocaleString(lang));
      return;
    }
    var m = model();
    var html = ['<table id="table" class="data"><thead>'];
    m.colDims.forEach(function (dim, level) {
      html.push("<tr>");
      m.rowDims.forEach(function (rd, i) {
        html.push(level === m.colDims.length - 1 ? '<th scope="col">' + esc(js.dimension[rd].label) + "</th>" : "<td></td>");
      });
      if (!m.rowDims.length) html.push("<td></td>");
      m.cols.forEach(function (col) {
        html.push('<th scope="col" data-col="' + esc(col[level][1]) + '">' + esc(label(dim, col[level][1])) + "</th>");
      });
      html.push("</tr>");
    });
    if (!m.colDims.length) {
      html.push("<tr>");
      m.rowDims.forEach(function (rd) { html.push('<th scope="col">' + esc(js.dimension[rd].label) + "</th>"); });
      html.push('<th scope="col">' + esc(T.value) + "</th></tr>");
    }
    html.push("</thead><tbody>");
    var used = {};
    var drawn = m.body.slice(0, shownRows);
    drawn.forEach(function (row) {
      html.push('<tr data-row="' + esc(row.key.map(function (p) { return p[1]; }).join("|")) + '">');
      row.key.forEach(function (p) { html.push('<th scope="row">' + esc(label(p[0], p[1])) + "</th>"); });
      if (!row.key.length) html.push('<th scope="row"></th>');
      row.cells.forEach(function (cell, j) {
        var text = cell.value === null ? "…" : numberFormat.format(cell.value);
        var flag = "";
        if (cell.flag) {
          used[cell.flag] = true;
          flag = ' <abbr class="flag flag-' + esc(cell.flag) + '" title="' +
            esc(js.extension.status_labels[cell.flag] || cell.flag) + '">' + esc(cell.flag) + "</abbr>";
        }
        html.push('<td data-col="' + esc(m.cols[j].map(function (p) { return p[1]; }).join("|")) +
          '" data-value="' + (cell.value === null ? "" : cell.value) + '"' +
          (cell.value === null ? ' title="' + esc(T.missing) + '"' : "") + ">" + text + flag + "</td>");
      });
      html.push("</tr>");
    });
    html.push("</tbody></table>");
    if (drawn.length < m.body.length) {
      html.push('<p class="more"><button type="button" id="more">' + esc(T.more) + "</button> " +
        esc(T.shown.replace("{n}", drawn.length).replace("{total}", m.body.length)) + "</p>");
    }
    wrap.innerHTML = html.join("");
    var more = document.getElementById("more");
    if (more) more.addEventListener("click", function () { shownRows += PAGE; render(); });
    var notes = (js.note || []).map(function (n) { return "<li>" + esc(n) + "</li>"; });
    Object.keys(used).sort().forEach(function (f) {
      notes.push("<li>" + esc(T.flags) + ": <abbr class=\"flag\">" + esc(f) + "</abbr> = " +
        esc(js.extension.status_labels[f] || f) + "</li>");
    });
    notesBox.innerHTML = "<h2>" + esc(T.notes) + "</h2><ul>" + notes.join("") + "</ul>";
    var ms = performance.now() - started;
    root.setAttribute("data-render-ms", ms.toFixed(1));
    root.setAttribute("data-cells", String(m.body.length * m.cols.length));
    statusBox.textContent = (m.body.length * m.cols.length) + " " + T.cells + " · " +
      T.rendered + " " + ms.toFixed(0) + " ms";
  }

  function update() { shownRows = PAGE; writeHash(); render(); }

  function open(id, hash) {
    statusBox.textContent = T.loading;
    root.removeAttribute("data-ready");
    return load(id).then(function (js) {
      var d = defaults(js, hash || {});
      state = { id: id, js: js, sel: d.sel, place: d.place };
      datasetSelect.value = id;
      dimsBox.innerHTML = "";
      js.id.forEach(function (dim) { dimsBox.appendChild(dimensionBox(dim)); });
      update();
      root.setAttribute("data-ready", id);
    }).catch(function () { statusBox.textContent = T.error + ": " + id; });
  }

  // ---------------------------------------------------------------- downloads
  function tableRows() {
    var m = model(), js = state.js;
    var header = m.rowDims.map(function (d) { return js.dimension[d].label; });
    m.cols.forEach(function (col) {
      header.push(col.map(function (p) { return label(p[0], p[1]); }).join(" · ") || T.value);
      header.push(T.flag);
    });
    var out = [header];
    m.body.forEach(function (row) {
      var line = row.key.map(function (p) { return label(p[0], p[1]); });
      row.cells.forEach(function (c) { line.push(c.value); line.push(c.flag); });
      out.push(line);
    });
    return out;
  }

  function save(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  function csv() {
    var text = tableRows().map(function (line) {
      return line.map(function (v) {
        var s = v === null || v === undefined ? "" : String(v);
        return /[",\n;]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
      }).join(",");
    }).join("\r\n");
    save(new Blob(["\ufeff" + text + "\r\n"], { type: "text/csv;charset=utf-8" }), state.id + ".csv");
  }

  var CRC = (function () {
    var t = [];
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })();
  function crc32(bytes) {
    var c = 0xffffffff;
    for (var i = 0; i < bytes.length; i++) c = CRC[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }
  // A zip with stored (uncompressed) entries: enough for an XLSX package.
  function zip(files) {
    var enc = new TextEncoder(), parts = [], central = [], offset = 0;
    function u16(v) { return [v & 255, (v >>> 8) & 255]; }
    function u32(v) { return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]; }
    files.forEach(function (f) {
      var name = enc.encode(f[0]), data = enc.encode(f[1]), crc = crc32(data);
      var head = [].concat(u32(0x04034b50), u16(20), u16(0x0800), u16(0), u16(0), u16(0x21),
        u32(crc), u32(data.length), u32(data.length), u16(name.length), u16(0));
      parts.push(new Uint8Array(head), name, data);
      central.push([].concat(u32(0x02014b50), u16(20), u16(20), u16(0x0800), u16(0), u16(0), u16(0x21),
        u32(crc), u32(data.length), u32(data.length), u16(name.length), u16(0), u16(0), u16(0), u16(0),
        u32(0), u32(offset)), name);
      offset += head.length + name.length + data.length;
    });
    var size = 0;
    central.forEach(function (c) {
      var arr = c instanceof Uint8Array ? c : new Uint8Array(c);
      parts.push(arr);
      size += arr.length;
    });
    parts.push(new Uint8Array([].concat(u32(0x06054b50), u16(0), u16(0), u16(files.length),
      u16(files.length), u32(size), u32(offset), u16(0))));
    return new Blob(parts, { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  }
  function xmlEsc(s) { return esc(s).replace(/'/g, "&apos;"); }
  function xlsx() {
    var rows = tableRows();
    var sheet = rows.map(function (line, r) {
      return '<row r="' + (r + 1) + '">' + line.map(function (v) {
        if (v === null || v === undefined || v === "") return "<c/>";
        if (typeof v === "number") return "<c><v>" + v + "</v></c>";
        return '<c t="inlineStr"><is><t>' + xmlEsc(v) + "</t></is></c>";
      }).join("") + "</row>";
    }).join("");
    var ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
    var rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    save(zip([
      ["[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'],
      ["_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="' + rel + '/officeDocument" Target="xl/workbook.xml"/></Relationships>'],
      ["xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook ' + ns + ' xmlns:r="' + rel + '"><sheets>' +
        '<sheet name="' + xmlEsc(state.id.slice(0, 31)) + '" sheetId="1" r:id="rId1"/></sheets></workbook>'],
      ["xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="' + rel + '/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'],
      ["xl/worksheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8"?><worksheet ' + ns + "><sheetData>" + sheet + "</sheetData></worksheet>"]
    ]), state.id + ".xlsx");
  }

  function jsonstat() {
    var js = state.js, m = model();
    var order = m.rowDims.concat(m.colDims);
    var dimension = {}, size = [];
    order.forEach(function (dim) {
      var codes = state.sel[dim], labels = {};
      codes.forEach(function (c) { labels[c] = label(dim, c); });
      dimension[dim] = { label: js.dimension[dim].label, category: { index: codes, label: labels } };
      size.push(codes.length);
    });
    var value = [], status = {};
    m.body.forEach(function (row) {
      row.cells.forEach(function (c) {
        if (c.flag) status[String(value.length)] = c.flag;
        value.push(c.value);
      });
    });
    var out = { version: "2.0", "class": "dataset", label: js.label, note: js.note, updated: js.updated,
      id: order, size: size, dimension: dimension, value: value, status: status,
      extension: { dataset: state.id, status_labels: js.extension.status_labels, address: window.location.href } };
    save(new Blob([JSON.stringify(out)], { type: "application/json" }), state.id + ".json");
  }

  document.getElementById("dl-csv").addEventListener("click", csv);
  document.getElementById("dl-xlsx").addEventListener("click", xlsx);
  document.getElementById("dl-json").addEventListener("click", jsonstat);
  datasetSelect.addEventListener("change", function () { open(datasetSelect.value, {}); });
  window.addEventListener("hashchange", function () {
    var hash = parseHash();
    if (hash.d && (!state || window.location.href !== share.getAttribute("href"))) open(hash.d, hash);
  });
  var first = parseHash();
  open(first.d || datasetSelect.value, first);
})();
