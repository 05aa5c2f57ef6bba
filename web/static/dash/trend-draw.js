// Canvas layers of the trend plot, drawn by uPlot's draw hook (see trend.js):
// change points as lines with their levels, hollow outliers and noisy runs, re-run dots
// and the alert/annotation markers. Each layer also records what it drew on the card, for
// people reading the status line and for the browser tests.
(function () {
  "use strict";
  var R = function () { return devicePixelRatio; };
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function pct(r) { return (r >= 0 ? "+" : "−") + Math.abs(r * 100).toFixed(1) + "%"; }  // as format_pct
  function clip(u, ctx) {
    var b = u.bbox;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
  }
  // Canvas y of value v, held inside the plotting area; clamped says it was outside.
  function clampY(u, v, pad) {
    var y = u.valToPos(v, "y", true), b = u.bbox;
    if (!isFinite(y)) return null;
    var top = b.top + pad, bottom = b.top + b.height - pad;
    return { y: Math.min(bottom, Math.max(top, y)), clamped: y < top || y > bottom };
  }

  // A detected change (an active alert): a vertical line at its first changed commit, the
  // level before as a segment from the previous change (or the first point) and the level
  // after up to the next one (or the last point), and the change in % beside the line.
  function changes(card) {
    return function (u) {
      var ctx = u.ctx, b = u.bbox, r = R(), xs = u.data[0], out = [];
      var alerts = card._data.alerts.filter(function (a) { return a.i in card._pos && a.kind !== "drift"; })
        .sort(function (a, c) { return a.i - c.i; });
      clip(u, ctx);
      drifts(card, u);
      alerts.forEach(function (a, k) {
        var x = u.valToPos(xs[card._pos[a.i]], "x", true);
        if (!isFinite(x)) return;
        var from = k ? u.valToPos(xs[card._pos[alerts[k - 1].i]], "x", true) : u.valToPos(xs[0], "x", true);
        var to = k + 1 < alerts.length ? u.valToPos(xs[card._pos[alerts[k + 1].i]], "x", true)
          : u.valToPos(xs[xs.length - 1], "x", true);
        var color = css(a.is_regression ? "--bad" : "--good"), label = pct(a.rel_change);
        ctx.strokeStyle = color; ctx.fillStyle = color;
        ctx.lineWidth = 1.5 * r; ctx.setLineDash([]);
        ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
        ctx.lineWidth = 2 * r; ctx.setLineDash([6 * r, 4 * r]);
        [[from, x, a.before], [x, to, a.after]].forEach(function (seg) {
          var y = u.valToPos(seg[2] / card._k, "y", true);
          if (!isFinite(y)) return;
          ctx.beginPath(); ctx.moveTo(seg[0], y); ctx.lineTo(seg[1], y); ctx.stroke();
        });
        ctx.setLineDash([]);
        ctx.font = "600 " + 12 * r + "px system-ui, sans-serif";
        var w = ctx.measureText(label).width, lx = x + 5 * r + w > b.left + b.width ? x - 5 * r - w : x + 5 * r;
        ctx.fillStyle = css("--bg"); ctx.fillRect(lx - 2 * r, b.top + 3 * r, w + 4 * r, 16 * r);
        ctx.fillStyle = color; ctx.fillText(label, lx, b.top + 15 * r);
        out.push({ i: a.i, x: x / r - b.left / r, label: label, before: a.before, after: a.after, status: a.status });
      });
      ctx.restore();
      card._changeLines = out;
      u.root.parentNode.dataset.changePoints = String(out.length);
    };
  }

  // A drift alert: the level ramped over a range of commits, with no one commit to blame.
  // Shaded from its first to its last commit, with the change in % at the top.
  function drifts(card, u) {
    var ctx = u.ctx, b = u.bbox, r = R(), xs = u.data[0], out = [];
    card._data.alerts.forEach(function (a) {
      if (a.kind !== "drift" || !(a.i in card._pos)) return;
      var end = a.end_i != null && a.end_i in card._pos ? a.end_i : a.i;
      var x0 = u.valToPos(xs[card._pos[a.i]], "x", true), x1 = u.valToPos(xs[card._pos[end]], "x", true);
      if (!isFinite(x0) || !isFinite(x1)) return;
      var color = css(a.is_regression ? "--bad" : "--good"), label = "drift " + pct(a.rel_change);
      ctx.globalAlpha = 0.13; ctx.fillStyle = color;
      ctx.fillRect(x0, b.top, Math.max(x1 - x0, 2 * r), b.height);
      ctx.globalAlpha = 1;
      ctx.font = "600 " + 12 * r + "px system-ui, sans-serif";
      ctx.fillStyle = color; ctx.fillText(label, x0 + 4 * r, b.top + 15 * r);
      out.push({ i: a.i, end: end, x0: x0 / r - b.left / r, x1: x1 / r - b.left / r, label: label });
    });
    card._driftRanges = out;
    u.root.parentNode.dataset.drifts = String(out.length);
  }

  // Outliers and points whose runs all failed their pre-flight checks: hollow circles,
  // left out of the y range (trend.js nulls them in the plotted series) and held at the
  // edge with an arrow when they fall outside it.
  function hollow(card) {
    return function (u) {
      var p = card._data.points, ctx = u.ctx, r = R(), rad = 4.5 * r, out = [];
      clip(u, ctx);
      ctx.lineWidth = 1.5 * r;
      p.i.forEach(function (i, n) {
        var why = p.noisy && p.noisy[n] ? "noisy machine" : (p.outlier && p.outlier[n] ? "outlier" : null);
        if (!why || p.value[n] == null) return;
        var x = u.valToPos(u.data[0][n], "x", true), at = clampY(u, p.value[n] / card._k, rad + 8 * r);
        if (!isFinite(x) || at === null) return;
        ctx.strokeStyle = css(why === "outlier" ? "--warn" : "--muted");
        ctx.fillStyle = css("--bg");
        ctx.beginPath(); ctx.arc(x, at.y, rad, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
        if (at.clamped) {
          var up = u.valToPos(p.value[n] / card._k, "y", true) < at.y, tip = up ? at.y - rad - 7 * r : at.y + rad + 7 * r;
          var base = up ? at.y - rad - 1 * r : at.y + rad + 1 * r;
          ctx.beginPath(); ctx.moveTo(x, tip); ctx.lineTo(x - 4 * r, base); ctx.lineTo(x + 4 * r, base); ctx.closePath();
          ctx.fillStyle = ctx.strokeStyle; ctx.fill();
        }
        out.push({ i: i, n: n, why: why, clamped: at.clamped });
      });
      ctx.restore();
      card._hollow = out;
      u.root.parentNode.dataset.hollow = String(out.length);
    };
  }

  // A commit measured more than once (re-run, confirmation, bisection) is one point; its
  // runs are drawn as small dots at the commit's x, hollow when the run's machine was noisy.
  function runs(card) {
    return function (u) {
      var p = card._data.points, ctx = u.ctx, r = 2 * R(), drawn = 0;
      var noisy = new Set(p.noisy_runs || []);
      clip(u, ctx);
      ctx.fillStyle = css("--fg"); ctx.strokeStyle = css("--fg"); ctx.lineWidth = R();
      (p.run_values || []).forEach(function (values, n) {
        if (values.length < 2) return;
        var x = u.valToPos(u.data[0][n], "x", true);
        values.forEach(function (v, k) {
          if (v == null) return;
          var y = u.valToPos(v / card._k, "y", true);
          if (!isFinite(x) || !isFinite(y)) return;
          ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
          if (noisy.has(p.runs[n][k])) ctx.stroke(); else ctx.fill();
          drawn += 1;
        });
      });
      ctx.restore();
      u.root.parentNode.dataset.runDots = String(drawn);
    };
  }

  function marks(card) {
    return function (u) {
      var ctx = u.ctx, r = 7 * R(), p = card._data.points;
      clip(u, ctx);
      card._marks.forEach(function (m) {
        var x = u.valToPos(u.data[0][m.n], "x", true), y = u.valToPos(p.value[m.n] / card._k, "y", true);
        if (!isFinite(x) || !isFinite(y)) return;
        ctx.beginPath();
        if (m.shape === "up") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r * 0.8); ctx.lineTo(x - r, y + r * 0.8); }
        else if (m.shape === "down") { ctx.moveTo(x, y + r); ctx.lineTo(x + r, y - r * 0.8); ctx.lineTo(x - r, y - r * 0.8); }
        else { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); }
        ctx.closePath();
        ctx.fillStyle = css(m.color); ctx.fill();
        ctx.lineWidth = R(); ctx.strokeStyle = css("--fg"); ctx.stroke();
      });
      ctx.restore();
    };
  }

  window.benchwardenTrendDraw = { changes: changes, hollow: hollow, runs: runs, marks: marks, pct: pct, css: css };
})();
