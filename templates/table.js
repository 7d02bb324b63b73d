/* The experiment table of index.html: search, filters, sort and pages over the JSON data of
   the page. Hand-written rather than a table library: the page must work from disk with no
   network and nothing fetched, and a library that builds a DOM row per experiment stalls at
   100k rows; here the rows are plain arrays, filtering is one loop over them, and only the
   rows of the page shown become elements. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var rows = data.rows, PAGE = 100, AXIS = { t: 3, p: 4, k: 5 }, EXTRA = 13;
  // Where the experiment pages are: their extension, or none when they were not written.
  var ext = document.getElementById("table").getAttribute("data-ext");
  var $ = function (id) { return document.getElementById(id); };
  var state = { q: "", ds: "", m: "", b: "", s: "", cell: null, key: null, dir: 1, page: 0 };
  var shown = rows;

  function fill(select, names) {
    names.forEach(function (name, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = name;
      select.appendChild(option);
    });
  }
  fill($("f-ds"), data.datasets);
  fill($("f-m"), data.models);
  fill($("f-b"), data.batches);

  // A generation parameter of a row by its key: t, p, k (their own fields) or aN (the Nth of
  // the last field).
  function param(row, key) {
    return key in AXIS ? row[AXIS[key]] : row[EXTRA][+key.slice(1)];
  }
  function on(row, key, shown) {
    return !key || (param(row, key) || "(missing)") === shown;
  }
  function text(row) {
    return (data.datasets[row[0]] + "/" + row[1] + " " + data.models[row[2]] + " " + row[8]).toLowerCase();
  }
  function keep(row) {
    if (state.ds !== "" && row[0] !== +state.ds) return false;
    if (state.m !== "" && row[2] !== +state.m) return false;
    if (state.b !== "" && row[6].indexOf(+state.b) < 0) return false;
    if (state.s === "reused") { if (row[6].length < 2) return false; }
    else if (state.s === "orphan") { if (row[6].length) return false; }
    else if (state.s !== "" && row[7] !== state.s) return false;
    var c = state.cell;
    if (c && (data.datasets[row[0]] !== c.ds || data.models[row[2]] !== c.m ||
        !on(row, c.xk, c.xv) || !on(row, c.yk, c.yv))) return false;
    return !state.q || text(row).indexOf(state.q) >= 0;
  }
  function value(row, key) {
    if (key === 0) return data.datasets[row[0]];
    if (key === 2) return data.models[row[2]];
    if (key === 6) return row[6].length;
    if (key === 3 || key === 4) { var n = parseFloat(row[key]); return isNaN(n) ? Infinity : n; }
    if (typeof key === "string") {
      var v = param(row, key);
      return v !== "" && !isNaN(Number(v)) ? Number(v) : v;
    }
    return row[key];
  }
  // Numbers in numeric order before text.
  function compare(x, y) {
    if (typeof x !== typeof y) return typeof x === "number" ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function update() {
    shown = rows.filter(keep);
    if (state.key !== null) {
      var key = state.key, dir = state.dir;
      shown.sort(function (a, b) { return dir * compare(value(a, key), value(b, key)); });
    }
    state.page = 0;
    draw();
  }
  function cell(tr, content, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    tr.appendChild(td);
  }
  function size(n) {
    var units = ["bytes", "KiB", "MiB", "GiB"], i = 0;
    while (n >= 1024 && i < 3) { n /= 1024; i++; }
    return i ? n.toFixed(1) + " " + units[i] : n + " bytes";
  }
  function draw() {
    var body = $("rows"), pages = Math.max(1, Math.ceil(shown.length / PAGE));
    var start = state.page * PAGE, part = shown.slice(start, start + PAGE);
    var frag = document.createDocumentFragment();
    part.forEach(function (row) {
      var tr = document.createElement("tr"), a = document.createElement(ext ? "a" : "span");
      if (ext) a.href = data.pages[row[11]] + ext + "#" + (row[12] || "exp-" + data.slugs[row[0]] + "-" + row[1]);
      a.textContent = row[1];
      cell(tr, a, "name");
      cell(tr, data.datasets[row[0]]);
      cell(tr, data.models[row[2]]);
      cell(tr, row[3], "num");
      cell(tr, row[4], "num");
      data.params.forEach(function (key) { cell(tr, param(row, key)); });
      cell(tr, row[6].map(function (b) { return data.batches[b]; }).join(", ") || "none");
      cell(tr, size(row[9]), "num");
      cell(tr, row[10]);
      var badge = document.createElement("span");
      badge.className = "badge " + row[7];
      badge.textContent = row[8] || "ok";
      cell(tr, badge);
      frag.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(frag);
    $("count").textContent = shown.length + " of " + rows.length + " experiments" +
      (state.cell ? " · " + state.cell.label : "");
    $("page").textContent = "page " + (state.page + 1) + " of " + pages;
    $("pager").hidden = pages < 2;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
  }

  $("q").addEventListener("input", function (e) { state.q = e.target.value.trim().toLowerCase(); update(); });
  [["f-ds", "ds"], ["f-m", "m"], ["f-b", "b"], ["f-s", "s"]].forEach(function (pair) {
    $(pair[0]).addEventListener("change", function (e) { state[pair[1]] = e.target.value; update(); });
  });
  $("clear").addEventListener("click", function () {
    state.q = state.ds = state.m = state.b = state.s = "";
    state.cell = null;
    ["q", "f-ds", "f-m", "f-b", "f-s"].forEach(function (id) { $(id).value = ""; });
    update();
  });
  $("prev").addEventListener("click", function () { state.page--; draw(); });
  $("next").addEventListener("click", function () { state.page++; draw(); });
  Array.prototype.forEach.call(document.querySelectorAll("#table th[data-k]"), function (th) {
    th.tabIndex = 0;
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-k"), key = /^[0-9]+$/.test(k) ? +k : k;
      state.dir = state.key === key ? -state.dir : 1;
      state.key = key;
      update();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.cell"), function (button) {
    button.addEventListener("click", function () {
      var d = button.dataset;
      state.cell = { ds: d.ds, m: d.m, xk: d.xk, xv: d.xv, yk: d.yk, yv: d.yv, label: button.title };
      update();
      $("experiments").scrollIntoView();
    });
  });
  $("controls").hidden = false;
  update();
})();
