/* logdoctor report script: charts (zoom), user filter, per-user drill-down and token lineage.
   The page is complete without it. Data comes from application/json blocks written through
   |tojson; text is only ever set with textContent (never as HTML). */
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") { n.textContent = attrs[k]; } else { n.setAttribute(k, attrs[k]); }
      });
    }
    (children || []).forEach(function (c) {
      n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return n;
  }

  function pad(n, w) { var s = String(n); while (s.length < w) { s = "0" + s; } return s; }

  function fmtTime(epochSeconds) {
    if (epochSeconds === null || epochSeconds === undefined) { return ""; }
    var d = new Date(Math.round(epochSeconds * 1000));
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2) +
      " " + pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" +
      pad(d.getUTCSeconds(), 2) + "." + pad(d.getUTCMilliseconds(), 3);
  }

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (v && v.trim()) || fallback;
  }

  var state = { charts: [] };
  window.logdoctorReport = state;

  Array.prototype.forEach.call(document.querySelectorAll("[data-js-only]"), function (n) {
    n.hidden = false;
  });

  /* Printing shows every evidence list: open them for the print, close them after. */
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true;
      openedForPrint.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (d) { d.open = false; });
    openedForPrint = [];
  });

  /* ---------------------------------------------------------------- charts */
  var LEVEL_COLORS = {
    FATAL: "#7a1f1f", ERROR: "#d62728", WARN: "#ff9f0e", INFO: "#1f77b4",
    DEBUG: "#7f7f7f", TRACE: "#bcbd22"
  };
  var PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#ff7f0e", "#d62728", "#7f7f7f"];
  var MARKER_VARS = {
    "config.changed": ["--m-config", "#7c3aed"],
    "key.regenerated": ["--m-key", "#c2410c"],
    "service.restarted": ["--m-service", "#0e7490"],
    "revoke.request": ["--m-revoke", "#be185d"],
    "token.revoked": ["--m-revoke", "#be185d"]
  };

  function drawMarkers(markers) {
    return function (u) {
      var ctx = u.ctx;
      var min = u.scales.x.min;
      var max = u.scales.x.max;
      var top = u.bbox.top;
      var height = u.bbox.height;
      ctx.save();
      ctx.lineWidth = 2 * uPlot.pxRatio;
      ctx.setLineDash([5 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
      markers.forEach(function (m) {
        if (m[0] < min || m[0] > max) { return; }
        var spec = MARKER_VARS[m[1]] || ["--muted", "#888"];
        var x = Math.round(u.valToPos(m[0], "x", true));
        ctx.strokeStyle = cssVar(spec[0], spec[1]);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      });
      ctx.restore();
    };
  }

  /* Counts have whole-number ticks: 1, 2, 5, 10, 20, 50, ... */
  var COUNT_INCRS = [];
  for (var mag = 1; mag <= 1e9; mag *= 10) { COUNT_INCRS.push(mag, 2 * mag, 5 * mag); }

  /* A series is [name, "d", values] or, when mostly zero, [name, "s", [i, v, i, v, ...]]. */
  function decode(s, n) {
    if (s[1] === "d") { return s[2].slice(); }
    var out = new Array(n);
    for (var i = 0; i < n; i++) { out[i] = 0; }
    for (var j = 0; j + 1 < s[2].length; j += 2) { out[s[2][j]] = s[2][j + 1]; }
    return out;
  }

  function bucketLabel(seconds) {
    var names = { 60: "minute", 3600: "hour", 86400: "day", 604800: "week" };
    if (names[seconds]) { return names[seconds]; }
    if (seconds % 3600 === 0) { return (seconds / 3600) + " hours"; }
    if (seconds % 60 === 0) { return (seconds / 60) + " minutes"; }
    return seconds + " seconds";
  }

  /* Tick labels in UTC, 24-hour: the date where it changes, the time of day below. */
  function timeTicks(u, splits, axisIdx, foundSpace, foundIncr) {
    var lastDay = null;
    return splits.map(function (t) {
      var full = fmtTime(t);
      var day = full.slice(0, 10);
      var hm = full.slice(11, foundIncr < 60 ? 19 : 16);
      if (foundIncr >= 86400) { return day; }
      var label = day !== lastDay ? hm + "\n" + day : hm;
      lastDay = day;
      return label;
    });
  }

  function buildCharts(chart) {
    var levelsEl = document.getElementById("chart-levels");
    var kindsEl = document.getElementById("chart-kinds");
    if (!chart || !chart.n || !levelsEl || !kindsEl || typeof uPlot === "undefined") {
      return;
    }
    var xs = new Array(chart.n);
    for (var i = 0; i < chart.n; i++) { xs[i] = chart.start + i * chart.bucket; }
    if (chart.n === 1) { xs.push(chart.start + chart.bucket); }
    var fg = cssVar("--fg", "#1f2328");
    var grid = cssVar("--grid", "rgba(0,0,0,0.08)");
    var syncing = false;
    /* A count per bucket holds for the whole bucket: draw steps, not slopes. */
    var stepped = uPlot.paths.stepped({ align: 1 });

    function make(node, title, series, colorOf) {
      var data = [xs];
      var opts = {
        title: title,
        width: Math.max(300, node.clientWidth),
        height: 220,
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
        cursor: { sync: { key: "logdoctor" }, drag: { x: true, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, values: timeTicks },
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, size: 56, incrs: COUNT_INCRS }
        ],
        series: [{
          label: "time (UTC)",
          value: function (u, v) { return v === null || v === undefined ? "--" : fmtTime(v).slice(0, 16); }
        }],
        hooks: {
          draw: [drawMarkers(chart.markers || [])],
          setScale: [function (u, key) {
            if (key !== "x" || syncing) { return; }
            syncing = true;
            state.charts.forEach(function (other) {
              if (other !== u) { other.setScale("x", { min: u.scales.x.min, max: u.scales.x.max }); }
            });
            syncing = false;
          }]
        }
      };
      series.forEach(function (s, idx) {
        var values = decode(s, chart.n);
        if (chart.n === 1) { values.push(0); }
        data.push(values);
        opts.series.push({
          label: s[0], stroke: colorOf(s[0], idx), width: 1.5, paths: stepped,
          points: { show: chart.n < 60 }
        });
      });
      var u = new uPlot(opts, data, node);
      state.charts.push(u);
      return u;
    }

    var per = "Events per " + bucketLabel(chart.bucket);
    make(levelsEl, per + " by level",
      chart.levels, function (name, idx) { return LEVEL_COLORS[name] || PALETTE[idx % PALETTE.length]; });
    make(kindsEl, per + " by kind",
      chart.kinds, function (name, idx) { return name === "other" ? "#aaaaaa" : PALETTE[idx % PALETTE.length]; });

    var reset = document.getElementById("reset-zoom");
    if (reset) {
      reset.addEventListener("click", function () {
        state.charts.forEach(function (u) {
          u.setScale("x", { min: xs[0], max: xs[xs.length - 1] });
        });
      });
    }
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(function () {
        state.charts.forEach(function (u) {
          u.setSize({ width: Math.max(300, u.root.parentNode.clientWidth), height: 220 });
        });
      }, 100);
    });
  }

  /* ---------------------------------------------------------------- users */
  var drill = readJson("ld-drill") || { t0: 0, s: [""], f: [""], meaning: {}, users: [] };

  function str(i) { return drill.s[i] || ""; }
  function abs(rel) { return rel === null || rel === undefined ? null : drill.t0 + rel; }

  function table(headers, rows) {
    var thead = el("thead", null, [el("tr", null, headers.map(function (h) {
      return el("th", { text: h });
    }))]);
    var tbody = el("tbody", null, rows.map(function (cells) {
      return el("tr", null, cells.map(function (c) {
        return typeof c === "string" ? el("td", { text: c }) : c;
      }));
    }));
    return el("div", { "class": "scroll" }, [el("table", null, [thead, tbody])]);
  }

  /* Long ids (65-character client ids) shown as their ends; the whole id on hover. */
  function shortCell(text) {
    if (text.length <= 20) { return el("td", { text: text }); }
    return el("td", { title: text, text: text.slice(0, 9) + "…" + text.slice(-6) });
  }

  function basename(path) {
    var parts = path.split(/[\/!]/);
    return parts[parts.length - 1];
  }

  function eventsTable(u) {
    var rows = u.ev.map(function (e) {
      var kind = str(e[1]);
      var kindCell = el("td", { "class": "kind" }, [el("code", { text: kind })]);
      if (drill.meaning[kind]) { kindCell.setAttribute("title", drill.meaning[kind]); }
      var file = drill.f[e[9]] || "";
      return [
        el("td", { "class": "time", text: fmtTime(abs(e[0])) }),
        str(e[2]), kindCell, shortCell(str(e[3])), str(e[4]), str(e[5]), str(e[6]), str(e[7]),
        str(e[8]),
        el("td", { "class": "where", title: file, text: basename(file) + ":" + e[10] })
      ];
    });
    var parts = [table(["Time", "Node", "Kind", "Client", "Device", "Token", "Grant", "Reason",
      "Server", "Line"], rows)];
    if (u.more) {
      parts.push(el("p", { "class": "more",
        text: u.more + " more events of this user between the first and the last ones shown." }));
    }
    return parts;
  }

  function lineage(u) {
    var parts = [];
    if (!u.lin.length) {
      parts.push(el("p", { "class": "empty", text: "No token event names this user." }));
      return parts;
    }
    u.lin.forEach(function (c) {
      parts.push(el("h5", { "class": "lineage-client" }, ["Client ", el("code", { text: c.c })]));
      if (c.r.length) {
        parts.push(table(["Refresh token (tid)", "Issued", "Last seen", "Refreshes", "Rejected",
          "Revoked", "Key", "Device", "Nodes"], c.r.map(function (t) {
          var revoked = t[6] === null ? "" : fmtTime(abs(t[6])) + (t[7] ? " (" + t[7] + ")" : "");
          var rejected = t[4] ? t[4] + (t[5] ? " (" + t[5] + ")" : "") : "0";
          return [t[0], fmtTime(abs(t[1])), fmtTime(abs(t[2])), String(t[3]), rejected,
            revoked, t[10], t[11], t[12]];
        })));
        if (c.rm) {
          parts.push(el("p", { "class": "more", text: c.rm + " older refresh tokens not shown." }));
        }
      }
      if (c.a.length) {
        parts.push(table(["Access token (jti)", "Issued", "Grant", "Lifetime (s)", "Validated",
          "Rejected", "Last seen", "Key", "Nodes"], c.a.map(function (t) {
          var rejected = t[4] ? t[4] + (t[5] ? " (" + t[5] + ")" : "") : "0";
          return [t[0], fmtTime(abs(t[1])), t[8], t[9], String(t[3]), rejected,
            fmtTime(abs(t[2])), t[10], t[12]];
        })));
        if (c.am) {
          parts.push(el("p", { "class": "more", text: c.am + " older access tokens not shown." }));
        }
      }
    });
    return parts;
  }

  function closeDrill(row) {
    var next = row.nextElementSibling;
    if (next && next.classList.contains("drill-row")) { next.parentNode.removeChild(next); }
    var b = row.querySelector("button.drill");
    if (b) { b.setAttribute("aria-expanded", "false"); }
  }

  function openDrill(row) {
    var i = Number(row.getAttribute("data-u"));
    var u = drill.users[i];
    var name = row.cells[0].textContent;
    var cols = row.cells.length;
    var content = [el("h4", { text: "Timeline of " + name })];
    if (!u) {
      content.push(el("p", { "class": "empty",
        text: "No drill-down data was kept for this user (report size limits)." }));
    } else {
      content = content.concat(eventsTable(u));
      content.push(el("h4", { text: "Token lineage of " + name }));
      content = content.concat(lineage(u));
    }
    var td = el("td", { colspan: String(cols) }, content);
    var tr = el("tr", { "class": "drill-row" }, [td]);
    row.parentNode.insertBefore(tr, row.nextSibling);
    var b = row.querySelector("button.drill");
    if (b) { b.setAttribute("aria-expanded", "true"); }
  }

  function setupUsers() {
    var tableEl = document.getElementById("users-table");
    if (!tableEl) { return; }
    var rows = Array.prototype.slice.call(tableEl.querySelectorAll("tr.user-row"));
    tableEl.addEventListener("click", function (ev) {
      var target = ev.target;
      if (!(target instanceof Element)) { return; }
      var button = target.closest("button.drill");
      if (!button) { return; }
      var row = button.closest("tr.user-row");
      if (!row) { return; }
      if (button.getAttribute("aria-expanded") === "true") { closeDrill(row); } else { openDrill(row); }
    });
    var input = document.getElementById("user-filter");
    var count = document.getElementById("user-count");
    function apply() {
      var q = input ? input.value.trim().toLowerCase() : "";
      var shown = 0;
      rows.forEach(function (r) {
        var ok = !q || r.cells[0].textContent.toLowerCase().indexOf(q) !== -1;
        if (!ok) { closeDrill(r); }
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (count) { count.textContent = shown + " of " + rows.length + " shown"; }
    }
    if (input) { input.addEventListener("input", apply); }
    apply();
  }

  buildCharts(readJson("ld-chart"));
  setupUsers();
})();
