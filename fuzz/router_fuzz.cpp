// router_fuzz.cpp — the pure router (all routes) over an arbitrary request: the input's first
// line is "METHOD TARGET", the rest is the body (sent as application/json). The router is built
// once over the embedded catalogs, without a Hub lookup (no network).
// Invariants: never a 5xx; every JSON answer parses, has no NaN/Infinity (nlohmann writes them as
// null, so sizes must be numbers), no negative size or count; errors are {"detail", "field"}.
// fuzz-options: -max_len=8192 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "router.hpp"

using namespace vllm_mem;

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
  const auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_discarded()) fuzz::fail("a JSON answer that does not parse", res.body);
  if (res.status >= 400) {
    if (!j.is_object() || !j.contains("detail") || !j["detail"].is_string() ||
        j["detail"].get_ref<const std::string&>().empty() || !j.contains("field"))
      fuzz::fail("an error without {\"detail\", \"field\"}", res.body);
    return 0;
  }
  fuzz::check_numbers(j, "", input, res.body);
  return 0;
}
