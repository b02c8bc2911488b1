// docs.js — the page at /docs: Swagger UI (swagger-ui-dist, bundled here and embedded in the
// binary) showing the server's own /openapi.json. Nothing is fetched from another origin: the
// validator badge (validator.swagger.io) is off.
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-bundle.js';
import 'swagger-ui-dist/swagger-ui.css';

SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
  docExpansion: 'list',
});
