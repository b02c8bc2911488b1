// model_db_fuzz.cpp — the model database loader over one arbitrary data/models-style file (with
// the real GPU catalog), then the routes that read the database: GET /known-architectures,
// GET /models/{id} and an estimate of each of the first entries.
// Invariants: no internal errors; a database that loads serves answers that are never 5xx and
// whose JSON has no NaN/Infinity and no negative size.
// fuzz-options: -max_len=65536 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "router.hpp"

using namespace vllm_mem;

namespace {

void check(const http::router& router, std::string_view method, const std::string& target,
           const std::string& body, std::string_view input) {
  http::request req;
  req.method = method;
  req.target = target;
  req.body = body;
  req.content_type = "application/json";
  const http::response res = router.handle(req);
  if (res.status >= 500) fuzz::fail(target + " answered " + std::to_string(res.status), input);
  const auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_discarded()) fuzz::fail(target + " answered text that is not JSON", res.body);
  if (res.status == 200) fuzz::check_numbers(j, "", input, res.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string_view gpus_text = [] {
    for (const auto& f : embedded_files())
      if (f.name == "data/gpus.json") return f.text;
    fuzz::fail("no embedded data/gpus.json");
  }();
  const std::string_view text = fuzz::as_text(data, size);
  auto cats = load_catalogs({{"data/models/fuzz.json", text}, {"data/gpus.json", gpus_text}});
  if (!cats) {
    fuzz::check_error(cats.err(), text);
    return 0;
  }
  const http::router router(*cats, {}, {});
  check(router, "GET", "/known-architectures", "", text);
  std::size_t n = 0;
  for (const auto& e : cats->models.entries()) {
    if (++n > 4) break;
    check(router, "GET", "/models/" + e.id, "", text);
    nlohmann::json body = {{"model_name", e.id}, {"max_seq_len", 2048}, {"gpu", "H100-80GB"}};
    check(router, "POST", "/estimate-gpu-memory", body.dump(), text);
  }
  return 0;
}
