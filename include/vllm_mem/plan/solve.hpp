// plan/solve.hpp — reverse solves for one GPU setup: the largest context, the most sequences,
// the smallest --gpu-memory-utilization, the fewest GPUs.
//
// Contract: the solves search the forward model (binary search over estimate()), so the value
// found fits and the next step (one block more context, one more sequence, 0.001 less
// utilization, the next smaller GPU count) does not; the check is part of the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vllm_mem/ingest/gpu_catalog.hpp"
#include "vllm_mem/ingest/model_db.hpp"
#include "vllm_mem/plan/setup.hpp"
#include "vllm_mem/util/result.hpp"

namespace vllm_mem {

enum class solve_kind : std::uint8_t {
  max_model_len,               // largest max_model_len that starts (and holds the batch)
  max_concurrency,             // largest --max-num-seqs whose sequences all fit at the context
  min_gpu_memory_utilization,  // smallest --gpu-memory-utilization (step 0.001) that fits
  min_gpus                     // fewest GPUs of the type that fit
};
const char* solve_kind_name(solve_kind k);

struct solve_request {
  plan_request setup;  // gpu or gpu_memory_gib required; num_gpus or tp/pp (default 1 GPU)
  std::vector<solve_kind> solves;  // empty: all
};

struct solved {
  solve_kind kind = solve_kind::max_model_len;
  bool found = false;
  double value = 0;        // tokens, sequences, fraction or GPUs
  double next = 0;         // the next step beyond the value (checked: does not fit)
  bool next_fits = false;  // false when found (the check)
  std::string next_limiting_factor;
  std::string reason;                   // why, when not found; what limits it, when found
  std::optional<plan_option> at_value;  // the setup at the value
  // max_model_len only: the largest context that starts, ignoring the batch (vLLM's own
  // "estimated maximum model length") when a batch was asked for.
  std::optional<std::uint64_t> starts_value;
};

struct solve_result {
  plan_option setup;  // the fixed setup at the request's workload
  std::vector<solved> solves;
};

result<solve_result> solve(const solve_request& r, const model_db& db, const gpu_catalog& gpus);

}  // namespace vllm_mem
