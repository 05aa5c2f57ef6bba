// Small progressive enhancements shared by every page; pages work without them.
(function () {
  "use strict";
  // Times are rendered in UTC by the server; show them in the viewer's zone, named.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when.getTime())) {
        el.title = el.textContent;
        el.textContent = when.toLocaleString(undefined, {
          year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
          timeZoneName: "short",
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  window.benchwarden = { localTimes: localTimes };
})();
