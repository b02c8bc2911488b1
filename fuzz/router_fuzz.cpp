// router_fuzz.cpp — the pure router (all routes) over an arbitrary request: the input's first
// line is "METHOD TARGET", the rest is the body (sent as application/json). The router is built
// once over the embedded catalogs, without a Hub lookup (no network).
// Invariants: never a 5xx; every JSON answer parses (POST /mcp: JSON-RPC replies, below), has no
// NaN/Infinity (nlohmann writes them as null, so sizes must be numbers), no negative size or count;
// errors are {"detail", "field"}. fuzz-options: -max_len=8192 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "router.hpp"

using namespace vllm_mem;

namespace {

// POST /mcp answers JSON-RPC: each reply has a result or an error with a code and a message.
// tools/list carries JSON Schemas, whose keywords may be negative, so only the API answers inside
// tool results are held to the numbers rule.
void check_mcp(const nlohmann::json& j, std::string_view input, std::string_view body) {
  auto one = [&](const nlohmann::json& reply) {
    if (!reply.is_object()) fuzz::fail("a JSON-RPC reply that is not an object", body);
    const auto err = reply.find("error");
    const auto result = reply.find("result");
    if (err != reply.end()) {
      if (!err->is_object() || !err->contains("code") || !err->contains("message"))
        fuzz::fail("a JSON-RPC error without code and message", body);
      return;
    }
    if (reply.contains("detail")) return;  // an HTTP-level refusal (405, 403)
    if (result == reply.end()) fuzz::fail("a JSON-RPC reply without result or error", body);
    if (!result->is_object()) return;
    if (const auto sc = result->find("structuredContent"); sc != result->end())
      fuzz::check_numbers(*sc, "", input, body);
  };
  if (j.is_array()) {
    for (const auto& r : j) one(r);
  } else {
    one(j);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const http::router router(fuzz::embedded());
  const std::string_view input = fuzz::as_text(data, size);
  const auto eol = input.find('\n');
  const std::string_view line = input.substr(0, eol);
  const std::string_view body = eol == input.npos ? std::string_view{} : input.substr(eol + 1);
  const auto sp = line.find(' ');
  http::request req;
  req.method = line.substr(0, sp);
  req.target = sp == line.npos ? std::string_view{} : line.substr(sp + 1);
  req.body = body;
  req.content_type = "application/json";
  req.accept = "application/json";

  const http::response res = router.handle(req);
  if (res.status < 200 || res.status >= 500)
    fuzz::fail("status " + std::to_string(res.status), std::string(input) + "\n" + res.body);
  if (res.content_type != "application/json") return 0;  // the web page's files
  if (res.status == 202 && res.body.empty()) return 0;   // an MCP notification, accepted
  const auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_discarded()) fuzz::fail("a JSON answer that does not parse", res.body);
  // The route is the target's path: "/mcp?x" is the MCP endpoint too.
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (path == "/mcp" && req.method == "POST") {
    check_mcp(j, input, res.body);
    return 0;
  }
  fuzz::check_api_json(j, res.status, input, res.body);
  return 0;
}
