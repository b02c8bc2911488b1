// router.hpp — the HTTP API as a pure function: an HTTP-shaped request in, a response out.
//
// Contract: `router::handle` never throws and never returns 500 for bad input: every client
// error is 400/404/405/413/415 with the body {"detail": "<message naming the field and the
// rule>", "field": "<field or null>"}. Responses that do not depend on the request (GET /,
// GET /known-architectures without filters, GET /gpus) are rendered once at construction and
// served without copying.
// A router is immutable after construction and safe to call from many threads.
#pragma once

#include <string>
#include <string_view>

#include "vllm_mem/catalogs.hpp"

namespace vllm_mem::http {

struct request {
  std::string_view method;
  std::string_view target;  // path and query
  std::string_view body;
  std::string_view content_type;
  std::string_view accept;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // for 405
  // A body rendered once by the router (GET /, /known-architectures, /gpus): when set, `body` is
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
  explicit router(const catalogs& c);
  // Answers into `out`, reusing its storage (the server keeps one response per connection).
  void handle(const request& r, response& out) const;
  // The same answer as a value, the body always in `body`.
  response handle(const request& r) const;

 private:
  void estimate(std::string_view body, response& out) const;
  response known_architectures(std::string_view query) const;
  response model(std::string_view id) const;

  const catalogs& c_;
  std::string root_body_;
  std::string known_all_body_;
  std::string gpus_body_;
};

std::string url_decode(std::string_view s);

}  // namespace vllm_mem::http
