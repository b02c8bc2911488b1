// hf_config_fuzz.cpp — the Hugging Face config.json converter (hf_config.hpp) over arbitrary
// JSON, then the estimate of the converted model (on an H100, so vLLM's startup figures run too).
// Invariants: the canonical JSON of an accepted config parses back as an architecture; no
// internal errors; an estimate's JSON has no NaN/Infinity and no negative size.
// fuzz-options: -max_len=16384 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/ingest/arch_json.hpp"
#include "vllm_mem/ingest/hf_config.hpp"
#include "vllm_mem/util/json_limits.hpp"

using namespace vllm_mem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  auto parsed = parse_json_strict(text);
  if (!parsed) return 0;
  auto c = convert_hf_config(*parsed, "hf_config.");
  if (!c) {
    fuzz::check_error(c.err(), text);
    return 0;
  }
  if (auto back = parse_arch_spec(c->canonical, "canonical."); !back)
    fuzz::fail("the canonical form of an accepted config does not parse: " + back.err().message,
               text);
  const catalogs& cats = fuzz::embedded();
  estimate_request r;
  r.model_name = "fuzz/model";
  r.max_seq_len = 4096;
  r.gpu = "H100-80GB";
  r.hf_config = c->spec;
  r.hf_config_model_type = c->model_type;
  auto e = estimate(r, cats.models, cats.gpus);
  if (!e) {
    fuzz::check_error(e.err(), text);
    return 0;
  }
  std::string body;
  append_json(body, *e);
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) fuzz::fail("an estimate that is not JSON", body);
  fuzz::check_numbers(j, "", text, body);
  return 0;
}
