// The job page: ask the server for the job's state every second and show it, until it ends.
// Without JavaScript the page offers a Refresh link instead.
(function () {
  "use strict";
  var box = document.getElementById("job-status");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-poll");
  var wait = 1000;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        box.innerHTML = job.html;
        if (job.finished) {
          box.setAttribute("data-finished", "1");
        } else {
          wait = 1000;
          window.setTimeout(poll, wait);
        }
      })
      .catch(function () {
        // The server restarted or the network failed: try again more slowly.
        wait = Math.min(wait * 2, 30000);
        window.setTimeout(poll, wait);
      });
  }

  window.setTimeout(poll, wait);
})();
