// The live task page. Each `task` notice for this task (notify.js's "stackq:message" event)
// moves the bar and adds its log line at once, and the page stops reloading itself (its
// <meta http-equiv="refresh">, there for browsers without JavaScript). If the socket drops,
// the page reloads once it is back (or, if it stays down, once the server answers); when
// the task ends, the browser goes to the form headed by how it ended. Everything comes from
// the page's data- attributes: no inline script.
// Two safety nets: what happened between the page's rendering and the socket's opening is
// read once from the task's JSON (/api/tasks/{id}), and a page that hears nothing for a
// long while reloads (a task put back in the queue, or cancelled elsewhere before it ran).
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
  var apiUrl = box.getAttribute("data-api-url");
  var linesShown = Number(box.getAttribute("data-log-total")) || 0;
  var root = document.documentElement;
  var QUIET = 15;  // times the reload interval: silence after which the page reloads
  var DROPPED = 5;  // times the reload interval: a dropped socket not back by then, reload
  var live = false;
  var heard = false;  // a notice came since the socket opened
  var dropped = false;  // the socket closed after the page went live
  var quiet = null;
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
    listen();
    catchUp();
  }

  function listen() {
    if (quiet !== null) clearTimeout(quiet);
    quiet = setTimeout(function () { location.reload(); }, QUIET * interval * 1000);
  }

  function catchUp() {
    if (!apiUrl || !window.fetch) return;
    fetch(apiUrl + "?log_offset=" + linesShown, {headers: {Accept: "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (task) {
        if (!task || heard) return;  // a notice came first, and it is newer
        var lines = task.log.lines;
        lines.forEach(function (line) { append(line.line, line.at); });
        show({state: task.state, progress: task.progress,
              line: lines.length ? lines[lines.length - 1].line : null}, false);
      })
      .catch(function () {});  // the notices and the reloads still tell
  }

  function reloadWhenServed() {
    // The socket is still down: reload as the meta refresh would, but only once the server
    // answers, so a page never ends on the browser's "site can't be reached".
    if (!window.fetch) return location.reload();
    fetch(location.href, {method: "HEAD", cache: "no-store"}).then(
      function () { location.reload(); },
      function () { setTimeout(reloadWhenServed, interval * 1000); });
  }

  function watchSocket() {
    var state = root.getAttribute("data-ws-state");
    if (state === "open") {
      // Back after a drop (a new server took the socket): notices sent meanwhile are lost,
      // the server's page has them.
      if (dropped) location.reload();
      else goLive();
    } else if (state === "closed" && live) {
      dropped = true;
      setLive(false);
      if (quiet !== null) clearTimeout(quiet);
      // Not sooner: a server that is stopping still answers on open connections.
      setTimeout(reloadWhenServed, DROPPED * interval * 1000);
    }
  }

  function seconds(left) {
    if (left < 60) return left + " s";
    return Math.floor(left / 60) + " min" + (left % 60 ? " " + (left % 60) + " s" : "");
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

  function append(line, at) {
    var now = at || new Date().toISOString().replace(/\.\d+Z$/, "Z");
    linesShown += 1;
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

  function show(notice, heardNow) {
    var progress = Math.max(0, Math.min(1, Number(notice.progress) || 0));
    var percent = Math.floor(progress * 100 + 1e-9) + " %";
    bar.value = progress;
    bar.textContent = percent;
    if (percentText) percentText.textContent = percent;
    if (pagesText && planned) {
      pagesText.textContent = Math.round(progress * planned) + " of " + planned + " pages";
    }
    if (notice.line && heardNow !== false) append(notice.line);
    var was = box.getAttribute("data-task-state");
    box.setAttribute("data-task-state", notice.state);
    if (notice.state === "done" || notice.state === "failed" || notice.state === "cancelled") {
      location.assign(finishedUrl);
    } else if (notice.state === "pending") {
      // Put back in the queue (a worker stopped, or died): the server's page says why.
      if (was !== "pending") location.reload();
    } else if (stateText && !stopping && notice.state === "running") {
      stopCountdown();
      stateText.textContent = notice.line && apiWait.test(notice.line)
        ? "waiting for a free API slot" : "running";
    }
  }

  document.addEventListener("stackq:message", function (event) {
    var notice = event.detail;
    if (!notice || notice.type !== "task" || notice.task_id !== taskId) return;
    if (dropped) return;  // a reload is on its way
    goLive();  // a notice came: the socket is open
    heard = true;
    listen();
    show(notice);
  });

  var startsIn = Number(box.getAttribute("data-starts-in")) || 0;
  // A task put back to wait for the quota: the server's text says why and until when.
  var deferred = stateText && stateText.textContent.indexOf("waiting: ") === 0;
  if (startsIn > 0 && stateText && !deferred) startCountdown(startsIn);
  new MutationObserver(watchSocket).observe(root, {attributes: true,
                                                   attributeFilter: ["data-ws-state"]});
  watchSocket();
})();
