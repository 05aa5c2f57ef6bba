// Trend plots (uPlot, canvas), one per machine. The overview is downsampled on the
// server; a drag-zoom fetches that index range again, at full resolution once it
// fits. User text (names, commit messages) only ever reaches the page as textContent.
(function () {
  "use strict";
  var LADDERS = {  // keep in step with web/views/format.py UNIT_LADDERS
    "s": [[1e-9, "ns"], [1e-6, "µs"], [1e-3, "ms"], [1, "s"]],
    "B": [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]],
    "bytes": [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]],
    "ops/s": [[1, "ops/s"], [1e3, "kops/s"], [1e6, "Mops/s"], [1e9, "Gops/s"]],
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
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function pct(r) { return (r >= 0 ? "+" : "−") + Math.abs(r * 100).toFixed(1) + "%"; }  // as format_pct
  function num(v) { return v == null ? "—" : Number(v.toPrecision(4)).toString(); }

  // uPlot data: x (point index), spread high, spread low, value; all in the card's unit.
  function toData(card, data) {
    var p = data.points, k = card._k;
    var d = function (a) { return a.map(function (v) { return v == null ? null : v / k; }); };
    return [p.i, d(p.hi), d(p.lo), d(p.value)];
  }
  function marksOf(data) {
    var pos = {}, out = [];
    data.points.i.forEach(function (i, n) { pos[i] = n; });
    data.alerts.forEach(function (a) {
      if (!(a.i in pos)) return;
      out.push({ n: pos[a.i], shape: a.is_regression ? "up" : "down", color: a.is_regression ? "--bad" : "--good",
                 text: (a.is_regression ? "regression " : "improvement ") + pct(a.rel_change) + " (" + a.status + ")" });
    });
    data.annotations.forEach(function (a) {
      if (a.i in pos) out.push({ n: pos[a.i], shape: "diamond", color: "--warn", text: a.kind.replace("_", " ") + ": " + a.note });
    });
    return out;
  }

  // A commit measured more than once (re-run, confirmation, bisection) is one point; its
  // runs are drawn as small dots at the commit's x, never as x positions of their own.
  function drawRuns(card) {
    return function (u) {
      var p = card._data.points, ctx = u.ctx, r = 2 * devicePixelRatio, b = u.bbox, drawn = 0;
      ctx.save();
      ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
      ctx.fillStyle = css("--fg");
      (p.run_values || []).forEach(function (values, n) {
        if (values.length < 2) return;
        var x = u.valToPos(u.data[0][n], "x", true);
        values.forEach(function (v) {
          if (v == null) return;
          var y = u.valToPos(v / card._k, "y", true);
          if (!isFinite(x) || !isFinite(y)) return;
          ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
          drawn += 1;
        });
      });
      ctx.restore();
      u.root.parentNode.dataset.runDots = String(drawn);
    };
  }

  function drawMarks(card) {
    return function (u) {
      var ctx = u.ctx, r = 7 * devicePixelRatio, b = u.bbox;
      ctx.save();
      ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
      card._marks.forEach(function (m) {
        var x = u.valToPos(u.data[0][m.n], "x", true), y = u.valToPos(u.data[3][m.n], "y", true);
        if (!isFinite(x) || !isFinite(y)) return;
        ctx.beginPath();
        if (m.shape === "up") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r * 0.8); ctx.lineTo(x - r, y + r * 0.8); }
        else if (m.shape === "down") { ctx.moveTo(x, y + r); ctx.lineTo(x + r, y - r * 0.8); ctx.lineTo(x - r, y - r * 0.8); }
        else { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); }
        ctx.closePath();
        ctx.fillStyle = css(m.color); ctx.fill();
        ctx.lineWidth = devicePixelRatio; ctx.strokeStyle = css("--fg"); ctx.stroke();
      });
      ctx.restore();
    };
  }

  function describe(card, n) {
    var p = card._data.points, lines = [];
    card._marks.forEach(function (m) { if (m.n === n) lines.push(m.text); });
    var runs = p.runs ? p.runs[n].length : 1;
    lines.push(num(p.value[n] / card._k) + " " + card._unit + (runs > 1 ? " (median of " + runs + " runs)" : ""),
               p.sha[n].slice(0, 10) + " · " + when(p.time[n]), p.author[n] || "unknown", p.message[n]);
    return lines;
  }
  function hover(card) {
    return function (u) {
      var n = u.cursor.idx, tip = card._tip;
      if (n == null || u.data[3][n] == null) { tip.hidden = true; return; }
      tip.textContent = describe(card, n).join("\n");
      var x = u.valToPos(u.data[0][n], "x"), y = u.valToPos(u.data[3][n], "y");
      tip.hidden = false;
      tip.style.left = (x > u.bbox.width / devicePixelRatio / 2 ? x - tip.offsetWidth - 12 : x + 12) + "px";
      tip.style.top = Math.max(0, y - tip.offsetHeight / 2) + "px";
    };
  }
  function zoom(card) {
    return function (u) {
      if (u.select.width < 3) return;
      var lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      card._dragged = true;
      press(card, null);
      refetch(card, Math.max(0, Math.floor(lo)), Math.ceil(hi) + 1);
    };
  }

  function options(card, width) {
    var fg = css("--fg"), grid = { stroke: css("--line"), width: 1 }, hidden = { show: false };
    var axis = function (label, size) {
      return { label: label, size: size, stroke: fg, grid: grid, ticks: grid };
    };
    var x = axis("commits along the branch (oldest → newest)", 40);
    x.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6];
    return {
      width: width, height: HEIGHT, legend: { show: false },
      scales: { x: { time: false }, y: { distr: card._log ? 3 : 1, log: 10 } },
      series: [{}, { stroke: "transparent", width: 0, points: hidden },
               { stroke: "transparent", width: 0, points: hidden },
               { stroke: css("--accent"), width: 1.5, points: { size: 5, fill: css("--accent") } }],
      bands: [{ series: [1, 2], fill: css("--band") }],
      axes: [x, axis(card._yLabel, 70)],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 9 } },
      hooks: { draw: [drawRuns(card), drawMarks(card)], setCursor: [hover(card)], setSelect: [zoom(card)] },
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
    // Keyboard: arrows walk the points, Enter opens the one under the cursor.
    div.addEventListener("keydown", function (ev) {
      var u = card._plot, n = u.cursor.idx, last = u.data[0].length - 1;
      if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
        n = n == null ? last : Math.max(0, Math.min(last, n + (ev.key === "ArrowRight" ? 1 : -1)));
        u.setCursor({ left: u.valToPos(u.data[0][n], "x"), top: u.valToPos(u.data[3][n], "y") });
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
      var scale = scaleFor(card.dataset.unit, data.points.value);
      card._k = scale[0];  // kept on zoom, so the axis unit never jumps
      card._unit = scale[1];
      card._yLabel = card.dataset.measure + " (" + scale[1] + ")";
      card._data = data;
      card._marks = marksOf(data);
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
