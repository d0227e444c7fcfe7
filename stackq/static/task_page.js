// The live task page. Each `task` notice for this task (notify.js's "stackq:message" event)
// moves the bar and adds its log line at once, and the page stops reloading itself (its
// <meta http-equiv="refresh">, there for browsers without JavaScript). If the socket drops,
// the page goes back to reloading; when the task ends, the browser goes to the form headed
// by how it ended. Everything comes from the page's data- attributes: no inline script.
(function () {
  "use strict";

  var box = document.getElementById("task");
  if (!box || box.getAttribute("data-live") !== "true") return;
  var taskId = Number(box.getAttribute("data-task-id"));
  var interval = Number(box.getAttribute("data-refresh")) || 2;
  var planned = Number(box.getAttribute("data-planned")) || 0;
  var keep = Number(box.getAttribute("data-last-lines")) || 0;
  var apiWait = new RegExp(box.getAttribute("data-api-wait"));
  var stopping = box.hasAttribute("data-cancel-requested");
  var finishedUrl = box.getAttribute("data-finished-url");
  var bar = box.querySelector("progress");
  var pagesText = box.querySelector(".task-pages");
  var percentText = box.querySelector(".task-percent");
  var stateText = box.querySelector(".task-state");
  var log = box.querySelector(".task-log");
  var root = document.documentElement;
  var live = false;
  var reloading = null;
  var countdown = null;

  function setLive(on) {
    live = on;
    box.setAttribute("data-live-updates", on ? "on" : "off");
  }

  function goLive() {
    if (live) return;
    var meta = document.querySelector('meta[http-equiv="refresh"]');
    if (meta) {
      // Removing the element does not cancel a refresh already scheduled; stop() does.
      window.stop();
      meta.remove();
    }
    setLive(true);
  }

  function reloadSoon() {
    // As the meta refresh would: the server's page says where the task is now.
    if (reloading === null) {
      reloading = setTimeout(function () { location.reload(); }, interval * 1000);
    }
  }

  function watchSocket() {
    var state = root.getAttribute("data-ws-state");
    if (state === "open" && reloading === null) {
      goLive();
    } else if (state === "closed" && live) {
      // Notices sent while the socket is down are lost: reload even if it comes back.
      setLive(false);
      reloadSoon();
    }
  }

  function seconds(left) {
    return left < 60 ? left + " s" : Math.floor(left / 60) + " min" + (left % 60 ? " " + left % 60 + " s" : "");
  }

  function startCountdown(startsIn) {
    var from = Date.now();
    countdown = setInterval(function () {
      var left = Math.ceil(startsIn - (Date.now() - from) / 1000);
      stateText.textContent = left > 0 ? "waiting to start in " + seconds(left) : "starting\u2026";
      if (left <= 0) stopCountdown();
    }, 1000);
  }

  function stopCountdown() {
    if (countdown !== null) clearInterval(countdown);
    countdown = null;
  }

  function append(line) {
    var now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    var item = document.createElement("li");
    var time = document.createElement("time");
    time.dateTime = now;
    time.textContent = now.slice(11, 19);
    item.appendChild(time);
    item.appendChild(document.createTextNode(" " + line));
    log.appendChild(item);
    while (keep && log.children.length > keep) {
      log.removeChild(log.firstElementChild);
      log.start = log.start + 1;
    }
  }

  function show(notice) {
    var progress = Math.max(0, Math.min(1, Number(notice.progress) || 0));
    var percent = Math.floor(progress * 100 + 1e-9) + " %";
    bar.value = progress;
    bar.textContent = percent;
    if (percentText) percentText.textContent = percent;
    if (pagesText && planned) {
      pagesText.textContent = Math.round(progress * planned) + " of " + planned + " pages";
    }
    if (notice.line) append(notice.line);
    box.setAttribute("data-task-state", notice.state);
    if (notice.state === "done" || notice.state === "failed" || notice.state === "cancelled") {
      location.assign(finishedUrl);
    } else if (notice.state === "pending") {
      location.reload();  // put back in the queue (a worker stopped): the page says why
    } else if (stateText && !stopping) {
      stopCountdown();
      stateText.textContent = notice.line && apiWait.test(notice.line)
        ? "waiting for a free API slot" : "running";
    }
  }

  document.addEventListener("stackq:message", function (event) {
    var notice = event.detail;
    if (!notice || notice.type !== "task" || notice.task_id !== taskId) return;
    if (reloading !== null) return;  // a reload is on its way
    goLive();  // a notice came: the socket is open
    show(notice);
  });

  var startsIn = Number(box.getAttribute("data-starts-in")) || 0;
  if (startsIn > 0 && stateText) startCountdown(startsIn);
  new MutationObserver(watchSocket).observe(root, {attributes: true,
                                                   attributeFilter: ["data-ws-state"]});
  watchSocket();
})();
