// Trend plots (uPlot, canvas), one per machine. The overview is downsampled on the
// server; a drag-zoom fetches that index range again, at full resolution once it
// fits. User text (names, commit messages) only ever reaches the page as textContent.
// The canvas layers (change points, hollow points, re-run dots) are in trend-draw.js.
(function () {
  "use strict";
  var draw = window.benchwardenTrendDraw, pct = draw.pct, css = draw.css;
  var LADDERS = {  // keep in step with web/views/format.py UNIT_LADDERS
    "s": [[1e-9, "ns"], [1e-6, "µs"], [1e-3, "ms"], [1, "s"]],
    "B": [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]],
    "bytes": [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]],
    "ops/s": [[1, "ops/s"], [1e3, "kops/s"], [1e6, "Mops/s"], [1e9, "Gops/s"]],
    "instructions": [[1, "instr"], [1e3, "k instr"], [1e6, "M instr"], [1e9, "G instr"]],
  };
  var HEIGHT = 420, pending = 0;

  function scaleFor(unit, values) {
    var ladder = LADDERS[unit], top = 0;
    values.forEach(function (v) { if (Math.abs(v) > top) top = Math.abs(v); });
    if (!ladder || !top) return [1, unit];
    var chosen = ladder[0];
    ladder.forEach(function (step) { if (top >= step[0]) chosen = step; });
    return chosen;
  }
  function when(t) { return t == null ? "unknown date" : new Date(t * 1000).toLocaleString(); }
  function day(t) { return t == null ? "?" : new Date(t * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric" }); }
  function num(v) { return v == null ? "—" : Number(v.toPrecision(4)).toString(); }
  function flagged(p, n) { return (p.outlier && p.outlier[n]) || (p.noisy && p.noisy[n]); }

  // x of each point: its index along the branch, or its commit time. Times are made
  // non-decreasing (a commit older than its parent sits at its parent's time) because the
  // plot's x must ascend; for an ordinary history they are the commit times themselves.
  function xsOf(card, p) {
    if (card._xMode !== "time") return p.i;
    var prev = p.time.find(function (t) { return t != null; }) || 0;  // an unknown time: the last known
    return p.time.map(function (t) {
      prev = Math.max(prev, t == null ? prev : t);
      return prev;
    });
  }
  // uPlot data: x, spread high, spread low, value; all in the card's unit. Outliers and
  // points from a noisy machine are left out (null), so they never set the y range; the
  // line spans the gap and trend-draw.js draws them hollow.
  function toData(card, data) {
    var p = data.points, k = card._k, log = card._log;
    card._pos = {};
    p.i.forEach(function (i, n) { card._pos[i] = n; });
    var d = function (a, low) {
      return a.map(function (v, n) {
        if (v == null || flagged(p, n)) return null;
        return log && low && v <= 0 ? p.value[n] / k : v / k;  // a log axis has no zero
      });
    };
    return [xsOf(card, p), d(p.hi), d(p.lo, true), d(p.value)];
  }
  function marksOf(data) {
    var pos = {}, out = [];
    data.points.i.forEach(function (i, n) { pos[i] = n; });
    data.alerts.forEach(function (a) {
      if (!(a.i in pos)) return;
      var what = a.kind === "drift" ? "drift " : a.is_regression ? "regression " : "improvement ";
      var span = a.kind === "drift" && a.end_i != null ? " over " + (a.end_i - a.i + 1) + " commits" : "";
      out.push({ n: pos[a.i], shape: a.is_regression ? "up" : "down", color: a.is_regression ? "--bad" : "--good",
                 text: what + pct(a.rel_change) + span + " (" + a.status + ")" });
    });
    data.annotations.forEach(function (a) {
      if (a.i in pos) out.push({ n: pos[a.i], shape: "diamond", color: "--warn", text: a.kind.replace("_", " ") + ": " + a.note });
    });
    return out;
  }

  function describe(card, n) {
    var p = card._data.points, lines = [];
    card._marks.forEach(function (m) { if (m.n === n) lines.push(m.text); });
    var runs = p.runs ? p.runs[n].length : 1;
    lines.push(num(p.value[n] / card._k) + " " + card._unit + (runs > 1 ? " (median of " + runs + " runs)" : ""),
               p.sha[n].slice(0, 10) + " · " + when(p.time[n]), p.author[n] || "unknown", p.message[n]);
    if (p.outlier && p.outlier[n]) lines.push("outlier: left out of the y range");
    if (p.noisy && p.noisy[n]) lines.push("noisy machine: its pre-flight checks failed");
    return lines;
  }
  function hover(card) {
    return function (u) {
      var n = u.cursor.idx, tip = card._tip;
      if (n == null || card._data.points.value[n] == null) { tip.hidden = true; return; }
      tip.textContent = describe(card, n).join("\n");
      var x = u.valToPos(u.data[0][n], "x");
      var y = Math.max(0, Math.min(u.bbox.height / devicePixelRatio, u.valToPos(card._data.points.value[n] / card._k, "y")));
      tip.hidden = false;
      tip.style.left = (x > u.bbox.width / devicePixelRatio / 2 ? x - tip.offsetWidth - 12 : x + 12) + "px";
      tip.style.top = Math.max(0, y - tip.offsetHeight / 2) + "px";
    };
  }
  function zoom(card) {
    return function (u) {
      if (u.select.width < 3) return;
      var lo = indexAt(card, u.posToVal(u.select.left, "x"), false);
      var hi = indexAt(card, u.posToVal(u.select.left + u.select.width, "x"), true);
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      card._dragged = true;
      press(card, null);
      refetch(card, Math.max(0, lo), hi + 1);
    };
  }

  // The series index at x value v (an index, or a time in time mode).
  function indexAt(card, v, up) {
    var xs = card._plot.data[0], p = card._data.points, n = 0;
    if (card._xMode !== "time") return up ? Math.ceil(v) : Math.floor(v);
    while (n < xs.length - 1 && xs[n] < v) n += 1;
    if (!up && n > 0 && xs[n] > v) n -= 1;
    return p.i[n];
  }

  // Commit-order ticks sit on real points (never between two commits), at least GAP css
  // px apart, and read "short sha / date"; time mode uses uPlot's date ticks.
  var GAP = 78;
  function commitSplits(card) {
    return function (u, _axis, min, max) {
      var xs = u.data[0], out = [], last = -Infinity;
      xs.forEach(function (x) {
        if (x < min || x > max) return;
        var at = u.valToPos(x, "x");
        if (at - last >= GAP) { out.push(x); last = at; }
      });
      return out;
    };
  }
  function commitLabels(card) {
    return function (_u, splits) {
      var p = card._data.points;
      var labels = splits.map(function (x) {
        var n = card._pos[x];
        return n == null ? "" : p.sha[n].slice(0, 7) + "\n" + day(p.time[n]);
      });
      card._xLabels = labels;
      return labels;
    };
  }

  function options(card, width) {
    var fg = css("--fg"), grid = { stroke: css("--line"), width: 1 }, hidden = { show: false };
    var axis = function (label, size) {
      return { label: label, size: size, stroke: fg, grid: grid, ticks: grid };
    };
    var time = card._xMode === "time";
    var x = axis(time ? "commit date" : "commits, oldest → newest", 64);
    if (!time) { x.splits = commitSplits(card); x.values = commitLabels(card); }
    return {
      width: width, height: HEIGHT, legend: { show: false },
      scales: { x: { time: time }, y: { distr: card._log ? 3 : 1, log: 10 } },
      series: [{}, { stroke: "transparent", width: 0, points: hidden },
               { stroke: "transparent", width: 0, points: hidden },
               { stroke: css("--accent"), width: 1.5, spanGaps: true, points: { size: 5, fill: css("--accent") } }],
      bands: [{ series: [1, 2], fill: css("--band") }],
      axes: [x, axis(card._yLabel, width < 500 ? 56 : 70)],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 9 } },
      hooks: {
        draw: [draw.changes(card), draw.runs(card), draw.hollow(card), draw.marks(card)],
        setCursor: [hover(card)], setSelect: [zoom(card)],
      },
    };
  }

  function create(card) {
    var div = card.querySelector(".plot");
    if (card._plot) card._plot.destroy();
    var u = new uPlot(options(card, div.clientWidth || 800), toData(card, card._data), div);
    card._plot = u;
    card._tip = document.createElement("div");
    card._tip.className = "plot-tip";
    card._tip.hidden = true;
    u.over.appendChild(card._tip);
    u.over.addEventListener("click", function () {
      if (card._dragged) { card._dragged = false; return; }
      if (u.cursor.idx != null) showPoint(card, u.cursor.idx);
    });
    u.over.addEventListener("dblclick", function () { press(card, "all"); refetch(card, null, null); });
    expose(card);
  }

  // State for people (status line) and for the browser tests (data-* attributes).
  function expose(card) {
    var div = card.querySelector(".plot"), d = card._data;
    div.dataset.points = String(d.points.i.length);
    div.dataset.xPositions = String(new Set(d.points.i).size);
    div.dataset.runs = String((d.points.runs || []).reduce(function (sum, r) { return sum + r.length; }, 0));
    div.dataset.alerts = String(card._marks.filter(function (m) { return m.shape !== "diamond"; }).length);
    div.dataset.scale = card._log ? "log" : "linear";
    div.dataset.xAxis = card._xMode;
    div.dataset.yLabel = card._yLabel;
    card.querySelector(".plot-status").textContent = d.total + " points" + (d.full_resolution ? "" :
      ", " + d.points.i.length + " shown (downsampled; drag to zoom for full resolution)");
  }

  function load(card, start, end) {
    var url = card.dataset.plotUrl + "?max=1500" + (start != null ? "&start=" + start + "&end=" + end : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }
  function refetch(card, start, end) {
    return load(card, start, end).then(function (data) {
      card._data = data;
      card._marks = marksOf(data);
      card._plot.setData(toData(card, data));
      expose(card);
    }).catch(function (err) { fail(card, err); });
  }
  function press(card, which) {
    card.querySelectorAll("[data-range]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.range === which));
    });
  }

  function showPoint(card, n) {
    var p = card._data.points, box = card.querySelector(".point-detail");
    var head = document.createElement("p"), strong = document.createElement("strong");
    box.textContent = "";
    strong.textContent = num(p.value[n] / card._k) + " " + card._unit + " ";
    head.append(strong, p.sha[n].slice(0, 10) + " · " + when(p.time[n]) + " · " + (p.author[n] || "unknown"));
    var msg = document.createElement("p");
    msg.textContent = card._marks.filter(function (m) { return m.n === n; })
      .map(function (m) { return m.text + " · "; }).join("") + p.message[n];
    var links = document.createElement("p");
    (p.runs ? p.runs[n] : [p.run_id[n]]).forEach(function (id, k) {
      var run = document.createElement("a"), v = p.run_values ? p.run_values[n][k] : null;
      run.href = card.dataset.runUrl.replace(/\/0$/, "/" + id);
      run.textContent = "Open run " + id + (v == null ? "" : " (" + num(v / card._k) + " " + card._unit + ")");
      if (k) links.append(" · ");
      links.appendChild(run);
    });
    if (card.dataset.repoUrl) {
      var forge = document.createElement("a");
      forge.href = card.dataset.repoUrl.replace(/\/$/, "").replace(/\.git$/, "") + "/commit/" + encodeURIComponent(p.sha[n]);
      forge.rel = "noopener noreferrer";
      forge.textContent = "Commit on the forge";
      links.append(" · ", forge);
    }
    box.append(head, msg, links);
    box.hidden = false;
    box.focus();
  }

  function wire(card) {
    var div = card.querySelector(".plot");
    card.querySelectorAll("[data-range]").forEach(function (b) {
      b.addEventListener("click", function () {
        var total = card._data.total, n = b.dataset.range;
        press(card, n);
        if (n === "all") refetch(card, null, null);
        else refetch(card, Math.max(0, total - Number(n)), total);
      });
    });
    var logButton = card.querySelector("[data-log]");
    logButton.addEventListener("click", function () {
      card._log = !card._log;
      logButton.setAttribute("aria-pressed", String(card._log));
      create(card);  // a scale's distribution is fixed when the plot is made
    });
    card.querySelectorAll("[data-x-mode]").forEach(function (b) {
      b.addEventListener("click", function () {
        card._xMode = b.dataset.xMode;
        card.querySelectorAll("[data-x-mode]").forEach(function (o) {
          o.setAttribute("aria-pressed", String(o === b));
        });
        create(card);  // so is whether the x scale is time
      });
    });
    // Keyboard: arrows walk the points, Enter opens the one under the cursor.
    div.addEventListener("keydown", function (ev) {
      var u = card._plot, n = u.cursor.idx, last = u.data[0].length - 1;
      if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
        n = n == null ? last : Math.max(0, Math.min(last, n + (ev.key === "ArrowRight" ? 1 : -1)));
        u.setCursor({ left: u.valToPos(u.data[0][n], "x"), top: u.valToPos(card._data.points.value[n] / card._k, "y") });
        ev.preventDefault();
      } else if (ev.key === "Enter" && n != null) {
        showPoint(card, n);
        ev.preventDefault();
      }
    });
    new ResizeObserver(function () {
      if (card._plot && div.clientWidth) card._plot.setSize({ width: div.clientWidth, height: HEIGHT });
    }).observe(div);
  }

  function fail(card, err) {
    card.querySelector(".plot-tools").hidden = false;  // shows the status line
    card.querySelector(".plot-status").textContent = "Could not load the series: " + err.message;
    card.dataset.rendered = "error";
  }

  function init(card) {
    pending += 1;
    (card._first || load(card)).then(function (data) {
      var scale = scaleFor(card.dataset.unit, data.points.value.filter(function (v, n) {
        return v != null && !flagged(data.points, n);  // an outlier does not choose the unit
      }));
      card._k = scale[0];  // kept on zoom, so the axis unit never jumps
      card._unit = scale[1];
      card._yLabel = card.dataset.measure + " (" + scale[1] + ")";
      card._data = data;
      card._marks = marksOf(data);
      card._xMode = "commits";
      create(card);
      wire(card);
      card.querySelector(".plot-tools").hidden = false;  // the buttons need this script
      card.querySelector(".plot-key").hidden = false;
      card.dataset.rendered = "true";
    }).catch(function (err) { fail(card, err); }).then(function () {
      pending -= 1;
      if (pending === 0) document.body.dataset.plotsReady = "true";
    });
  }

  // Deferred scripts run after parsing, so the cards exist: start the fetches now.
  document.querySelectorAll("[data-plot-url]").forEach(function (card) {
    card._first = load(card);
    card._first.catch(function () {});
  });
  document.addEventListener("DOMContentLoaded", function () {
    var cards = document.querySelectorAll("[data-plot-url]");
    if (typeof uPlot === "undefined") {
      cards.forEach(function (card) { fail(card, new Error("the plotting library did not load (run scripts/install-assets on the server)")); });
      return;
    }
    if (!cards.length) document.body.dataset.plotsReady = "true";
    cards.forEach(init);
  });
})();
