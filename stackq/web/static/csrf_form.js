// Forms on cached pages (marked data-csrf-cookie) get the visitor's own CSRF token from
// its cookie when sent, so the cached page itself holds no visitor's token.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-csrf-cookie")) return;
    var match = document.cookie.match(/(?:^|;\s*)csrf_token=([^;]*)/);
    form.elements.csrf_token.value = match ? decodeURIComponent(match[1]) : "";
  });
})();
