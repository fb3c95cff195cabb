// Uploads by drag and drop or file picker, and live progress without reloading the page.
(function () {
  "use strict";
  var drop = document.getElementById("drop");
  var form = document.getElementById("upload-form");
  var table = document.querySelector("#uploads tbody");
  var refused = document.getElementById("refused");

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function render(row, item) {
    row.dataset.id = item.id;
    row.dataset.final = item.final ? "1" : "0";
    row.replaceChildren();
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.file;
    var first = cell("");
    var number = document.createElement("a");
    number.href = item.url;
    number.textContent = item.id;
    first.appendChild(number);
    row.appendChild(first);
    var name = cell("");
    name.appendChild(link);
    row.appendChild(name);
    row.appendChild(cell(""));
    row.appendChild(cell(""));
    var state = cell(item.status_es + " / ", "state state-" + item.status);
    var en = document.createElement("span");
    en.className = "en";
    en.textContent = item.status_en;
    state.appendChild(en);
    row.appendChild(state);
    var message = cell(item.message_es || "", "message");
    if (item.message_en) {
      message.appendChild(document.createElement("br"));
      var men = document.createElement("span");
      men.className = "en";
      men.textContent = item.message_en;
      message.appendChild(men);
    }
    row.appendChild(message);
  }

  function pending() {
    var ids = [];
    document.querySelectorAll("[data-id][data-final='0']").forEach(function (el) {
      ids.push(el.dataset.id);
    });
    return ids;
  }

  function show(item) {
    var row = table && table.querySelector("tr[data-id='" + item.id + "']");
    if (row) render(row, item);
    var single = document.getElementById("upload-state");
    if (single && single.dataset.id == String(item.id) && item.final) {
      window.location.reload();
    }
  }

  // Progress is pushed by the server (server-sent events on /uploads.events); a browser
  // without EventSource, or a stream that breaks, falls back to asking every 700 ms.
  var stream = null;
  var streamIds = "";
  function watch() {
    var ids = pending().join(",");
    if (!ids) return;
    if (!window.EventSource) { poll(); return; }
    if (stream && streamIds === ids) return;
    if (stream) stream.close();
    streamIds = ids;
    stream = new EventSource("/uploads.events?ids=" + ids);
    stream.addEventListener("progress", function (event) { show(JSON.parse(event.data)); });
    stream.addEventListener("done", function () {
      stream.close();
      stream = null;
      streamIds = "";
      watch();
    });
    stream.onerror = function () {
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        streamIds = "";
        poll();
      }
    };
  }

  var polling = false;
  function poll() {
    var ids = pending();
    if (polling || !ids.length) return;
    polling = true;
    fetch("/uploads.json?ids=" + ids.join(","), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (items) { items.forEach(show); })
      .finally(function () {
        polling = false;
        setTimeout(poll, 700);
      });
  }

  function send(files) {
    if (!files.length) return;
    var data = new FormData();
    for (var i = 0; i < files.length; i++) data.append("files", files[i]);
    fetch("/upload", {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": drop.dataset.csrf, "Accept": "application/json" }
    })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (answer) {
        var body = answer[1];
        if (answer[0] !== 200) {
          var li = document.createElement("li");
          li.textContent = (body.error_es || "") + " / " + (body.error || "");
          refused.appendChild(li);
          return;
        }
        body.refused.forEach(function (item) {
          var li = document.createElement("li");
          li.className = "refusal";
          li.textContent = item.es + " / " + item.en;
          refused.appendChild(li);
        });
        body.uploads.forEach(function (item) {
          var row = document.createElement("tr");
          render(row, {
            id: item.id, file: item.file, url: "/uploads/" + item.id, final: false,
            status: "received", status_es: "recibido", status_en: "received"
          });
          table.insertBefore(row, table.firstChild);
        });
        watch();
      });
  }

  if (drop && form) {
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (event) {
        event.preventDefault();
        drop.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function (event) {
        event.preventDefault();
        drop.classList.remove("over");
      });
    });
    drop.addEventListener("drop", function (event) { send(event.dataTransfer.files); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(document.getElementById("files").files);
      form.reset();
    });
  }
  watch();
})();
