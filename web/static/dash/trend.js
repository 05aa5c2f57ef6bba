// Trend plots: one per machine. Overview is downsampled on the server; zooming in
// fetches the visible index range again, at full resolution once it fits.
(function () {
  "use strict";
  var LADDERS = {  // keep in step with web/views/format.py UNIT_LADDERS
    "s": [[1e-9, "ns"], [1e-6, "µs"], [1e-3, "ms"], [1, "s"]],
    "B": [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]],
    "bytes": [[1, "B"], [1024, "KiB"], [1048576, "MiB"], [1073741824, "GiB"]],
    "ops/s": [[1, "ops/s"], [1e3, "kops/s"], [1e6, "Mops/s"], [1e9, "Gops/s"]],
  };
  var pending = 0;

  function scaleFor(unit, values) {
    var ladder = LADDERS[unit], top = 0;
    values.forEach(function (v) { if (Math.abs(v) > top) top = Math.abs(v); });
    if (!ladder || !top) return [1, unit];
    var chosen = ladder[0];
    ladder.forEach(function (step) { if (top >= step[0]) chosen = step; });
    return chosen;
  }
  // Plotly renders a subset of HTML in hover labels; user text must stay text.
  function esc(text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  function when(t) { return t == null ? "unknown date" : new Date(t * 1000).toLocaleString(); }
  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function traces(data, card) {
    var p = data.points, unit = card.dataset.unit;
    var scale = scaleFor(unit, p.value), k = scale[0];
    var y = p.value.map(function (v) { return v / k; });
    var custom = p.i.map(function (_, n) {
      return [esc(p.sha[n].slice(0, 10)), esc(p.message[n]), esc(p.author[n] || "unknown"),
              esc(when(p.time[n])), p.run_id[n], p.sha[n]];
    });
    var pos = {}; p.i.forEach(function (i, n) { pos[i] = n; });
    var marks = function (list) { return list.filter(function (m) { return m.i in pos; }); };
    var alerts = marks(data.alerts), notes = marks(data.annotations);
    var accent = css("--accent"), bad = css("--bad"), good = css("--good"), warn = css("--warn");
    return { unitLabel: scale[1], list: [
      { x: p.i, y: p.hi.map(function (v) { return v / k; }), mode: "lines", line: { width: 0 },
        hoverinfo: "skip", showlegend: false, name: "spread" },
      { x: p.i, y: p.lo.map(function (v) { return v / k; }), mode: "lines", line: { width: 0 },
        fill: "tonexty", fillcolor: css("--band"), hoverinfo: "skip", name: "spread (±stddev or min–max)" },
      { x: p.i, y: y, customdata: custom, mode: p.i.length > 400 ? "lines" : "lines+markers",
        line: { color: accent, width: 1.5 }, marker: { size: 4, color: accent }, name: card.dataset.measure,
        hovertemplate: "%{y:.4g} " + esc(scale[1]) + "<br>%{customdata[0]} · %{customdata[3]}" +
          "<br>%{customdata[2]}<br>%{customdata[1]}<extra></extra>" },
      { x: alerts.map(function (a) { return a.i; }), y: alerts.map(function (a) { return y[pos[a.i]]; }),
        customdata: alerts.map(function (a) { return custom[pos[a.i]]; }),
        mode: "markers", name: "change points (alerts)",
        marker: { size: 14, symbol: alerts.map(function (a) { return a.is_regression ? "triangle-up" : "triangle-down"; }),
                  color: alerts.map(function (a) { return a.is_regression ? bad : good; }),
                  line: { width: 1, color: css("--fg") } },
        text: alerts.map(function (a) { return (a.is_regression ? "regression " : "improvement ") + (a.rel_change * 100).toFixed(1) + "% · " + a.status; }),
        hovertemplate: "%{text}<br>%{customdata[0]}<br>%{customdata[1]}<extra></extra>" },
      { x: notes.map(function (a) { return a.i; }), y: notes.map(function (a) { return y[pos[a.i]]; }),
        customdata: notes.map(function (a) { return custom[pos[a.i]]; }),
        mode: "markers", name: "known changes / notes",
        marker: { size: 13, symbol: "diamond-open", color: warn, line: { width: 2 } },
        text: notes.map(function (a) { return esc(a.kind.replace("_", " ") + ": " + a.note); }),
        hovertemplate: "%{text}<br>%{customdata[0]}<extra></extra>" },
    ] };
  }

  function layout(card, unitLabel, range, log) {
    var fg = css("--fg"), grid = css("--line");
    return {
      margin: { l: 70, r: 20, t: 10, b: 45 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: fg }, hovermode: "closest", dragmode: "zoom", showlegend: true,
      legend: { orientation: "h", y: -0.15 },
      xaxis: { title: { text: "commits along the branch (oldest → newest)" }, gridcolor: grid,
               zeroline: false, range: range || undefined, autorange: range ? false : true },
      yaxis: { title: { text: card.dataset.measure + " (" + unitLabel + ")" }, gridcolor: grid,
               type: log ? "log" : "linear", zeroline: false },
      hoverlabel: { align: "left" },
    };
  }

  function load(card, start, end) {
    var url = card.dataset.plotUrl + "?max=1500" +
      (start != null ? "&start=" + start + "&end=" + end : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }

  function draw(card, data, range) {
    var div = card.querySelector(".plot"), t = traces(data, card);
    card._data = data;
    var status = card.querySelector(".plot-status");
    status.textContent = data.total + " points" + (data.full_resolution ? "" :
      ", " + data.points.i.length + " shown (downsampled; zoom in for full resolution)");
    var config = { responsive: true, displaylogo: false, scrollZoom: false };
    return Plotly.react(div, t.list, layout(card, t.unitLabel, range, card._log), config);
  }

  function showPoint(card, point) {
    var p = card._data.points, n = p.i.indexOf(point.x);
    if (n < 0) return;
    // Built with textContent from the raw fields: user text never becomes markup.
    var box = card.querySelector(".point-detail");
    box.textContent = "";
    var head = document.createElement("p"), strong = document.createElement("strong");
    strong.textContent = point.y.toPrecision(4) + " ";
    head.append(strong, p.sha[n].slice(0, 10) + " · " + when(p.time[n]) + " · " + (p.author[n] || "unknown"));
    var msg = document.createElement("p");
    msg.textContent = p.message[n];
    var links = document.createElement("p"), run = document.createElement("a");
    run.href = card.dataset.runUrl.replace(/\/0$/, "/" + p.run_id[n]);
    run.textContent = "Open run " + p.run_id[n];
    links.appendChild(run);
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
    var div = card.querySelector(".plot"), busy = null;
    div.on("plotly_click", function (ev) { if (ev.points.length) showPoint(card, ev.points[0]); });
    div.on("plotly_relayout", function (ev) {
      if (card._quiet) return;
      var lo = ev["xaxis.range[0]"], hi = ev["xaxis.range[1]"];
      if (ev["xaxis.autorange"]) { refetch(card, null); return; }
      if (lo == null || hi == null) return;
      // A drag-zoom is no preset range: no range button is pressed any more.
      card.querySelectorAll("[data-range]").forEach(function (o) { o.setAttribute("aria-pressed", "false"); });
      clearTimeout(busy);
      busy = setTimeout(function () { refetch(card, [lo, hi]); }, 150);
    });
    var ranges = card.querySelectorAll("[data-range]");
    ranges.forEach(function (b) {
      b.addEventListener("click", function () {
        var total = card._data.total, n = b.dataset.range;
        ranges.forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
        refetch(card, n === "all" ? null : [Math.max(0, total - Number(n)) - 0.5, total - 0.5]);
      });
    });
    var logButton = card.querySelector("[data-log]");
    logButton.addEventListener("click", function () {
      card._log = !card._log;
      logButton.setAttribute("aria-pressed", String(card._log));
      Plotly.relayout(div, { "yaxis.type": card._log ? "log" : "linear", "yaxis.autorange": true });
    });
  }

  function refetch(card, range) {
    var start = range ? Math.max(0, Math.round(range[0])) : null;
    var end = range ? Math.ceil(range[1]) + 1 : null;
    return load(card, start, end).then(function (data) {
      card._quiet = true;
      return draw(card, data, range).then(function () { card._quiet = false; });
    }).catch(function (err) { fail(card, err); });
  }

  function fail(card, err) {
    card.querySelector(".plot-tools").hidden = false;  // shows the status line
    card.querySelector(".plot-status").textContent = "Could not load the series: " + err.message;
    card.dataset.rendered = "error";
  }

  function init(card) {
    pending += 1;
    (card._first || load(card)).then(function (data) { return draw(card, data, null); })
      .then(function () {
        wire(card);
        card.querySelector(".plot-tools").hidden = false;  // the buttons need this script
        card.dataset.rendered = "true";
      })
      .catch(function (err) { fail(card, err); })
      .then(function () {
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
    if (typeof Plotly === "undefined") {
      document.querySelectorAll(".plot-status").forEach(function (s) {
        s.closest(".plot-tools").hidden = false;
        s.textContent = "The plotting library did not load (run scripts/install-assets on the server).";
      });
      return;
    }
    var cards = document.querySelectorAll("[data-plot-url]");
    if (!cards.length) document.body.dataset.plotsReady = "true";
    cards.forEach(init);
  });
})();
