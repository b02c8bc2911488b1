// http_get.hpp — one bounded HTTP GET with libcurl (internal to src/hub).
//
// Contract: `http_get` performs exactly one request (redirects are returned, never followed),
// with the connect and total timeouts given, an optional inclusive byte range, a bearer token when
// one is given, and a cap on the body: a larger body stops the transfer and sets `too_large`.
// Only http and https URLs are allowed. Thread-safe (one curl handle per call).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace vllm_mem::hub {

struct http_get_request {
  std::string url;
  std::string token;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> range;  // first and last byte
  std::size_t max_bytes = 1 << 20;
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 20000;
};

struct http_get_response {
  bool transport_ok =
      false;  // false: no HTTP answer (DNS, connect, timeout): see `transport_error`
  std::string transport_error;
  bool too_large = false;
  long status = 0;
  std::string body;
  std::string location;       // Location header
  std::string error_code;     // X-Error-Code (the Hub's RepoNotFound, GatedRepo, EntryNotFound)
  std::string error_message;  // X-Error-Message
  std::string content_range;  // Content-Range
};

http_get_response http_get(const http_get_request& r);

}  // namespace vllm_mem::hub
