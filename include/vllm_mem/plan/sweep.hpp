// plan/sweep.hpp — one setup's figures along the context and the batch (arrays for plots), with
// the fit boundaries solved on the forward model (solve.hpp) when a GPU is given.
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

struct sweep_request {
  plan_request setup;  // the estimate fields; gpu optional (without it: the seed's figures)
  std::vector<std::uint64_t> context_lengths;  // empty: powers of two 1024.. model max
  std::vector<std::uint64_t> batch_sizes;      // empty: powers of two 1..1024
};

struct sweep_point {
  std::uint64_t x = 0;
  estimate_result est;
  std::string error;  // the rule the point breaks (then `est` is empty)
};

struct sweep_result {
  plan_option setup;
  bool has_gpu = false;
  std::optional<std::uint64_t> workload_batch;     // the request's max_batch_size, if any
  std::optional<std::uint64_t> max_model_len_fit;  // solved boundary (has_gpu)
  std::optional<std::uint64_t> max_concurrency_fit;
  std::vector<sweep_point> context;
  std::vector<sweep_point> batch;
};

result<sweep_result> sweep(const sweep_request& r, const model_db& db, const gpu_catalog& gpus);

}  // namespace vllm_mem
