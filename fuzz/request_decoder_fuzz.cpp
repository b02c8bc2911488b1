// request_decoder_fuzz.cpp — the request decoders: parse_json_strict over arbitrary bytes, then
// the /estimate-gpu-memory decoder and the planner's (/plan, /solve, /placement, /sweep).
// Invariants: strict parsing agrees with nlohmann's own parser on every document it accepts, the
// one-pass reader builds the same DOM as the checked path, and no decoder returns an internal
// error or an error without a message.
// fuzz-options: -max_len=8192 -dict=fuzz/json.dict
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "vllm_mem/api/estimate_json.hpp"
#include "vllm_mem/api/plan_json.hpp"
#include "vllm_mem/estimate/estimate.hpp"
#include "vllm_mem/util/json_limits.hpp"

using namespace vllm_mem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  auto parsed = parse_json_strict(text);
  if (!parsed) {
    fuzz::check_error(parsed.err(), text);
    return 0;
  }
  const nlohmann::json& j = *parsed;
  // Whatever the strict parser accepts, nlohmann accepts with the same value.
  const auto reference = nlohmann::json::parse(text, nullptr, false);
  if (reference.is_discarded() || reference != j)
    fuzz::fail("parse_json_strict accepted what nlohmann reads differently", text);
  nlohmann::json fast;
  if (parse_json_fast(text, json_limits{}, fast) && fast != j)
    fuzz::fail("parse_json_fast and parse_json_strict disagree", text);

  const gpu_catalog& gpus = fuzz::embedded().gpus;
  if (auto r = parse_estimate_request(j); !r) fuzz::check_error(r.err(), text);
  if (auto r = parse_plan_request(j, gpus); !r) fuzz::check_error(r.err(), text);
  if (auto r = parse_solve_request(j, gpus); !r) fuzz::check_error(r.err(), text);
  if (auto r = parse_placement_request(j, gpus); !r) fuzz::check_error(r.err(), text);
  if (auto r = parse_sweep_request(j, gpus); !r) fuzz::check_error(r.err(), text);
  return 0;
}
