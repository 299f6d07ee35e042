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

  /* 12345 -> "12,345" (as the page's tables print counts). */
  function num(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

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
  /* Every series comes with its colour (fixed per kind and level, the same in every
     report); the level and kind charts are stacked, so no series hides another. */
  var MARKER_VARS = {
    "config.changed": ["--m-config", "#7c3aed"],
    "key.regenerated": ["--m-key", "#c2410c"],
    "service.started": ["--m-service", "#0e7490"],
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

  /* A series is [name, colour, "d", values] or, when mostly zero,
     [name, colour, "s", [i, v, i, v, ...]]. */
  function decode(enc, values, n) {
    if (enc === "d") { return values.slice(); }
    var out = new Array(n);
    for (var i = 0; i < n; i++) { out[i] = 0; }
    for (var j = 0; j + 1 < values.length; j += 2) { out[values[j]] = values[j + 1]; }
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

  /* A static legend: a swatch in the series' colour and its name (no values, no "--"). */
  function legend(series) {
    return el("ul", { "class": "legend" }, series.map(function (s) {
      var swatch = el("span", { "class": "swatch" });
      swatch.style.backgroundColor = s[1];
      return el("li", { "data-series": s[0] }, [swatch, s[0]]);
    }));
  }

  /* Bucket starts, and the end of the last bucket (so that the last bucket is drawn). */
  function xsOf(start, bucket, n) {
    var xs = new Array(n + 1);
    for (var i = 0; i <= n; i++) { xs[i] = start + i * bucket; }
    return xs;
  }

  function buildCharts(chart) {
    var levelsEl = document.getElementById("chart-levels");
    var kindsEl = document.getElementById("chart-kinds");
    var failEl = document.getElementById("chart-failures");
    if (!chart || !chart.n || !levelsEl || !kindsEl || typeof uPlot === "undefined") {
      return;
    }
    var xs = xsOf(chart.start, chart.bucket, chart.n);
    var fg = cssVar("--fg", "#1f2328");
    var grid = cssVar("--grid", "rgba(0,0,0,0.08)");
    var syncing = false;
    /* A count per bucket holds for the whole bucket: draw steps, not slopes. */
    var stepped = uPlot.paths.stepped({ align: 1 });
    var bars = uPlot.paths.bars({ size: [0.92, Infinity], align: 1 });
    var full = [xs[0], xs[xs.length - 1]];

    function baseOpts(node, title, xLabel) {
      return {
        title: title,
        width: Math.max(300, node.clientWidth),
        height: 220,
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
        cursor: { sync: { key: "logdoctor" }, drag: { x: true, y: false } },
        legend: { live: false },
        scales: {
          x: { time: true },
          y: { range: function (u, min, max) { return [0, Math.max(1, uPlot.rangeNum(0, max, 0.1, true)[1])]; } }
        },
        axes: [
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, values: timeTicks },
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, size: 56, incrs: COUNT_INCRS }
        ],
        series: [{ label: xLabel }],
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
    }

    /* Stacked: each series is drawn at the sum of itself and the series below it, filled
       down to zero; the sums are drawn from the top one down, each covering the lower part
       of the one before, so every series shows as its own band and the bottom one
       (failures) is never hidden. The legend is the page's own: static, bottom first. */
    function stacked(node, title, series) {
      var opts = baseOpts(node, title, "time (UTC)");
      opts.legend = { show: false };
      var sums = [];
      var acc = new Array(chart.n);
      for (var i = 0; i < chart.n; i++) { acc[i] = 0; }
      series.forEach(function (s) {
        var values = decode(s[2], s[3], chart.n);
        for (var k = 0; k < chart.n; k++) { acc[k] += values[k]; }
        var sum = acc.slice();
        sum.push(sum[chart.n - 1]);
        sums.push(sum);
      });
      var data = [xs];
      for (var j = series.length - 1; j >= 0; j--) {
        data.push(sums[j]);
        opts.series.push({
          label: series[j][0], stroke: series[j][1], fill: series[j][1], width: 1,
          paths: stepped, points: { show: false }
        });
      }
      var u = new uPlot(opts, data, node);
      node.appendChild(legend(series));
      state.charts.push(u);
      return u;
    }

    var per = "Events per " + bucketLabel(chart.bucket);
    stacked(levelsEl, per + ": failures and the other lines by level", chart.levels);
    stacked(kindsEl, per + " by kind", chart.kinds);
    if (failEl && chart.fail && chart.fail.n) {
      var f = chart.fail;
      var fx = xsOf(f.start, f.bucket, f.n);
      /* An hour without failures draws nothing (not a flat bar). */
      var fv = decode(f.data[0], f.data[1], f.n).map(function (v) { return v || null; });
      fv.push(null);
      var opts = baseOpts(failEl, "Failures per " + bucketLabel(f.bucket), "time (UTC)");
      opts.height = 160;
      opts.legend = { show: false };
      opts.series.push({
        label: "failures", stroke: f.color, fill: f.color, width: 1,
        paths: bars, points: { show: false }
      });
      var fu = new uPlot(opts, [fx, fv], failEl);
      failEl.appendChild(legend([["failures", f.color]]));
      state.charts.push(fu);
      fu.setScale("x", { min: full[0], max: full[1] });
    }

    var reset = document.getElementById("reset-zoom");
    if (reset) {
      reset.addEventListener("click", function () {
        state.charts.forEach(function (u) { u.setScale("x", { min: full[0], max: full[1] }); });
      });
    }
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(function () {
        state.charts.forEach(function (u) {
          u.setSize({ width: Math.max(300, u.root.parentNode.clientWidth), height: u.height });
        });
      }, 100);
    });
  }

  /* ---------------------------------------------------------------- users */
  var drill = readJson("ld-drill") || { t0: 0, s: [""], f: [""], meaning: {}, fail: [], users: [] };
  var userIndex = readJson("ld-users") || { total: 0, listed: 0, beyond: [], inputs: [] };
  var FAIL = {};
  (drill.fail || []).forEach(function (k) { FAIL[k] = true; });

  function str(i) { return drill.s[i] || ""; }
  function abs(rel) { return rel === null || rel === undefined ? null : drill.t0 + rel; }

  function table(headers, rows, rowClass) {
    var thead = el("thead", null, [el("tr", null, headers.map(function (h) {
      return el("th", { text: h });
    }))]);
    var tbody = el("tbody", null, rows.map(function (cells, i) {
      var cls = rowClass ? rowClass(i) : "";
      return el("tr", cls ? { "class": cls } : null, cells.map(function (c) {
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

  /* A word for a POSIX shell: as is when it is plain, else in single quotes. */
  function shellWord(text) {
    if (/^[A-Za-z0-9._@%+=:,\/-]+$/.test(text)) { return text; }
    return "'" + text.replace(/'/g, "'\\''") + "'";
  }

  function timelineCommand(user) {
    var ins = (userIndex.inputs || []).map(shellWord).join(" ") || "LOGS";
    return "logdoctor timeline " + ins + " --user " + shellWord(user);
  }

  function eventsTable(u) {
    var failed = [];
    var rows = u.ev.map(function (e) {
      var kind = str(e[1]);
      failed.push(!!FAIL[kind]);
      var kindCell = el("td", { "class": "kind" }, [el("code", { text: kind })]);
      if (drill.meaning[kind]) { kindCell.setAttribute("title", drill.meaning[kind]); }
      var file = drill.f[e[9]] || "";
      return [
        el("td", { "class": "time", text: fmtTime(abs(e[0])) }),
        el("td", { "class": "side", text: str(e[11]) }),
        str(e[2]), kindCell, shortCell(str(e[3])), str(e[4]), str(e[5]), str(e[6]), str(e[7]),
        str(e[8]),
        el("td", { "class": "where", title: file, text: basename(file) + ":" + e[10] })
      ];
    });
    var parts = [table(["Time", "Side", "Node", "Kind", "Client", "Device", "Token", "Grant", "Reason",
      "Server", "Line"], rows, function (i) { return failed[i] ? "fail" : ""; })];
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
    function rejectedText(t) { return t[4] ? t[4] + (t[5] ? " (" + t[5] + ")" : "") : "0"; }
    function rejectedClass(list) { return function (i) { return list[i][4] ? "fail" : ""; }; }
    u.lin.forEach(function (c) {
      parts.push(el("h5", { "class": "lineage-client" }, ["Client ", el("code", { text: c.c })]));
      if (c.r.length) {
        parts.push(table(["Refresh token (tid)", "Issued", "Last used", "Refreshes", "Rejected",
          "Revoked", "Key", "Device", "Issued on → used at"], c.r.map(function (t) {
          var revoked = t[6] === null ? "" : fmtTime(abs(t[6])) + (t[7] ? " (" + t[7] + ")" : "");
          return [t[0], fmtTime(abs(t[1])), fmtTime(abs(t[2])), String(t[3]), rejectedText(t),
            revoked, t[10], t[11], t[12]];
        }), rejectedClass(c.r)));
        if (c.rm) {
          parts.push(el("p", { "class": "more", text: c.rm + " older refresh tokens not shown." }));
        }
      }
      if (c.a.length) {
        parts.push(table(["Access token (jti)", "Issued", "Grant", "Lifetime (s)", "Validated",
          "Rejected", "Last used", "Key", "Issued on → validated at"], c.a.map(function (t) {
          return [t[0], fmtTime(abs(t[1])), t[8], t[9], String(t[3]), rejectedText(t),
            fmtTime(abs(t[2])), t[10], t[12]];
        }), rejectedClass(c.a)));
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
        text: "No drill-down data was kept for this user (report size limits): run " +
          timelineCommand(name) }));
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

  /* Users beyond the table that match: named, with the command that shows their lines. */
  function showBeyond(box, q) {
    while (box.firstChild) { box.removeChild(box.firstChild); }
    if (!q) { box.hidden = true; return; }
    var found = userIndex.beyond.filter(function (b) {
      return b[0].toLowerCase().indexOf(q) !== -1;
    });
    var searched = userIndex.listed + userIndex.beyond.length;
    var unsearched = userIndex.total - searched;
    if (!found.length && !unsearched) { box.hidden = true; return; }
    if (found.length) {
      box.appendChild(el("p", { text: num(found.length) + " more matching user" +
        (found.length === 1 ? "" : "s") + " beyond the " + num(userIndex.listed) +
        " listed (the table was cut); their lines are not in this page, run:" }));
      box.appendChild(el("ul", null, found.slice(0, 10).map(function (b) {
        return el("li", null, [el("code", { text: timelineCommand(b[0]) }),
          " (" + num(b[1]) + " events, " + num(b[2]) + " failures)"]);
      })));
      if (found.length > 10) {
        box.appendChild(el("p", { "class": "more",
          text: num(found.length - 10) + " more not shown." }));
      }
    }
    if (unsearched > 0) {
      box.appendChild(el("p", { text: "The filter looked through " + num(searched) + " of " +
        num(userIndex.total) + " users; for any other, run " + timelineCommand("NAME") + "." }));
    }
    box.hidden = false;
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
    var beyond = document.getElementById("user-beyond");
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
      if (beyond) { showBeyond(beyond, q); }
    }
    if (input) { input.addEventListener("input", apply); }
    apply();

    /* A finding's user link: show the user's row with its timeline open (or, for a user
       beyond the table, filter for them). */
    document.addEventListener("click", function (ev) {
      var target = ev.target;
      if (!(target instanceof Element)) { return; }
      var link = target.closest("a.user-link");
      if (!link) { return; }
      ev.preventDefault();
      var rowIdx = link.getAttribute("data-row");
      if (input) {
        input.value = rowIdx === null ? (link.getAttribute("data-user") || "") : "";
        apply();
      }
      if (rowIdx === null) {
        document.getElementById("users").scrollIntoView();
        return;
      }
      var row = document.getElementById("user-" + rowIdx);
      if (!row) { return; }
      var button = row.querySelector("button.drill");
      if (button && button.getAttribute("aria-expanded") !== "true") { openDrill(row); }
      row.scrollIntoView();
    });
  }

  buildCharts(readJson("ld-chart"));
  setupUsers();
})();
