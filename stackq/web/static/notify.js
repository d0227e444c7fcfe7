// stackq live notices: one native WebSocket per page, reconnecting by itself.
// "query_updated" notices show in a small panel ("3 new, 5 changed in 'asyncio' — reload ·
// what changed", the last a link to the search's change history);
// every message is also sent to the page as a "stackq:message" event, for other scripts.
(function () {
  "use strict";

  var script = document.currentScript;
  var wsPath = script.getAttribute("data-ws-path") || "/ws";
  // The route of query 0: "0" at the end stands for the id.
  var queryPath = script.getAttribute("data-query-path") || "/queries/0";
  var FIRST_DELAY = 500, MAX_DELAY = 15000;
  var delay = FIRST_DELAY;
  var totals = {};  // query id -> counts added up since this page loaded
  var panel = null;

  function setState(state) {
    document.documentElement.setAttribute("data-ws-state", state);
  }

  function queryUrl(id) {
    return queryPath.replace(/0$/, String(id));
  }

  function describe(t) {
    var parts = [];
    if (t["new"]) parts.push(t["new"] + " new");
    if (t.changed) parts.push(t.changed + " changed");
    if (t.removed) parts.push(t.removed + " removed");
    var what = t.q ? "'" + t.q + "'" : "a search on " + t.site;
    return parts.join(", ") + " in " + what;
  }

  function ensurePanel() {
    if (panel) return panel;
    panel = document.createElement("aside");
    panel.id = "stackq-notices";
    panel.className = "stackq-notices";
    panel.setAttribute("role", "status");
    panel.setAttribute("aria-live", "polite");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "stackq-notices-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () {
      panel.remove();
      panel = null;
      totals = {};
    });
    panel.appendChild(close);
    document.body.appendChild(panel);
    return panel;
  }

  function show(notice) {
    var id = String(notice.query_id);
    var t = totals[id] || {"new": 0, changed: 0, removed: 0, q: notice.q, site: notice.site};
    t["new"] += notice["new"] || 0;
    t.changed += notice.changed || 0;
    t.removed += notice.removed || 0;
    totals[id] = t;

    var box = ensurePanel();
    var line = box.querySelector('[data-query-id="' + id + '"]');
    if (!line) {
      line = document.createElement("p");
      line.setAttribute("data-query-id", id);
      box.appendChild(line);
    }
    line.textContent = "";
    var url = queryUrl(id);
    if (location.pathname === url) {
      // This very search: reload in place, keeping page and sort.
      line.appendChild(document.createTextNode(describe(t) + " \u2014 "));
      var reload = document.createElement("button");
      reload.type = "button";
      reload.className = "stackq-reload";
      reload.textContent = "reload";
      reload.addEventListener("click", function () { location.reload(); });
      line.appendChild(reload);
    } else {
      var link = document.createElement("a");
      link.href = url;
      link.textContent = describe(t) + " \u2014 reload";
      line.appendChild(link);
    }
    // The search's change history: what exactly changed, kept after this page is closed.
    line.appendChild(document.createTextNode(" \u00b7 "));
    var changes = document.createElement("a");
    changes.href = url + "/changes";
    changes.className = "stackq-changes";
    changes.textContent = "what changed";
    line.appendChild(changes);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + location.host + wsPath);
    } catch (error) {
      return retry();
    }
    setState("connecting");
    socket.onopen = function () {
      delay = FIRST_DELAY;
      setState("open");
    };
    socket.onmessage = function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "query_updated") show(message);
      document.dispatchEvent(new CustomEvent("stackq:message", {detail: message}));
    };
    socket.onclose = function () {
      setState("closed");
      retry();
    };
  }

  function retry() {
    // Back off, with jitter so that browsers do not all come back in the same instant.
    var wait = delay * (0.75 + Math.random() / 2);
    delay = Math.min(delay * 2, MAX_DELAY);
    setTimeout(connect, wait);
  }

  if ("WebSocket" in window) connect();
})();
