// vllm_command_fuzz.cpp — the `vllm serve` line reader over arbitrary text (shell quoting, launch
// forms, flags, JSON-valued flags, Kubernetes args, environment assignments), then the merge into
// an estimate request and the estimate itself through the router.
// Invariants: the reader answers fields as an object or an error naming the field with a message;
// every ignored flag has its reason; the estimate of a command is never a 5xx, and its errors are
// {"detail", "field"}.
// fuzz-options: -max_len=4096 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "router.hpp"
#include "vllm_mem/api/vllm_command.hpp"

using namespace vllm_mem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const http::router router(fuzz::embedded());
  const std::string_view text = fuzz::as_text(data, size);
  const auto c = parse_vllm_command(text, "vllm_command");
  if (!c) {
    if (c.err().message.empty() || c.err().field.empty())
      fuzz::fail("a refusal without a message or field", text);
    return 0;
  }
  if (!c->fields.is_object()) fuzz::fail("fields that are not an object", text);
  for (const auto& i : c->ignored) {
    if (i.flag.empty() || i.reason.empty()) fuzz::fail("an ignored flag without its reason", text);
  }
  // The whole request path: a command that parses is estimated (or refused) like any body.
  const nlohmann::json body = {{"vllm_command", std::string(text)}, {"gpu", "H100-80GB"}};
  http::request req;
  req.method = "POST";
  req.target = "/estimate-gpu-memory";
  const std::string dumped = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  req.body = dumped;
  req.content_type = "application/json";
  req.accept = "application/json";
  const http::response res = router.handle(req);
  if (res.status < 200 || res.status >= 500)
    fuzz::fail("status " + std::to_string(res.status), std::string(text) + "\n" + res.body);
  const auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_discarded()) fuzz::fail("a JSON answer that does not parse", res.body);
  fuzz::check_api_json(j, res.status, text, res.body);
  return 0;
}
