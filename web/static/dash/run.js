// The run page's log filter: shows only the lines that contain the typed text (any case),
// matches marked. The log is plain text in the page; it only ever goes back as text nodes.
(function () {
  "use strict";
  var MAX_SHOWN = 5000;  // lines drawn at once: a huge log stays responsive
  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("run-log"), box = document.getElementById("log-filter");
    if (!log || !box) return;
    var lines = log.textContent.split("\n"), count = document.getElementById("log-count");
    box.closest(".log-tools").hidden = false;
    function show() {
      var needle = box.value.toLowerCase(), shown = 0, matched = 0, out = document.createDocumentFragment();
      lines.forEach(function (line) {
        var at = needle ? line.toLowerCase().indexOf(needle) : 0;
        if (at < 0) return;
        matched += 1;
        if (shown >= MAX_SHOWN) return;
        shown += 1;
        if (needle) {
          var mark = document.createElement("mark");
          mark.textContent = line.slice(at, at + needle.length);
          out.append(line.slice(0, at), mark, line.slice(at + needle.length), "\n");
        } else {
          out.append(line + "\n");
        }
      });
      log.textContent = "";
      log.appendChild(out);
      log.dataset.shown = String(matched);
      count.textContent = needle ? matched + " of " + lines.length + " lines" +
        (matched > shown ? " (first " + shown + " shown)" : "") : "";
    }
    box.addEventListener("input", show);
  });
})();
