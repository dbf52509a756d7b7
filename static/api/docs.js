// Starts Swagger UI on the API documentation page (api/docs.html); a file, not inline, for the CSP.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  var csrfToken = node.getAttribute("data-csrf-token");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-schema-url"),
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    persistAuthorization: false,
    // "Try it out" with the page's session: Django's CSRF check needs the token on every write.
    requestInterceptor: function (request) {
      request.headers["X-CSRFToken"] = csrfToken;
      return request;
    },
  });
})();
