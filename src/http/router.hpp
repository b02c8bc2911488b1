// router.hpp — the HTTP API as a pure function: an HTTP-shaped request in, a response out.
//
// Contract: `router::handle` never throws and never returns 500 for bad input: every client
// error is 400/404/405/413/415 with the body {"detail": "<message naming the field and the
// rule>", "field": "<field or null>"}. Responses that do not depend on the request (GET /,
// GET /known-architectures without filters, GET /gpus, GET /openapi.json) are rendered once at
// construction and served without copying.
// A router is immutable after construction and safe to call from many threads.
// Not here: GET /metrics, and GET /readyz once a shutdown began (503), are answered by the server
// (server.hpp), which owns the counters and the lifecycle; the router stays a pure function of
// the request and the catalogs.
// Models outside the database: when a `model_lookup` is given (the server's --hub), an estimate
// whose model_name the database does not resolve, and whose body does not describe the model
// itself (hf_config, params_billions, a complete architecture), is looked up by its Hub id
// (external_model.hpp); the lookup's errors keep their status (404 not found, 403 gated,
// 424 Hub unreachable). Without a lookup such names are estimated from the name, as before.
//
// The web page (GET /ui, GET /ui/<asset>) is served from the files under web/dist/ in the table
// given at construction (by default the binary's embedded files); HTML answers carry a
// Content-Security-Policy that allows only 'self', and only content-hashed asset names get a
// long cache lifetime.
// POST /mcp is the Model Context Protocol over streamable HTTP (mcp.hpp), its tools answered by
// this router.
// GET /openapi.json answers docs/openapi.json from the same table (its info.version set to the
// binary's), rendered once; GET /docs is web/dist/docs.html, the viewer that shows it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vllm_mem/api/external_model.hpp"
#include "vllm_mem/ingest/catalogs.hpp"

namespace vllm_mem::http {

class mcp_tools;

struct request {
  std::string_view method;
  std::string_view target;  // path and query
  std::string_view body;
  std::string_view content_type;
  std::string_view accept;
  // For POST /mcp (mcp.hpp): the Origin and Host headers, and MCP-Protocol-Version.
  std::string_view origin = {};
  std::string_view host = {};
  std::string_view mcp_protocol_version = {};
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // for 405
  // Extra headers (name, value): Cache-Control, Content-Security-Policy, Location, ...
  std::vector<std::pair<std::string, std::string>> headers;
  // A body rendered once by the router (GET /known-architectures, /gpus): when set, `body` is
  // empty and this is the body; it lives as long as the router.
  std::string_view prerendered;

  std::string_view text() const {
    return prerendered.empty() ? std::string_view(body) : prerendered;
  }
};

// Renders the error envelope.
std::string error_body(std::string_view detail, std::string_view field);

class router {
 public:
  explicit router(const catalogs& c, model_lookup lookup = {},
                  const std::vector<embedded_file>& files = embedded_files());
  // Answers into `out`, reusing its storage (the server keeps one response per connection).
  void handle(const request& r, response& out) const;
  // The same answer as a value, the body always in `body`.
  response handle(const request& r) const;

 private:
  void estimate(std::string_view body, response& out) const;
  response planner(std::string_view path, std::string_view body) const;  // /plan /solve ...
  response known_architectures(std::string_view query) const;
  response model(std::string_view id) const;
  response web_file(std::string_view name) const;

  const catalogs& c_;
  model_lookup lookup_;
  std::string root_body_;
  std::string known_all_body_;
  std::string gpus_body_;
  std::string versions_body_;  // GET /versions (api/estimate_json.hpp versions_json)
  std::string openapi_body_;   // docs/openapi.json with the binary's version; empty when absent
  std::map<std::string, std::string_view, std::less<>> web_files_;  // "index.html" -> contents
  std::shared_ptr<const mcp_tools> mcp_;                            // POST /mcp (mcp.hpp)
};

// True when an asset name carries a content hash: a last stem segment (after '-' or '.') of 8 or
// more upper-case letters and digits (esbuild's "main-5Q3VZK2P.js") or lower-case hex digits
// ("app.3f2a9c1b.css"). Such files never change under their name.
bool is_content_hashed(std::string_view file_name);

std::string url_decode(std::string_view s);

}  // namespace vllm_mem::http
