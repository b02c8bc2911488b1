// http_parser_fuzz.cpp — libFuzzer target: raw bytes as they would arrive on one connection,
// through Beast's request parser with the server's limits and the server's own checks
// (http::parse_request_bytes, the code a session runs). Socket-free.
//
// Checks beyond "no crash, no leak, no hang": a refusal is one of the statuses the server
// answers with and names its reason; the parse is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server.hpp"

namespace {

const vllm_mem::http::server_options& limits() {
  static const vllm_mem::http::server_options opt = [] {
    vllm_mem::http::server_options o;
    // Small enough that the fuzzer reaches every limit with short inputs.
    o.body_limit_bytes = 4096;
    o.header_limit_bytes = 2048;
    o.target_limit_bytes = 256;
    o.max_requests_per_connection = 64;
    return o;
  }();
  return opt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const auto st = vllm_mem::http::parse_request_bytes(raw, limits());
  switch (st.status) {
    case 0:
      break;
    case 400:
    case 408:
    case 413:
    case 414:
    case 415:
    case 431:
    case 501:
      if (st.detail.empty()) std::abort();
      break;
    default:
      std::abort();  // a status the server must never answer to framing
  }
  if (st.requests_accepted > size) std::abort();  // every request takes bytes
  const auto again = vllm_mem::http::parse_request_bytes(raw, limits());
  if (again.status != st.status || again.requests_accepted != st.requests_accepted ||
      again.incomplete != st.incomplete)
    std::abort();
  return 0;
}
