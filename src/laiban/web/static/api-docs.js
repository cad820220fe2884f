// Swagger UI for the Laiban API, served from Laiban itself (no CDN, strict CSP).
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui" });
