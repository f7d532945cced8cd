// etl serve: the pages' only script (served from the package, no CDN). Everything shown is in
// the HTML; this only filters the log lines of a run's page as you type.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const filter = document.getElementById("log-filter");
  const logs = document.querySelector("pre.logs");
  if (!filter || !logs) return;
  const lines = logs.textContent.split("\n");
  filter.addEventListener("input", () => {
    const wanted = filter.value.toLowerCase();
    logs.textContent = lines.filter((line) => line.toLowerCase().includes(wanted)).join("\n");
  });
});
