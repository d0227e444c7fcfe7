// /api/docs: Swagger UI on the app's own OpenAPI document. Offline: no validator badge
// (it would call validator.swagger.io) and nothing else fetched from outside.
(function () {
  "use strict";
  var script = document.currentScript;
  window.ui = SwaggerUIBundle({
    url: script.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
